// What a caller reads when OpenAI or Gemini (or what stands in front of them)
// fails: a short summary with no internals of the upstream, through the real
// SDKs and a real gateway; the raw detail only in the server's log. Also the
// out-of-credit answer, which no wait can fix, against a plain rate limit.

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { dataUri, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { startBothUpstreams, type BothUpstreams } from "./both.ts";
import { expectError } from "./expect.ts";
import { rawAnswer } from "./fake-server.ts";
import type { FakeGemini } from "./fake-gemini.ts";
import { failure, type FakeOpenAi } from "./fake-openai.ts";

const OPENAI_KEY = "sk-test-summaries-0a1b2c3d4e5f";
const GEMINI_KEY = "AIzaSyFAKE-summaries-0123456789abcdefg";

let upstreams: BothUpstreams;
let openai: FakeOpenAi;
let gemini: FakeGemini;
let gw: TestGateway;
let png: Buffer;

before(async () => {
  upstreams = await startBothUpstreams({ openai: OPENAI_KEY, gemini: GEMINI_KEY }, 2_0000);
  ({ openai, gemini, gw, png } = upstreams);
});
after(() => upstreams.close());
beforeEach(() => upstreams.reset());

const edit = (model: string) => gw.postJson({ model, prompt: "make it blue", image: dataUri(png) });

/** An upstream's own error page: 20 KB of HTML naming its code, host and address. */
const HTML_PAGE =
  "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1>" +
  '<pre>Traceback (most recent call last):\n  File "/srv/app/internal.py", line 88, in edit\n' +
  "ConnectionError: backend 10.0.3.7:5000 (images-worker-3.prod.internal) refused</pre>" +
  "<p>padding</p>".repeat(1_450) +
  "</body></html>";

/** A load balancer's answer in front of Gemini. */
const NGINX_TEXT =
  "upstream connect error or disconnect/reset before headers. reset reason: connection failure, " +
  "transport failure reason: delayed connect error: 111; nginx/1.25.3 upstream 10.0.3.7:8080 " +
  "(see /etc/nginx/conf.d/gemini-upstream.conf, http://gemini-backend.internal:8080/v1beta)";

/** The message leaks nothing of the upstream; the log line for the request holds the detail, cut to a few KB. */
async function expectSummarised(response: Response, summary: RegExp, leaks: string[], logged: string): Promise<void> {
  const requestId = response.headers.get("x-request-id")!;
  const { error } = await expectError(response, 502, "upstream_error", summary);
  assert.ok(error.message.length <= 300, `${error.message.length} characters`);
  for (const leak of leaks) assert.ok(!error.message.includes(leak), `"${leak}" is in: ${error.message}`);
  const line = gw.logs.find((entry) => entry.includes(requestId) && entry.includes('"level":50'));
  assert.ok(line, "an error log line for the request");
  assert.ok(line.includes(logged), "the raw detail is in the server's log");
  assert.ok(line.length < 8_000, `a log line of ${line.length} characters`);
}

describe("OpenAI", () => {
  test("a 500 with a 20 KB HTML page: the caller reads its status and that it was not JSON, nothing of the page", async () => {
    const page = rawAnswer(500, HTML_PAGE, "text/html; charset=utf-8");
    openai.reply(page, page, page);
    await expectSummarised(
      await edit("openai/gpt-image-1"),
      /^OpenAI failed to complete the edit: OpenAI answered 500 with a non-JSON body$/,
      ["/srv/app/internal.py", "internal.py", "10.0.3.7", "prod.internal", "<"],
      "/srv/app/internal.py",
    );
    assert.equal(openai.received.length, 3, "a 500 is still retried");
  });

  test("OpenAI's own JSON message loses the paths, addresses and URLs in it", async () => {
    const message = "Upstream worker at 10.0.3.7 crashed in /srv/app/internal.py; see https://status.internal.example/incident.";
    const outage = failure(502, { message, type: "server_error", code: null });
    openai.reply(outage, outage, outage);
    await expectSummarised(
      await edit("openai/gpt-image-1"),
      /OpenAI answered 502 \(server_error\): Upstream worker at \[redacted\] crashed in \[redacted\]; see \[redacted\]/,
      ["10.0.3.7", "/srv/app", "status.internal.example"],
      "10.0.3.7",
    );
  });

  test("a refused connection: the caller's message names no address", async () => {
    const port = await closedPort();
    const unreachable = await startTestGateway({ OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` });
    try {
      const response = await unreachable.postJson({ model: "openai/gpt-image-1", prompt: "p", image: dataUri(png) });
      const { error } = await expectError(response, 502, "upstream_error", /OpenAI failed to complete the edit: Connection error/);
      assert.ok(!error.message.includes("127.0.0.1") && !error.message.includes(String(port)), error.message);
    } finally {
      await unreachable.close();
    }
  });

  test("429 insufficient_quota: a 503 upstream_quota_exhausted, with no Retry-After promise, not retried", async () => {
    const quota = {
      message: "You exceeded your current quota, please check your plan and billing details.",
      type: "insufficient_quota",
      code: "insufficient_quota",
    };
    openai.reply(failure(429, quota));
    const response = await edit("openai/gpt-image-1");
    const { error } = await expectError(response, 503, "upstream_quota_exhausted", /cannot serve OpenAI models right now.*out of credit/);
    assert.equal(error.type, "server_error");
    assert.equal(response.headers.get("retry-after"), null);
    assert.equal(response.headers.get("x-ratelimit-source"), null);
    assert.doesNotMatch(error.message, /retry|seconds/i);
    assert.equal(openai.received.length, 1);
    // The operator learns it from the metrics and an error in the log, the buyer from the 503.
    const metrics = await (await gw.request("/metrics")).text();
    assert.match(metrics, /^retouch_upstream_errors_total\{provider="openai",model="openai\/gpt-image-1",code="upstream_quota_exhausted"\} 1$/m);
    assert.ok(gw.logs.some((line) => line.includes('"level":50') && line.includes("out of credit")), "an error in the log");
  });

  test("a plain 429 with retry-after: 3600 keeps Retry-After 3600 and X-RateLimit-Source: upstream", async () => {
    openai.reply(failure(429, { message: "Rate limit reached for images per minute.", type: "requests", code: "rate_limit_exceeded" }, { "retry-after": "3600" }));
    const response = await edit("openai/gpt-image-1");
    await expectError(response, 429, "RATE_LIMITED", /retry after 3600 seconds/);
    assert.equal(response.headers.get("retry-after"), "3600");
    assert.equal(response.headers.get("x-ratelimit-source"), "upstream");
  });
});

describe("Gemini", () => {
  test("a 502 text body from nginx in front of Gemini: the caller reads its status and that it was not JSON", async () => {
    const proxy = rawAnswer(502, NGINX_TEXT, "text/plain");
    gemini.reply(proxy, proxy, proxy);
    await expectSummarised(
      await edit("google/nano-banana"),
      /^Google Gemini failed to complete the edit: Gemini answered 502 with a non-JSON body$/,
      ["nginx", "10.0.3.7", "/etc/", "gemini-backend", "http://"],
      "nginx/1.25.3",
    );
  });

  test("an HTML page labelled as JSON: still nothing of it reaches the caller", async () => {
    const page = rawAnswer(503, HTML_PAGE, "application/json");
    gemini.reply(page, page, page);
    await expectSummarised(
      await edit("google/nano-banana"),
      /Google Gemini failed to complete the edit: Gemini answered with a body that is not valid JSON$/,
      ["/srv/app", "10.0.3.7", "<"],
      "JSON",
    );
  });
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
