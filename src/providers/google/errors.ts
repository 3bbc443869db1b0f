// The one place where Gemini's failures become retouch errors: HTTP errors from
// the SDK (ApiError carries the JSON error body as its message) and answers
// that arrive as 200 but hold no image (safety blocks, refusals).

import { ApiError, type GenerateContentResponse } from "@google/genai";
import type { RetouchError } from "../../errors.ts";
import {
  contentPolicyViolation,
  credentialsRefused,
  DEFAULT_RETRY_AFTER_SECONDS,
  describe,
  redact,
  retryAfterSeconds,
  upstreamFailed,
  upstreamRateLimited,
  upstreamRejected,
} from "../upstream.ts";

const PROVIDER = "Google Gemini";

/** Finish and block reasons that mean "refused on safety or policy grounds". */
const POLICY_REASONS = new Set([
  "SAFETY",
  "IMAGE_SAFETY",
  "PROHIBITED_CONTENT",
  "IMAGE_PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
  "RECITATION",
  "IMAGE_RECITATION",
  "MODEL_ARMOR",
]);

interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: { "@type"?: string; reason?: string; retryDelay?: string }[];
  };
}

/** Worth another try: Google broke (5xx, 408) or could not be reached. */
export function isTransientGoogleError(error: unknown): boolean {
  if (error instanceof ApiError) return error.status >= 500 || error.status === 408;
  // fetch() rejects with a TypeError when the connection fails.
  return error instanceof TypeError;
}

/**
 * Maps an error from generateContent to what the caller should see. `headers`
 * are the failed response's (for Retry-After); `apiKey` is kept out of every message.
 */
export function googleError(error: unknown, apiKey: string, headers?: Headers): RetouchError {
  if (!(error instanceof ApiError)) return upstreamFailed(PROVIDER, redact(describe(error), apiKey));
  const body = parseBody(error.message);
  const message = redact(body.error?.message || error.message, apiKey);
  const status = error.status;
  const details = body.error?.details ?? [];
  const reason = details.find((detail) => detail.reason)?.reason;
  if (status === 401 || status === 403 || reason === "API_KEY_INVALID" || reason === "API_KEY_SERVICE_BLOCKED") {
    return credentialsRefused(PROVIDER, `Gemini answered ${status} ${body.error?.status ?? ""}: ${message}`);
  }
  if (status === 429) {
    const seconds = retryAfterSeconds(headers) ?? retryDelaySeconds(details) ?? DEFAULT_RETRY_AFTER_SECONDS;
    return upstreamRateLimited(PROVIDER, seconds, `Gemini answered 429: ${message}`);
  }
  if (status === 400 || status === 413 || status === 422) return upstreamRejected(PROVIDER, message);
  return upstreamFailed(PROVIDER, `Gemini answered ${status}: ${message}`);
}

/**
 * Why a 200 answer holds no image, as the caller should see it: a safety or
 * policy block is a 400; anything else (a text-only reply, no candidate) a 502.
 */
export function noImageError(response: GenerateContentResponse): RetouchError {
  const blocked = response.promptFeedback?.blockReason;
  if (blocked) {
    const note = response.promptFeedback?.blockReasonMessage;
    return contentPolicyViolation(PROVIDER, `the request was blocked (${blocked})${note ? `: ${note}` : ""}`);
  }
  const candidate = response.candidates?.[0];
  const finish = candidate?.finishReason;
  const said = candidate?.content?.parts
    ?.map((part) => part.text)
    .filter(Boolean)
    .join(" ")
    .slice(0, 300);
  if (finish && POLICY_REASONS.has(finish)) {
    const note = candidate?.finishMessage || said;
    return contentPolicyViolation(PROVIDER, `the edit was stopped (${finish})${note ? `: ${note}` : ""}`);
  }
  if (!candidate) return upstreamFailed(PROVIDER, "the answer had no candidates");
  return upstreamFailed(
    PROVIDER,
    `the model returned no image (finish reason ${finish ?? "none"})${said ? `; it said: ${said}` : ""}`,
  );
}

function parseBody(message: string): GoogleErrorBody {
  try {
    const parsed: unknown = JSON.parse(message);
    return typeof parsed === "object" && parsed !== null ? (parsed as GoogleErrorBody) : {};
  } catch {
    return {};
  }
}

/** google.rpc.RetryInfo's retryDelay ("33s", "1.5s") in whole seconds. */
function retryDelaySeconds(details: { retryDelay?: string }[]): number | undefined {
  const delay = details.find((detail) => detail.retryDelay)?.retryDelay;
  const match = delay?.match(/^(\d+(?:\.\d+)?)s$/);
  return match ? Math.max(1, Math.ceil(Number(match[1]))) : undefined;
}
