import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { RetouchError } from "../errors.ts";
import { decodeImage, redact, retryAfterSeconds, withRetries } from "./upstream.ts";

const FAST = { attempts: 3, baseDelayMs: 1 };
const transient = (error: unknown) => error instanceof Error && error.message === "transient";

test("withRetries retries transient failures and returns the first success", async () => {
  let calls = 0;
  const value = await withRetries(
    async () => {
      calls++;
      if (calls < 3) throw new Error("transient");
      return "ok";
    },
    { signal: new AbortController().signal, isTransient: transient, policy: FAST },
  );
  assert.equal(value, "ok");
  assert.equal(calls, 3);
});

test("withRetries gives up after the attempts and throws the last error; other errors are not retried", async () => {
  let calls = 0;
  const failing = async () => {
    calls++;
    throw new Error("transient");
  };
  await assert.rejects(withRetries(failing, { signal: new AbortController().signal, isTransient: transient, policy: FAST }), /transient/);
  assert.equal(calls, 3);

  calls = 0;
  const permanent = async () => {
    calls++;
    throw new Error("permanent");
  };
  await assert.rejects(withRetries(permanent, { signal: new AbortController().signal, isTransient: transient, policy: FAST }), /permanent/);
  assert.equal(calls, 1);
});

test("withRetries stops waiting as soon as the signal aborts, with the signal's reason", async () => {
  const controller = new AbortController();
  let calls = 0;
  const pending = withRetries(
    async () => {
      calls++;
      setTimeout(() => controller.abort(new Error("budget spent")), 5);
      throw new Error("transient");
    },
    { signal: controller.signal, isTransient: transient, policy: { attempts: 5, baseDelayMs: 60_000 } },
  );
  await assert.rejects(pending, /budget spent/);
  assert.equal(calls, 1);
});

test("retryAfterSeconds reads seconds, HTTP dates and retry-after-ms; rounds up; undefined when absent", () => {
  assert.equal(retryAfterSeconds(new Headers({ "retry-after": "7" })), 7);
  assert.equal(retryAfterSeconds(new Headers({ "retry-after": "0.2" })), 1);
  assert.equal(retryAfterSeconds(new Headers({ "retry-after-ms": "2500" })), 3);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfterSeconds(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }), now), 30);
  assert.equal(retryAfterSeconds(new Headers({ "retry-after": "soon" })), undefined);
  assert.equal(retryAfterSeconds(new Headers()), undefined);
  assert.equal(retryAfterSeconds(undefined), undefined);
});

test("redact removes the key and anything shaped like an OpenAI or Google key", () => {
  assert.equal(redact("bad key sk-live-123456789 given", "sk-live-123456789"), "bad key [redacted] given");
  assert.equal(redact("key sk-proj-abcdefgh and AIzaSyA1234567890abcdefghijklmnop", ""), "key [redacted] and [redacted]");
  assert.equal(redact("nothing secret", "sk-x"), "nothing secret");
});

test("decodeImage accepts real images and answers anything else with a 502", async () => {
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#fff" } }).png().toBuffer();
  assert.deepEqual(decodeImage("X", png.toString("base64")), { bytes: new Uint8Array(png), format: "png" });
  for (const bad of [undefined, "", Buffer.from("<html>").toString("base64")]) {
    assert.throws(() => decodeImage("X", bad), (error) => error instanceof RetouchError && error.status === 502 && error.code === "upstream_error");
  }
});
