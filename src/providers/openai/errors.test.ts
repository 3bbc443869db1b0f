import { test } from "node:test";
import assert from "node:assert/strict";
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import type { RetouchError } from "../../errors.ts";
import { AnswerTooLargeError } from "../bounded-fetch.ts";
import { isTransientOpenAiError, openAiError } from "./errors.ts";

const KEY = "sk-proj-abcdef0123456789";

function apiError(status: number, error: object, headers: Record<string, string> = {}): APIError {
  return APIError.generate(status, { error }, undefined, new Headers(headers));
}

function expectMapped(error: RetouchError, status: number, code: string, message: RegExp): void {
  assert.equal(error.status, status);
  assert.equal(error.code, code);
  assert.match(error.message, message);
  assert.ok(!error.message.includes(KEY));
}

test("moderation_blocked -> 400 content_policy_violation with the reason", () => {
  const error = openAiError(
    apiError(400, {
      message: "Rejected by the safety system. safety_violations=[sexual]",
      type: "image_generation_user_error",
      code: "moderation_blocked",
    }),
    KEY,
  );
  expectMapped(error, 400, "content_policy_violation", /safety_violations=\[sexual\]/);
  assert.equal(error.type, "invalid_request_error");
});

test("image_generation_user_error with a safety message -> content_policy_violation", () => {
  const upstream = { message: "Your request was rejected as a result of our safety system.", type: "image_generation_user_error", code: null };
  const error = openAiError(apiError(400, upstream), KEY);
  expectMapped(error, 400, "content_policy_violation", /our safety system/);
});

test("other 400s -> 400 upstream_invalid_request with OpenAI's message and param null", () => {
  const upstream = { message: "Invalid value for 'size'.", type: "invalid_request_error", code: "invalid_value", param: "size" };
  const error = openAiError(apiError(400, upstream), KEY);
  expectMapped(error, 400, "upstream_invalid_request", /^OpenAI rejected the request: Invalid value for 'size'\.$/);
  assert.equal(error.param, null);
});

