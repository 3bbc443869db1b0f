import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, type GenerateContentResponse } from "@google/genai";
import type { RetouchError } from "../../errors.ts";
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
  expectMapped(invalid, 400, "upstream_invalid_request", /bad argument/);
  expectMapped(googleError(apiError(500, { message: "internal" }), KEY), 502, "upstream_error", /Gemini answered 500: internal/);
  expectMapped(googleError(new ApiError({ status: 502, message: "<html>Bad Gateway</html>" }), KEY), 502, "upstream_error", /Bad Gateway/);
  expectMapped(googleError(new TypeError("fetch failed"), KEY), 502, "upstream_error", /fetch failed/);
});

test("safety finish reasons and blocked prompts -> 400 content_policy_violation; no image otherwise -> 502", () => {
  const finished = (finishReason: string, parts: object[] = []) =>
    noImageError({ candidates: [{ content: { parts }, finishReason }] } as unknown as GenerateContentResponse);
  for (const reason of ["IMAGE_SAFETY", "SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT"]) {
    expectMapped(finished(reason), 400, "content_policy_violation", new RegExp(`\\(${reason}\\)`));
  }
  const blocked = noImageError({ promptFeedback: { blockReason: "PROHIBITED_CONTENT" } } as unknown as GenerateContentResponse);
  expectMapped(blocked, 400, "content_policy_violation", /blocked \(PROHIBITED_CONTENT\)/);
  const refusal = finished("STOP", [{ text: "I cannot do that." }]);
  expectMapped(refusal, 502, "upstream_error", /no image \(finish reason STOP\); it said: I cannot do that/);
  expectMapped(finished("NO_IMAGE"), 502, "upstream_error", /NO_IMAGE/);
  expectMapped(noImageError({} as GenerateContentResponse), 502, "upstream_error", /no candidates/);
});

test("only 5xx, 408 and network failures are worth a retry", () => {
  assert.equal(isTransientGoogleError(apiError(500, {})), true);
  assert.equal(isTransientGoogleError(apiError(503, {})), true);
  assert.equal(isTransientGoogleError(apiError(408, {})), true);
  assert.equal(isTransientGoogleError(new TypeError("fetch failed")), true);
  for (const status of [400, 401, 403, 404, 429]) assert.equal(isTransientGoogleError(apiError(status, {})), false);
  assert.equal(isTransientGoogleError(new DOMException("aborted", "AbortError")), false);
});
