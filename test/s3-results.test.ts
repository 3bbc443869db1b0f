// Results in an S3-compatible bucket (S3_BUCKET): what an operator with several
// gateways behind a load balancer needs. A local s3rver plays the bucket; the
// gateways talk to it with the real AWS SDK.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { ConfigError } from "../src/config.ts";
import { signV2 } from "./support/buyer.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { startGatewayProcess } from "./support/processes.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { startTestS3, useS3Credentials, type TestS3 } from "./support/s3.ts";
import { testBuyer } from "./support/test-buyer.ts";

const EDIT = "/api/v1/images/image2image";

interface EditBody {
  data: { url: string }[];
}
interface ErrorBody {
  error: { code: string; message: string };
}

let s3: TestS3;
before(async () => {
  s3 = await startTestS3();
  useS3Credentials();
});
after(() => s3?.close());

test("two gateways on one bucket: a result made by one is served by the other, same bytes, ETag and cache headers; nothing on disk", async () => {
  const bucket = await s3.bucket();
  const [a, b] = await Promise.all([startTestGateway(s3.env(bucket)), startTestGateway(s3.env(bucket))]);
  try {
    const response = await a.request(EDIT, jsonInit(await sceneEdit(128)));
    const body = (await response.json()) as EditBody;
    assert.equal(response.status, 200, JSON.stringify(body));
    const url = new URL(body.data[0].url);
    assert.equal(url.origin, a.config.publicUrl, "the URL is the gateway's own /api/v1/files");
    assert.match(url.pathname, /^\/api\/v1\/files\/[A-Za-z0-9_-]{22}\.png$/);

    const fromA = await a.request(url.pathname);
    const fromB = await b.request(url.pathname);
    assert.equal(fromB.status, 200);
    const bytes = Buffer.from(await fromB.arrayBuffer());
    assert.deepEqual(bytes, Buffer.from(await fromA.arrayBuffer()));
    assert.equal((await sharp(bytes).metadata()).width, 128, "a real PNG of the edited size");
    for (const name of ["content-type", "etag", "cache-control", "content-length"]) assert.equal(fromB.headers.get(name), fromA.headers.get(name), name);
    assert.equal(fromB.headers.get("content-type"), "image/png");
    assert.equal(fromB.headers.get("cache-control"), "public, max-age=31536000, immutable");

    const again = await b.request(url.pathname, { headers: { "if-none-match": fromB.headers.get("etag")! } });
    assert.equal(again.status, 304);
    assert.equal((await b.request("/api/v1/files/AAAAAAAAAAAAAAAAAAAAAA.png")).status, 404);
    assert.deepEqual(await readdir(join(a.config.dataDir, "files")).catch(() => []), [], "results are not written to the gateway's disk");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("S3_PUBLIC_URL: the answer's URL points at the bucket (or a CDN in front of it), which serves the PNG itself", async () => {
  const bucket = await s3.bucket();
  const publicUrl = `${s3.endpoint}/${bucket}`;
  const gw = await startTestGateway({ ...s3.env(bucket), S3_PUBLIC_URL: publicUrl });
  try {
    const response = await gw.request(EDIT, jsonInit(await sceneEdit(96)));
    const body = (await response.json()) as EditBody;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.match(body.data[0].url, new RegExp(`^${publicUrl}/[A-Za-z0-9_-]{22}\\.png$`));
    const direct = await fetch(body.data[0].url);
    assert.equal(direct.status, 200);
    assert.equal(direct.headers.get("content-type"), "image/png");
    assert.equal((await sharp(Buffer.from(await direct.arrayBuffer())).metadata()).width, 96);
  } finally {
    await gw.close();
  }
});

test("start-up stops in one line naming S3_BUCKET when the bucket does not exist, and when S3 variables come without it", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-s3-"));
  try {
    await assert.rejects(
      startTestGateway(s3.env("no-such-results"), dataDir),
      (error: unknown) =>
        error instanceof ConfigError && error.message === `the bucket "no-such-results" (S3_BUCKET) at ${s3.endpoint} does not exist: create it or fix S3_BUCKET`,
    );
    await assert.rejects(startTestGateway({ S3_ENDPOINT: s3.endpoint }, dataDir), {
      message: "S3_ENDPOINT is set but S3_BUCKET is not: set S3_BUCKET to store results in a bucket, or unset S3_ENDPOINT",
    });
    await assert.rejects(startTestGateway({ S3_BUCKET: "Results_Bucket" }, dataDir), /S3_BUCKET must be a bucket name/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("paid: a result that cannot be stored (the bucket was deleted) is a 503 that charges nothing; the row is failed", async () => {
  const bucket = await s3.bucket();
  const gw: TestGateway = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", ...s3.env(bucket) });
  try {
    const buyer = await testBuyer(gw);
    const edit = await sceneEdit(128, "remove the ball (bucket gone)");
    const { header } = await signV2(gw, "base", EDIT, jsonInit(edit), buyer.wallet);
    await s3.removeBucket(bucket);
    const response = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const body = (await response.json()) as ErrorBody;
    assert.equal(response.status, 503, JSON.stringify(body));
    assert.equal(body.error.code, "result_not_stored");
    assert.match(body.error.message, /nothing was charged/);
    assert.equal(await buyer.paid("base"), 0n);
    assert.deepEqual(await buyer.rows(), [{ status: "failed", tx_hash: null }]);
    assert.match(gw.logs.join(""), /NoSuchBucket/, "the operator's log says why");
  } finally {
    await gw.close();
  }
});

test("/readyz names the bucket when it stops answering, and the database beside it; /healthz stays up", async () => {
  const bucket = await s3.bucket();
  const gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", ...s3.env(bucket) });
  try {
    const ready = await gw.request("/readyz");
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready", checks: { bucket: "ok", database: "ok" } });
    await s3.removeBucket(bucket);
    const broken = await gw.request("/readyz");
    assert.equal(broken.status, 503);
    assert.deepEqual(await broken.json(), { status: "not_ready", checks: { bucket: "failed", database: "ok" } });
    assert.ok(
      gw.logs.some((line) => line.includes("readiness: bucket failed") && line.includes("does not exist: create it or fix S3_BUCKET")),
      "the log says why",
    );
    assert.equal((await gw.request("/healthz")).status, 200);
  } finally {
    await gw.close();
  }
});

test("below Node 22, the AWS SDK's notice that its future releases need Node 22 is one line of the JSON log, not a warning on stderr", async () => {
  const bucket = await s3.bucket();
  // Empty: as if unset (this test process's own S3 clients have set it).
  const gateway = await startGatewayProcess({ ...s3.env(bucket), RETOUCH_PAYMENTS: "off", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "" });
  try {
    assert.deepEqual(gateway.lines.filter((line) => line.includes("NodeVersionSupportWarning")), []);
    const notices = gateway.lines.filter((line) => line.includes("AWS SDK's releases after"));
    if (Number(process.versions.node.split(".")[0]) >= 22) return assert.deepEqual(notices, []);
    assert.equal(notices.length, 1, gateway.lines.join("\n"));
    const entry = JSON.parse(notices[0]) as { level: number; node: string };
    assert.equal(entry.level, 40, "a warning");
    assert.equal(entry.node, process.version);
  } finally {
    await gateway.close();
  }
});
