// The one place where Gemini's failures become retouch errors: HTTP errors from
// the SDK (ApiError carries the JSON error body as its message) and answers
// that arrive as 200 but hold no image (safety blocks, refusals).
// Callers read a summary (upstream-message.ts); the raw answer goes to the log.

import { ApiError, type GenerateContentResponse } from "@google/genai";
import type { RetouchError } from "../../errors.ts";
import { findAnswerTooLarge, findRedirect } from "../bounded-fetch.ts";
import {
  contentPolicyViolation,
  credentialsRefused,
  DEFAULT_RETRY_AFTER_SECONDS,
  describe,
  retryAfterSeconds,
  upstreamAnswerTooLarge,
  upstreamFailed,
  upstreamQuotaExhausted,
  upstreamRateLimited,
  upstreamRefused,
  upstreamRedirected,
  upstreamRejected,
} from "../upstream.ts";
import { logDetail, scrub, summarise, summariseFailure } from "../upstream-message.ts";

const PROVIDER = "Google Gemini";

/**
 * How a 200 answer without an image reads to the caller, by Gemini's documented
 * reasons (@google/genai's BlockedReason for promptFeedback.blockReason and
 * FinishReason for a candidate's finishReason). None is charged: every one fails the edit.
 *
 * - content policy, 400 content_policy_violation: the reasons below.
 * - declined for another reason, 422 upstream_refused: any other blockReason
 *   (OTHER, BLOCKED_REASON_UNSPECIFIED, unknown ones: the prompt was refused, not
 *   for safety), and the finishReasons in DECLINE_REASONS.
 * - anything else, 502 upstream_error "returned no image": STOP with only text,
 *   NO_IMAGE, MAX_TOKENS, FINISH_REASON_UNSPECIFIED, unknown reasons, no candidate.
 */
const POLICY_REASONS = new Set([
  "SAFETY",
  "IMAGE_SAFETY",
  "PROHIBITED_CONTENT",
  "IMAGE_PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
  "MODEL_ARMOR",
  "JAILBREAK",
]);

/** Finish reasons that mean "would not make it" without being a safety verdict (recitation: too close to a source). */
const DECLINE_REASONS = new Set(["RECITATION", "IMAGE_RECITATION", "OTHER", "IMAGE_OTHER", "LANGUAGE"]);

/**
 * Prepaid credit used up. Google documents no code for it: a 429 RESOURCE_EXHAUSTED
 * like a rate limit, known only by its message ("Your prepayment credits are depleted").
 */
const CREDIT_DEPLETED = /credits? (?:are|is|has been|have been) depleted/i;

interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: { "@type"?: string; reason?: string; retryDelay?: string }[];
  };
}

/**
 * Worth another try: Google broke (5xx, 408) or could not be reached. An answer
 * over the byte limit or a redirect is not: the same call would get it again.
 */
export function isTransientGoogleError(error: unknown): boolean {
  if (findAnswerTooLarge(error) || findRedirect(error)) return false;
  if (error instanceof ApiError) return error.status >= 500 || error.status === 408;
  // fetch() rejects with a TypeError when the connection fails.
  return error instanceof TypeError;
}

/**
 * Maps an error from generateContent to what the caller should see. `headers`
 * are the failed response's (for Retry-After and its type); `apiKey` is kept out of every message.
 */
