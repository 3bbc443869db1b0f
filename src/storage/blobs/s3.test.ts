import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { startTestS3, useS3Credentials, type TestS3 } from "../../../test/support/s3.ts";
import { createS3BlobStore, IMMUTABLE } from "./s3.ts";

let s3: TestS3;
before(async () => {
  s3 = await startTestS3();
  useS3Credentials();
});
after(() => s3.close());

const settings = (bucket: string) => ({ bucket, endpoint: s3.endpoint, region: "us-east-1", forcePathStyle: true });

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return Buffer.from(await new Response(stream).arrayBuffer()).toString();
}

test("put stores the bytes in the bucket under an unguessable key, typed and cacheable; get streams them back", async () => {
  const bucket = await s3.bucket();
  const store = createS3BlobStore(settings(bucket));
  try {
    const key = await store.put(Buffer.from("pretend png"), "png");
    const other = await store.put(Buffer.from("pretend jpeg"), "jpeg");
    assert.match(key, /^[A-Za-z0-9_-]{22}\.png$/);
    assert.match(other, /\.jpg$/);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentType, "image/png");
    assert.equal(head.CacheControl, IMMUTABLE);
    const raw = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: other }));
    assert.equal(await raw.Body!.transformToString(), "pretend jpeg");
    const blob = await store.get(key);
    assert.equal(blob?.contentType, "image/png");
    assert.equal(blob?.size, 11);
    assert.equal(await text(blob!.body), "pretend png");
  } finally {
    await store.close?.();
  }
});

test("get answers undefined for keys that are not stored results, without asking the bucket for odd ones", async () => {
  const bucket = await s3.bucket();
  const store = createS3BlobStore(settings(bucket));
  try {
    for (const key of ["AAAAAAAAAAAAAAAAAAAAAA.png", "../secret.png", "retouch-write-check", "x.exe", ""]) {
      assert.equal(await store.get(key), undefined, key);
    }
  } finally {
    await store.close?.();
  }
});

test("check names what to fix: a missing bucket (S3_BUCKET), refused credentials, an endpoint that does not answer", async () => {
  const bucket = await s3.bucket();
  const ok = createS3BlobStore(settings(bucket));
  await ok.check!(true);
  await ok.close?.();

  const missing = createS3BlobStore(settings("no-such-bucket"));
  await assert.rejects(missing.check!(true), { message: `the bucket "no-such-bucket" (S3_BUCKET) at ${s3.endpoint} does not exist: create it or fix S3_BUCKET` });
  await missing.close?.();

  process.env.AWS_ACCESS_KEY_ID = "AKIAWRONGKEY";
  const refused = createS3BlobStore(settings(bucket));
  try {
    await assert.rejects(refused.check!(true), (error: Error) => {
      assert.match(error.message, /^the bucket "results-\d+-\d+" \(S3_BUCKET\) at http:\/\/127\.0\.0\.1:\d+ refuses this server \(HTTP 403\): check the AWS credentials/);
      assert.ok(!error.message.includes("AKIAWRONGKEY"));
      return true;
    });
  } finally {
    process.env.AWS_ACCESS_KEY_ID = "S3RVER";
    await refused.close?.();
  }

  const unreachable = createS3BlobStore({ ...settings(bucket), endpoint: "http://127.0.0.1:9" }, 2_000);
  await assert.rejects(unreachable.check!(true), { message: /^the bucket "results-\d+-\d+" \(S3_BUCKET\) at http:\/\/127\.0\.0\.1:9 cannot be reached \(.+\): check S3_ENDPOINT and S3_REGION$/ });
  await unreachable.close?.();
});
