// Blob store in an S3-compatible bucket (S3_BUCKET): results every gateway of a
// fleet can serve. A PutObject is atomic, so a result is whole or absent; objects
// carry their content type and an immutable cache header, so a bucket or CDN in
// front of it (S3_PUBLIC_URL) serves them as the gateway would.

import { randomBytes } from "node:crypto";
import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import type { ImageFormat } from "../../edits/index.ts";
import { BLOB_KEY, checkScratchKey, CONTENT_TYPE_BY_EXTENSION, EXTENSIONS, type BlobExtension, type BlobStore } from "./types.ts";

export interface S3Settings {
  bucket: string;
  /** Another S3-compatible service (MinIO, R2, a test server); unset = AWS. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
}

/** Results stay valid as long as their key: cache them anywhere, forever. */
export const IMMUTABLE = "public, max-age=31536000, immutable";

/** Inputs of queued edits live under this prefix; no result key can look like it. Give it a lifecycle rule (a day) for jobs whose every process died. */
export const SCRATCH_PREFIX = "scratch/";

/** Where the start-up check writes (and removes) its probe; no result key can look like it. */
const PROBE_KEY = "retouch-write-check";

/** Below this Node major, the AWS SDK's releases after the first week of January 2027 will not install. */
const SDK_NODE_MAJOR = 22;

/**
 * The AWS SDK warns on Node 20 that its future releases need Node 22, as a multi-line Node warning
 * on stderr, outside the JSON log. Returns that notice for the log instead (undefined when it does
 * not apply) and turns the SDK's own off, unless the operator has set the SDK's switch.
 */
export function sdkNodeNotice(version = process.version, env = process.env): string | undefined {
  if (Number(/^v(\d+)/.exec(version)?.[1]) >= SDK_NODE_MAJOR) return undefined;
  if (!env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED) env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  return `the AWS SDK's releases after the first week of January 2027 need Node ${SDK_NODE_MAJOR} or newer (this is ${version}); the installed one works, upgrade Node before updating it`;
}

export function createS3BlobStore(settings: S3Settings, timeoutMs = 30_000): BlobStore {
  const client = new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    // A bucket that does not answer must fail an edit, not hold it for the SDK's default minutes.
    requestHandler: { requestTimeout: timeoutMs, connectionTimeout: Math.min(timeoutMs, 5_000) },
    maxAttempts: 2,
  });
  const Bucket = settings.bucket;

  return {
    async put(bytes: Uint8Array, format: ImageFormat): Promise<string> {
      const extension = EXTENSIONS[format];
      const key = `${randomBytes(16).toString("base64url")}.${extension}`;
      await client.send(
        new PutObjectCommand({ Bucket, Key: key, Body: bytes, ContentType: CONTENT_TYPE_BY_EXTENSION[extension], CacheControl: IMMUTABLE }),
      );
      return key;
    },

    async get(key: string) {
      if (!BLOB_KEY.test(key)) return undefined;
      let object;
      try {
        object = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      const extension = key.slice(key.lastIndexOf(".") + 1) as BlobExtension;
      return {
        body: object.Body!.transformToWebStream() as ReadableStream<Uint8Array>,
        size: Number(object.ContentLength),
        contentType: CONTENT_TYPE_BY_EXTENSION[extension],
      };
    },

    scratch: {
      async put(key, bytes) {
        await client.send(new PutObjectCommand({ Bucket, Key: SCRATCH_PREFIX + checkScratchKey(key), Body: bytes, ContentType: "application/octet-stream" }));
      },
      async get(key) {
        try {
          const object = await client.send(new GetObjectCommand({ Bucket, Key: SCRATCH_PREFIX + checkScratchKey(key) }));
          return await object.Body!.transformToByteArray();
        } catch (error) {
          if (isMissing(error)) return undefined;
          throw error;
        }
      },
      async remove(keys) {
        if (keys.length === 0) return;
        const Objects = keys.map((key) => ({ Key: SCRATCH_PREFIX + checkScratchKey(key) }));
        await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } }));
      },
    },

    async check(writes = false) {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
        if (writes) {
          await client.send(new PutObjectCommand({ Bucket, Key: PROBE_KEY, Body: "ok", ContentType: "text/plain" }));
          await client.send(new DeleteObjectCommand({ Bucket, Key: PROBE_KEY }));
        }
      } catch (error) {
        throw new Error(explainBucketError(settings, error), { cause: error });
      }
    },

    close: async () => client.destroy(),
  };
}

function isMissing(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === "NoSuchKey" || error.$metadata.httpStatusCode === 404);
}

/** One line naming the variable to fix, from what the service answered. Never the credentials. */
export function explainBucketError(settings: S3Settings, error: unknown): string {
  const where = `the bucket "${settings.bucket}" (S3_BUCKET) at ${settings.endpoint ?? `AWS ${settings.region}`}`;
  if ((error as Error)?.name === "CredentialsProviderError") {
    return `${where}: no AWS credentials were found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or give the machine a role)`;
  }
  if (!(error instanceof S3ServiceException)) {
    const reason = (error as { code?: string; message?: string })?.code ?? (error as Error)?.message ?? String(error);
    return `${where} cannot be reached (${reason}): check S3_ENDPOINT and S3_REGION`;
  }
  const status = error.$metadata.httpStatusCode;
  // A HEAD answer has no body, so the SDK knows only its status.
  const what = error.name === "Unknown" ? `HTTP ${status}` : error.name;
  if (error.name === "NoSuchBucket" || status === 404) return `${where} does not exist: create it or fix S3_BUCKET`;
  if (status === 401 || status === 403 || /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch/.test(error.name)) {
    return `${where} refuses this server (${what}): check the AWS credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the instance role) and the bucket's policy`;
  }
  return `${where} answered ${what}: check S3_BUCKET, S3_ENDPOINT and S3_REGION`;
}
