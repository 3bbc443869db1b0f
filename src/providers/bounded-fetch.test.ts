import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { upstreamAnswerLimit, UPSTREAM_ANSWER_BYTES_PER_IMAGE, UPSTREAM_ERROR_BODY_BYTES } from "./answer-limits.ts";
import { AnswerTooLargeError, boundedFetch, findAnswerTooLarge, findRedirect, UpstreamRedirectError } from "./bounded-fetch.ts";
import { RESULT_LIMITS } from "./result-check.ts";

/** What the server last did: bytes written, and whether it wrote the whole body; every path asked for. */
const served = { bytes: 0, finished: false, paths: [] as string[] };
let server: Server;
let origin: string;

// GET /<status>/<bytes>[?length] answers `bytes` bytes of "a" in 16 KB writes, honouring backpressure;
// a 3xx status redirects to /200/10.
before(async () => {
  server = createServer(async (req, res) => {
    served.paths.push(req.url!);
    const url = new URL(req.url!, "http://x");
    const [, status, total] = url.pathname.split("/").map(Number);
    const headers: Record<string, string | number> = { "content-type": "application/json" };
    if (status >= 300 && status < 400) headers.location = "/200/10";
    if (url.searchParams.has("length")) headers["content-length"] = total;
    res.writeHead(status, headers);
    Object.assign(served, { bytes: 0, finished: false });
    const chunk = Buffer.alloc(16 * 1024, "a");
    while (served.bytes < total && !res.destroyed) {
      const piece = chunk.subarray(0, Math.min(chunk.length, total - served.bytes));
      served.bytes += piece.length;
      if (!res.write(piece)) await new Promise((resolve) => (res.once("drain", resolve), res.once("close", resolve)));
    }
    if (!res.destroyed) res.end(() => (served.finished = true));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));

test("an answer of exactly maxBytes is read whole", async () => {
  const response = await boundedFetch({ maxBytes: 100_000 })(`${origin}/200/100000`);
  assert.equal((await response.arrayBuffer()).byteLength, 100_000);
});

test("one byte more fails the read with AnswerTooLargeError", async () => {
  const response = await boundedFetch({ maxBytes: 100_000 })(`${origin}/200/100001`);
  await assert.rejects(response.arrayBuffer(), (error) => error instanceof AnswerTooLargeError && error.limit === 100_000);
});

test("a long answer is cut off early: the server is hung up on long before it finishes", async () => {
  const total = 64 * 1024 * 1024;
  const response = await boundedFetch({ maxBytes: 1_000_000 })(`${origin}/200/${total}`);
  await assert.rejects(response.json(), AnswerTooLargeError);
  // Time for the server to finish, had the client gone on reading.
  for (let i = 0; i < 20 && !served.finished; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(served.finished, false, "the server never got to write its whole answer");
  assert.ok(served.bytes < 16 * 1024 * 1024, `the server wrote ${served.bytes} bytes of ${total}`);
});

test("an answer whose Content-Length is over the limit is refused before its body is read", async () => {
  const total = 64 * 1024 * 1024;
  await assert.rejects(boundedFetch({ maxBytes: 1_000_000 })(`${origin}/200/${total}?length`), AnswerTooLargeError);
  assert.ok(served.bytes < 16 * 1024 * 1024, `the server wrote ${served.bytes} bytes`);
});

test("an error body is kept up to maxErrorBytes; a cut one is no longer labelled JSON", async () => {
  const cut = await boundedFetch({ maxBytes: 1e9, maxErrorBytes: 1_000 })(`${origin}/502/5000?length`);
  assert.equal(cut.status, 502);
  assert.equal((await cut.text()).length, 1_000);
  assert.equal(cut.headers.get("content-type"), "text/plain");
  assert.equal(cut.headers.get("content-length"), null);

  const whole = await boundedFetch({ maxBytes: 1e9, maxErrorBytes: 1_000 })(`${origin}/500/1000`);
  assert.equal((await whole.text()).length, 1_000);
  assert.equal(whole.headers.get("content-type"), "application/json");
});

test("error bodies are cut at 64 KB by default; onResponse sees each answer's headers", async () => {
  const seen: number[] = [];
  const response = await boundedFetch({ maxBytes: 1e9, onResponse: (answer) => seen.push(answer.status) })(`${origin}/500/1000000`);
  assert.equal((await response.arrayBuffer()).byteLength, UPSTREAM_ERROR_BODY_BYTES);
  assert.deepEqual(seen, [500]);
});

test("a redirect is not followed, whichever its status: the fetch fails with UpstreamRedirectError and nothing else is asked", async () => {
  for (const status of [301, 302, 303, 307, 308]) {
    served.paths.length = 0;
    await assert.rejects(boundedFetch({ maxBytes: 1e6 })(`${origin}/${status}/0`, { method: "POST", body: "an upload" }), UpstreamRedirectError);
    assert.deepEqual(served.paths, [`/${status}/0`]);
  }
});

test("findRedirect finds the error under the SDKs' wrappers", () => {
  const redirect = new UpstreamRedirectError();
  assert.equal(findRedirect(new Error("Connection error.", { cause: new TypeError("fetch failed", { cause: redirect }) })), redirect);
  assert.equal(findRedirect(new AnswerTooLargeError(5)), undefined);
});

test("findAnswerTooLarge finds the error under the SDKs' wrappers", () => {
  const inner = new AnswerTooLargeError(5);
  assert.equal(findAnswerTooLarge(new Error("Connection error.", { cause: new TypeError("x", { cause: inner }) })), inner);
  assert.equal(findAnswerTooLarge(new Error("other")), undefined);
});

test("the limit holds n of the largest image the result check accepts, as base64, plus 1 MB", () => {
  assert.ok(UPSTREAM_ANSWER_BYTES_PER_IMAGE >= Math.ceil(RESULT_LIMITS.maxBytes / 3) * 4);
  assert.equal(upstreamAnswerLimit(1), 71_000_000);
  assert.equal(upstreamAnswerLimit(10), 701_000_000);
});
