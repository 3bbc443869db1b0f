import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, type GenerateContentResponse } from "@google/genai";
import type { RetouchError } from "../../errors.ts";
import { AnswerTooLargeError } from "../bounded-fetch.ts";
import { googleError, isTransientGoogleError, noImageError } from "./errors.ts";

const KEY = "AIzaSyTEST0123456789abcdefghijklmnop";

/** What the SDK throws: the JSON error body as the message. */
function apiError(status: number, error: object): ApiError {
  return new ApiError({ status, message: JSON.stringify({ error: { code: status, ...error } }) });
}

function expectMapped(error: RetouchError, status: number, code: string, message: RegExp): void {
  assert.equal(error.status, status, error.message);
  assert.equal(error.code, code);
  assert.match(error.message, message);
}

test("API_KEY_INVALID (a 400), 401 and 403 -> 500 naming the server's credentials; the key stays out", () => {
  const invalid = apiError(400, {
    message: `API key not valid: ${KEY}`,
    status: "INVALID_ARGUMENT",
    details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" }],
  });
  for (const error of [invalid, apiError(401, { message: "unauthenticated" }), apiError(403, { message: "PERMISSION_DENIED" })]) {
    const mapped = googleError(error, KEY);
    expectMapped(mapped, 500, "upstream_credentials_refused", /the server's Google Gemini credentials were refused/);
    assert.ok(!(mapped.cause as Error).message.includes(KEY));
  }
});

test("429 -> RATE_LIMITED: Retry-After from the header, else RetryInfo, else 60", () => {
  const quota = apiError(429, {
    message: "quota",
    status: "RESOURCE_EXHAUSTED",
    details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "12.5s" }],
  });
  expectMapped(googleError(quota, KEY), 429, "RATE_LIMITED", /retry after 13 seconds/);
  assert.equal(googleError(quota, KEY, new Headers({ "retry-after": "4" })).headers["Retry-After"], "4");
  const bare = googleError(apiError(429, { message: "quota" }), KEY);
  assert.deepEqual(bare.headers, { "Retry-After": "60", "X-RateLimit-Source": "upstream" });
});

test("other 400s -> upstream_invalid_request; 5xx, odd bodies and network errors -> 502", () => {
  const invalid = googleError(apiError(400, { message: "bad argument", status: "INVALID_ARGUMENT" }), KEY);
  expectMapped(invalid, 400, "upstream_invalid_request", /^Google Gemini rejected the request: bad argument$/);
  expectMapped(googleError(apiError(500, { message: "internal", status: "INTERNAL" }), KEY), 502, "upstream_error", /Gemini answered 500 \(INTERNAL\): internal/);
  expectMapped(googleError(new ApiError({ status: 502, message: "<html>Bad Gateway</html>" }), KEY), 502, "upstream_error", /Gemini answered 502 with a non-JSON body$/);
  expectMapped(googleError(new TypeError("fetch failed"), KEY), 502, "upstream_error", /fetch failed/);
});

test("a text body (wrapped by the SDK with the status text) says only that it was not JSON; the log has it", () => {
  const text = "upstream connect error: nginx at 10.0.3.7:8080 (/etc/nginx/conf.d/gemini.conf) reset";
  const wrapped = new ApiError({ status: 502, message: JSON.stringify({ error: { message: text, code: 502, status: "Bad Gateway" } }) });
  for (const headers of [new Headers({ "content-type": "text/plain" }), undefined]) {
    const error = googleError(wrapped, KEY, headers);
    expectMapped(error, 502, "upstream_error", /^Google Gemini failed to complete the edit: Gemini answered 502 with a non-JSON body$/);
    assert.match((error.cause as Error).message, /nginx at 10\.0\.3\.7/);
  }
});

test("a connection error names no address; a 200 that is not JSON quotes none of it", () => {
  const refused = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 10.1.2.3:443"), { code: "ECONNREFUSED" }) });
  expectMapped(googleError(refused, KEY), 502, "upstream_error", /fetch failed: connect ECONNREFUSED \[redacted\]$/);
  expectMapped(googleError(new SyntaxError('Unexpected token \'<\', "<html>/srv/"... is not valid JSON'), KEY), 502, "upstream_error", /not valid JSON$/);
});

