import { test } from "node:test";
import assert from "node:assert/strict";
import { RetouchError } from "../errors.ts";
import { readMultipart, type MultipartLimits } from "./multipart.ts";

const LIMITS: MultipartLimits = { parts: 40, files: 17, fields: 32, fieldBytes: 1000, largeFields: ["image"], largeBytes: 100_000 };
const BOUNDARY = "----test-boundary-7d3f";
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

function field(name: string, value: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
}
function file(name: string, bytes: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n${bytes}\r\n`;
}
const END = `--${BOUNDARY}--\r\n`;

/** A body served `chunkBytes` at a time, counting how many chunks were read. */
function counted(text: string, chunkBytes = 64 * 1024): { body: ReadableStream<Uint8Array>; chunks: number; read: () => number } {
  const bytes = Buffer.from(text);
  let at = 0;
  let read = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (at >= bytes.length) return controller.close();
        read++;
        controller.enqueue(bytes.subarray(at, (at += chunkBytes)));
      },
    },
    { highWaterMark: 0 },
  );
  return { body, chunks: Math.ceil(bytes.length / chunkBytes), read: () => read };
}

async function rejected(reading: Promise<unknown>): Promise<RetouchError> {
  const error = await reading.then(
    () => assert.fail("the body was accepted"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof RetouchError, String(error));
  return error;
}

const refusal = (text: string, contentType = CONTENT_TYPE) => rejected(readMultipart(counted(text).body, contentType, LIMITS));

test("text fields and files come back by name, in order, files as their bytes", async () => {
  const body = field("prompt", "remove the ball ✓") + file("image[]", "one") + field("image[]", "data:x") + file("image[]", "two") + file("mask", "m") + END;
  const form = await readMultipart(counted(body, 7).body, CONTENT_TYPE, LIMITS);
  assert.deepEqual(form.get("prompt"), ["remove the ball ✓"]);
  assert.deepEqual(form.get("image[]"), [Buffer.from("one"), "data:x", Buffer.from("two")].map((v) => (typeof v === "string" ? v : new Uint8Array(v))));
  assert.deepEqual(form.get("mask"), [new Uint8Array(Buffer.from("m"))]);
});

test("a form at every limit is read: 17 files and 23 fields are 40 parts", async () => {
  const body = file("image[]", "x").repeat(17) + field("f", "v").repeat(23) + END;
  const form = await readMultipart(counted(body).body, CONTENT_TYPE, LIMITS);
  assert.equal(form.get("image[]")!.length, 17);
  assert.equal(form.get("f")!.length, 23);
});

test("a flood of 600,000 parts is refused within its first chunk, the rest left unread", async () => {
  const flood = counted(file("image[]", "x").repeat(600_000) + END);
  const error = await rejected(readMultipart(flood.body, CONTENT_TYPE, LIMITS));
  assert.equal(error.status, 413);
  assert.equal(error.code, "too_many_files");
  assert.match(error.message, /more than 17 file parts; this endpoint takes at most 17 files and 32 text fields, 40 parts in all/);
  assert.ok(flood.chunks > 500);
  assert.equal(flood.read(), 1);
});

test("the same flood handed over as one chunk is refused too", async () => {
  const error = await refusal(field("image[]", "x").repeat(600_000) + END);
  assert.equal(error.status, 413);
  assert.equal(error.code, "too_many_fields");
  assert.match(error.message, /more than 32 text fields/);
});

test("more than 40 parts in all is refused even when files and fields are each within theirs", async () => {
  const error = await refusal(file("image[]", "x").repeat(17) + field("f", "v").repeat(24) + END);
  assert.equal(error.code, "too_many_parts");
  assert.match(error.message, /more than 40 parts/);
});

test("parts without a name count as parts", async () => {
  const unnamed = `--${BOUNDARY}\r\nX-Nothing: here\r\n\r\nv\r\n`;
  assert.equal((await refusal(unnamed.repeat(41) + END)).code, "too_many_parts");
});

test("a text field over its size is a 413 naming it; an image field may be as large as a file", async () => {
  const error = await refusal(field("prompt", "x".repeat(1001)) + END);
  assert.deepEqual([error.status, error.code, error.param], [413, "field_too_large", "prompt"]);
  assert.match(error.message, /^prompt is over 1000 bytes/);
  const form = await readMultipart(counted(field("image", "d".repeat(50_000)) + END).body, CONTENT_TYPE, LIMITS);
  assert.equal((form.get("image")![0] as string).length, 50_000);
  assert.equal((await refusal(field("image", "d".repeat(100_001)) + END)).code, "field_too_large");
});

test("a file over the size limit is a 413 naming it", async () => {
  const error = await refusal(file("mask", "m".repeat(100_001)) + END);
  assert.deepEqual([error.status, error.code, error.param], [413, "file_too_large", "mask"]);
});

test("no boundary, a cut body, and a broken part header are 400 invalid_multipart", async () => {
  const noBoundary = await refusal(field("prompt", "p") + END, "multipart/form-data");
  assert.deepEqual([noBoundary.status, noBoundary.code], [400, "invalid_multipart"]);
  assert.match(noBoundary.message, /needs a boundary/);
  for (const body of [field("prompt", "p"), field("prompt", "p") + file("image", "abc").slice(0, -8), `--${BOUNDARY}\r\nno colon here\r\n\r\nv\r\n` + END]) {
    const error = await refusal(body);
    assert.deepEqual([error.status, error.code], [400, "invalid_multipart"], error.message);
  }
});

test("an empty body is a 400 invalid_multipart", async () => {
  const error = await rejected(readMultipart(null, CONTENT_TYPE, LIMITS));
  assert.deepEqual([error.status, error.code], [400, "invalid_multipart"]);
});
