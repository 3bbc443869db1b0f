// A local S3-compatible server for the tests (s3rver, in this process, on a free
// port, its data in a temporary folder); the code under test talks to it with the
// real AWS SDK, exactly as it would to AWS, R2 or MinIO.

import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** s3rver's fixed credentials: any request signed with others is refused, as AWS would. */
export const S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface TestS3 {
  endpoint: string;
  /** A fresh bucket per call, so that tests do not see each other's objects. */
  bucket(): Promise<string>;
  /** What a gateway process needs to store results in `bucket` (AWS_* included: the SDK reads them from its environment). */
  env(bucket: string): Record<string, string>;
  client: S3Client;
  /** The keys in `bucket` under `prefix` (e.g. "scratch/": queued inputs left behind). */
  keys(bucket: string, prefix: string): Promise<string[]>;
  /** Empties and removes a bucket (a colleague deleting it while gateways run). */
  removeBucket(bucket: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A gateway in this process takes its credentials from process.env through the AWS SDK's chain,
 * as in production; this gives it s3rver's.
 */
export function useS3Credentials(): void {
  process.env.AWS_ACCESS_KEY_ID = S3_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3_CREDENTIALS.secretAccessKey;
}

const removeAtExit = new Set<string>();
process.once("exit", () => {
  for (const directory of removeAtExit) rmSync(directory, { recursive: true, force: true });
});

interface FilesystemStore {
  putObject(...args: unknown[]): Promise<unknown>;
  deleteObject(...args: unknown[]): Promise<unknown>;
}

/**
 * s3rver keeps a key's folders on disk and removes a folder when a delete leaves it empty.
 * A put into that folder at the same moment (a worker storing one job's input while another
 * job's is deleted, both under scratch/) can open its file after the folder went: an ENOENT
 * on a stream nobody listens to, an uncaught exception in this test process. Real S3 has no
 * folders to race on, so the stand-in's writes and deletes are made to take turns.
 */
function serializeWrites(server: S3rver): void {
  const store = (server as unknown as { store: FilesystemStore }).store;
  let turn: Promise<unknown> = Promise.resolve();
  for (const method of ["putObject", "deleteObject"] as const) {
    const original = store[method].bind(store);
    store[method] = (...args) => {
      const done = turn.then(() => original(...args));
      turn = done.catch(() => undefined);
      return done;
    };
  }
}

export async function startTestS3(): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), "retouch-s3-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory });
  serializeWrites(server);
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: S3_CREDENTIALS });
  let buckets = 0;
  return {
    endpoint,
    client,
    async bucket() {
      const name = `results-${process.pid}-${++buckets}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    env: (bucket) => ({
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_REGION: "us-east-1",
      S3_FORCE_PATH_STYLE: "1",
      AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
    }),
    async keys(bucket, prefix) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (listed.Contents ?? []).map((object) => object.Key!);
    },
    async removeBucket(bucket) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      for (const object of listed.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key! }));
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    },
    async close() {
      client.destroy();
      await server.close();
      // Not removed now: requests of a process SIGKILLed just before may still be in s3rver's
      // hands (its connections are gone, its file reads are not), and pulling the files from
      // under them is an uncaught ENOENT in this test process. Removed when the process exits.
      removeAtExit.add(directory);
    },
  };
}