test("401 and 403 -> 500 naming the server's credentials; the detail (without the key) is only in the cause", () => {
  for (const status of [401, 403]) {
    const error = openAiError(apiError(status, { message: `Incorrect API key provided: ${KEY}.`, type: "invalid_request_error", code: null }), KEY);
    expectMapped(error, 500, "upstream_credentials_refused", /the server's OpenAI credentials were refused/);
    assert.equal(error.type, "server_error");
    assert.doesNotMatch(error.message, /Incorrect API key/);
    const cause = error.cause as Error;
    assert.match(cause.message, new RegExp(`OpenAI answered ${status}: Incorrect API key provided: \\[redacted\\]`));
  }
});

test("429 -> 429 RATE_LIMITED with Retry-After (seconds, retry-after-ms, or 60) and X-RateLimit-Source", () => {
  const upstream = { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" };
  const limited = (headers: Record<string, string>) => openAiError(apiError(429, upstream, headers), KEY);
  const error = limited({ "retry-after": "20" });
  expectMapped(error, 429, "RATE_LIMITED", /retry after 20 seconds/);
  assert.deepEqual(error.headers, { "Retry-After": "20", "X-RateLimit-Source": "upstream" });
  assert.equal(error.type, "rate_limit_error");
  assert.equal(limited({ "retry-after-ms": "1500" }).headers["Retry-After"], "2");
  assert.equal(limited({}).headers["Retry-After"], "60");
});

test("5xx and connection errors -> 502 upstream_error", () => {
  const outage = openAiError(apiError(503, { message: "Service unavailable", type: "server_error" }), KEY);
  expectMapped(outage, 502, "upstream_error", /OpenAI answered 503 \(server_error\): Service unavailable/);
  const refused = new APIConnectionError({ cause: Object.assign(new Error("connect ECONNREFUSED 10.1.2.3:443"), { code: "ECONNREFUSED" }) });
  const mapped = openAiError(refused, KEY);
  expectMapped(mapped, 502, "upstream_error", /^OpenAI failed to complete the edit: Connection error: connect ECONNREFUSED \[redacted\]$/);
  assert.match((mapped.cause as Error).message, /10\.1\.2\.3:443/, "the address is in the log");
});

test("a 500 with a 20 KB HTML body -> 502 saying only that the body was not JSON; the body goes to the log, cut", () => {
  const html = `<html><body><h1>Internal Server Error</h1><pre>File "/srv/app/internal.py", line 7 (10.0.3.7)</pre>${"<p>x</p>".repeat(2_500)}</body></html>`;
  const error = openAiError(APIError.generate(500, undefined, html, new Headers({ "content-type": "text/html" })), KEY);
  expectMapped(error, 502, "upstream_error", /^OpenAI failed to complete the edit: OpenAI answered 500 with a non-JSON body$/);
  assert.ok(error.message.length <= 300);
  const cause = (error.cause as Error).message;
  assert.match(cause, /\/srv\/app\/internal\.py/);
  assert.ok(cause.length < 2_100, `${cause.length} characters in the log`);
});

test("OpenAI's own message loses paths, addresses and URLs and stays short", () => {
  const message = `Upstream /srv/app/internal.py at 10.0.3.7 failed, see https://status.internal.example/x. ${"detail ".repeat(200)}`;
  const error = openAiError(apiError(500, { message, type: "server_error", code: null }), KEY);
  expectMapped(error, 502, "upstream_error", /OpenAI answered 500 \(server_error\): Upstream \[redacted\] at \[redacted\] failed, see \[redacted\]/);
  assert.ok(error.message.length <= 300, `${error.message.length} characters`);
});

test("429 insufficient_quota (and billing_hard_limit_reached) -> 503 upstream_quota_exhausted, no Retry-After", () => {
  const quota = {
    message: "You exceeded your current quota, please check your plan and billing details.",
    type: "insufficient_quota",
    code: "insufficient_quota",
  };
  for (const error of [
    apiError(429, quota, { "retry-after": "20" }),
    apiError(429, { ...quota, code: null }),
    apiError(400, { message: "Billing hard limit has been reached", type: "invalid_request_error", code: "billing_hard_limit_reached" }),
  ]) {
    const mapped = openAiError(error, KEY);
    expectMapped(mapped, 503, "upstream_quota_exhausted", /cannot serve OpenAI models right now: the server's OpenAI account is out of credit/);
    assert.equal(mapped.type, "server_error");
    assert.deepEqual(mapped.headers, {});
    assert.doesNotMatch(mapped.message, /retry/i);
  }
});

test("an answer over the byte limit -> 502 naming the limit, and it is not retried", () => {
  const tooLarge = new APIConnectionError({ cause: new AnswerTooLargeError(71_000_000) });
  expectMapped(openAiError(tooLarge, KEY), 502, "upstream_error", /its answer was larger than the limit of 71 MB/);
  expectMapped(openAiError(new AnswerTooLargeError(71_000_000), KEY), 502, "upstream_error", /limit of 71 MB/);
  assert.equal(isTransientOpenAiError(tooLarge), false);
});

test("only 5xx, 408 and lost connections are worth a retry", () => {
  assert.equal(isTransientOpenAiError(apiError(500, {})), true);
  assert.equal(isTransientOpenAiError(apiError(502, {})), true);
  assert.equal(isTransientOpenAiError(apiError(408, {})), true);
  assert.equal(isTransientOpenAiError(new APIConnectionError({})), true);
  assert.equal(isTransientOpenAiError(new APIConnectionTimeoutError()), true);
  for (const status of [400, 401, 403, 404, 429]) assert.equal(isTransientOpenAiError(apiError(status, {})), false, String(status));
  assert.equal(isTransientOpenAiError(new APIUserAbortError()), false);
  assert.equal(isTransientOpenAiError(new Error("boom")), false);
});