test("429 saying the prepaid credits are depleted -> 503 upstream_quota_exhausted, no Retry-After", () => {
  const depleted = apiError(429, {
    message: "Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing.",
    status: "RESOURCE_EXHAUSTED",
  });
  const error = googleError(depleted, KEY, new Headers({ "retry-after": "60" }));
  expectMapped(error, 503, "upstream_quota_exhausted", /the server's Google Gemini account is out of credit/);
  assert.deepEqual(error.headers, {});
  // The quota message of a plain rate limit stays a 429.
  const perMinute = apiError(429, { message: "You exceeded your current quota, please check your plan and billing details.", status: "RESOURCE_EXHAUSTED" });
  expectMapped(googleError(perMinute, KEY), 429, "RATE_LIMITED", /retry after 60 seconds/);
});

test("an answer over the byte limit -> 502 naming the limit, and it is not retried", () => {
  const tooLarge = new TypeError("terminated", { cause: new AnswerTooLargeError(71_000_000) });
  expectMapped(googleError(tooLarge, KEY), 502, "upstream_error", /its answer was larger than the limit of 71 MB/);
  assert.equal(isTransientGoogleError(tooLarge), false);
});

test("safety finish reasons and blocked prompts -> 400 content_policy_violation; no image otherwise -> 502", () => {
  const finished = (finishReason: string, parts: object[] = []) =>
    noImageError({ candidates: [{ content: { parts }, finishReason }] } as unknown as GenerateContentResponse);
  for (const reason of ["IMAGE_SAFETY", "SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII"]) {
    expectMapped(finished(reason), 400, "content_policy_violation", new RegExp(`\\(${reason}\\)`));
  }
  for (const reason of ["SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST"]) {
    const blocked = noImageError({ promptFeedback: { blockReason: reason } } as unknown as GenerateContentResponse);
    expectMapped(blocked, 400, "content_policy_violation", new RegExp(`blocked \\(${reason}\\)`));
  }
  const refusal = finished("STOP", [{ text: "I cannot do that." }]);
  expectMapped(refusal, 502, "upstream_error", /no image \(finish reason STOP\); it said: I cannot do that/);
  expectMapped(finished("NO_IMAGE"), 502, "upstream_error", /NO_IMAGE/);
  expectMapped(noImageError({} as GenerateContentResponse), 502, "upstream_error", /no candidates/);
});

test("block and finish reasons that are not about safety -> 422 upstream_refused, never content_policy_violation", () => {
  const blocked = (blockReason: string, blockReasonMessage?: string) =>
    noImageError({ promptFeedback: { blockReason, blockReasonMessage } } as unknown as GenerateContentResponse);
  expectMapped(blocked("OTHER"), 422, "upstream_refused", /^Google Gemini declined to produce an image \(blockReason OTHER\)$/);
  expectMapped(blocked("BLOCKED_REASON_UNSPECIFIED"), 422, "upstream_refused", /blockReason BLOCKED_REASON_UNSPECIFIED/);
  expectMapped(blocked("OTHER", "see /srv/policy.txt"), 422, "upstream_refused", /blockReason OTHER: see \[redacted\]\)$/);
  const finished = (finishReason: string) =>
    noImageError({ candidates: [{ content: { parts: [] }, finishReason }] } as unknown as GenerateContentResponse);
  for (const reason of ["RECITATION", "IMAGE_RECITATION", "OTHER", "IMAGE_OTHER", "LANGUAGE"]) {
    expectMapped(finished(reason), 422, "upstream_refused", new RegExp(`\\(finishReason ${reason}\\)`));
  }
  expectMapped(finished("FINISH_REASON_UNSPECIFIED"), 502, "upstream_error", /no image \(finish reason FINISH_REASON_UNSPECIFIED\)/);
});

test("only 5xx, 408 and network failures are worth a retry", () => {
  assert.equal(isTransientGoogleError(apiError(500, {})), true);
  assert.equal(isTransientGoogleError(apiError(503, {})), true);
  assert.equal(isTransientGoogleError(apiError(408, {})), true);
  assert.equal(isTransientGoogleError(new TypeError("fetch failed")), true);
  for (const status of [400, 401, 403, 404, 429]) assert.equal(isTransientGoogleError(apiError(status, {})), false);
  assert.equal(isTransientGoogleError(new DOMException("aborted", "AbortError")), false);
});