export function googleError(error: unknown, apiKey: string, headers?: Headers): RetouchError {
  const tooLarge = findAnswerTooLarge(error);
  if (tooLarge) return upstreamAnswerTooLarge(PROVIDER, tooLarge.limit);
  if (findRedirect(error)) return upstreamRedirected(PROVIDER, "GEMINI_BASE_URL");
  if (!(error instanceof ApiError)) {
    return upstreamFailed(PROVIDER, summariseFailure("Gemini", error, apiKey), logDetail(describe(error), apiKey));
  }
  const status = error.status;
  const parsed = parseBody(error.message);
  const body = parsed ?? {};
  const json = parsed !== undefined && isGoogleJson(body, headers);
  const { summary, words } = summarise("Gemini", { status, code: json ? body.error?.status : undefined, message: body.error?.message, json }, apiKey);
  const detail = logDetail(`Gemini answered ${status}: ${error.message}`, apiKey);
  const details = body.error?.details ?? [];
  const reason = details.find((detail) => detail.reason)?.reason;
  if (status === 401 || status === 403 || reason === "API_KEY_INVALID" || reason === "API_KEY_SERVICE_BLOCKED") {
    return credentialsRefused(PROVIDER, detail);
  }
  if (status === 429) {
    if (json && CREDIT_DEPLETED.test(body.error?.message ?? "")) return upstreamQuotaExhausted(PROVIDER, detail);
    const seconds = retryAfterSeconds(headers) ?? retryDelaySeconds(details) ?? DEFAULT_RETRY_AFTER_SECONDS;
    return upstreamRateLimited(PROVIDER, seconds, detail);
  }
  if (status === 400 || status === 413 || status === 422) return upstreamRejected(PROVIDER, words ?? summary, detail);
  return upstreamFailed(PROVIDER, summary, detail);
}

/** Why a 200 answer holds no image, as the caller should see it (the mapping is above POLICY_REASONS). */
export function noImageError(response: GenerateContentResponse): RetouchError {
  const blocked = response.promptFeedback?.blockReason;
  if (blocked) {
    const note = googleNote(response.promptFeedback?.blockReasonMessage);
    if (POLICY_REASONS.has(blocked)) return contentPolicyViolation(PROVIDER, `the request was blocked (${blocked})${note}`);
    return upstreamRefused(PROVIDER, `blockReason ${blocked}${note}`);
  }
  const candidate = response.candidates?.[0];
  const finish = candidate?.finishReason;
  const said = candidate?.content?.parts
    ?.map((part) => part.text)
    .filter(Boolean)
    .join(" ")
    .slice(0, 150);
  const note = googleNote(candidate?.finishMessage) || (said ? `: ${said}` : "");
  if (finish && POLICY_REASONS.has(finish)) return contentPolicyViolation(PROVIDER, `the edit was stopped (${finish})${note}`);
  if (finish && DECLINE_REASONS.has(finish)) return upstreamRefused(PROVIDER, `finishReason ${finish}${note}`);
  if (!candidate) return upstreamFailed(PROVIDER, "the answer had no candidates");
  return upstreamFailed(
    PROVIDER,
    `the model returned no image (finish reason ${finish ?? "none"})${said ? `; it said: ${said}` : ""}`,
  );
}

/** Google's own explanation of a block, scrubbed like any upstream message, as ": ..." or "". */
function googleNote(message: string | undefined): string {
  return message ? `: ${scrub(message, "", 150)}` : "";
}

/**
 * Whether the error body was Google's JSON envelope. For any other body the SDK
 * makes one up: its text as `message`, the HTTP status text ("Bad Gateway") as `status`.
 */
function isGoogleJson(body: GoogleErrorBody, headers: Headers | undefined): boolean {
  const type = headers?.get("content-type");
  if (type && !type.includes("json")) return false;
  const status = body.error?.status;
  // Google's own statuses are enum names (INVALID_ARGUMENT, UNAVAILABLE).
  return typeof status !== "string" || /^[A-Z][A-Z_]*$/.test(status);
}

/** The error body the SDK put in its message, or undefined when that is not JSON. */
function parseBody(message: string): GoogleErrorBody | undefined {
  try {
    const parsed: unknown = JSON.parse(message);
    return typeof parsed === "object" && parsed !== null ? (parsed as GoogleErrorBody) : {};
  } catch {
    return undefined;
  }
}

/** google.rpc.RetryInfo's retryDelay ("33s", "1.5s") in whole seconds. */
function retryDelaySeconds(details: { retryDelay?: string }[]): number | undefined {
  const delay = details.find((detail) => detail.retryDelay)?.retryDelay;
  const match = delay?.match(/^(\d+(?:\.\d+)?)s$/);
  return match ? Math.max(1, Math.ceil(Number(match[1]))) : undefined;
}
