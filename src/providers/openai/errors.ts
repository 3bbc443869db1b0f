// The one place where OpenAI's failures become retouch errors: what the caller
// sees for a refused prompt, a bad key, a rate limit, an empty account or an outage.
// Callers read a summary (upstream-message.ts); the raw answer goes to the log.

import { APIConnectionError, APIError, APIUserAbortError } from "openai";
import { RetouchError } from "../../errors.ts";
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
  upstreamRedirected,
  upstreamRejected,
} from "../upstream.ts";
import { logDetail, summarise, summariseFailure, type UpstreamAnswer } from "../upstream-message.ts";

const PROVIDER = "OpenAI";

/**
 * Worth another try: the upstream broke (5xx, 408) or could not be reached. An
 * answer over the byte limit or a redirect is not: the same call would get it again.
 */
export function isTransientOpenAiError(error: unknown): boolean {
  if (error instanceof APIUserAbortError || findAnswerTooLarge(error) || findRedirect(error)) return false;
  if (error instanceof APIConnectionError) return true;
  return error instanceof APIError && typeof error.status === "number" && (error.status >= 500 || error.status === 408);
}

/**
 * The operator's OpenAI account is out of credit: a 429 `insufficient_quota`
 * (not a rate limit: waiting does not help), or `billing_hard_limit_reached`.
 */
export function isQuotaExhausted(error: APIError): boolean {
  return error.code === "insufficient_quota" || error.type === "insufficient_quota" || error.code === "billing_hard_limit_reached";
}

/** Maps an error thrown by the OpenAI SDK to what the caller should see. `apiKey` is kept out of every message. */
export function openAiError(error: unknown, apiKey: string): RetouchError {
  if (error instanceof RetouchError) return error; // already said in the caller's words (a stream that ended early)
  const tooLarge = findAnswerTooLarge(error);
  if (tooLarge) return upstreamAnswerTooLarge(PROVIDER, tooLarge.limit);
  if (findRedirect(error)) return upstreamRedirected(PROVIDER, "OPENAI_BASE_URL");
  if (!(error instanceof APIError) || error instanceof APIConnectionError || error.status === undefined) {
    return upstreamFailed(PROVIDER, summariseFailure(PROVIDER, error, apiKey), logDetail(describe(error), apiKey));
  }
  const status = error.status;
  const { summary, words } = summarise(PROVIDER, answerOf(error), apiKey);
  // The SDK's message holds the raw body when it was not JSON: for the log only.
  const detail = logDetail(`OpenAI answered ${status}: ${error.message.replace(/^\d{3}\s+/, "")}`, apiKey);
  if (isQuotaExhausted(error)) return upstreamQuotaExhausted(PROVIDER, detail);
  if (status === 400 || status === 413 || status === 422) {
    if (isSafetyRefusal(error, words ?? "")) return contentPolicyViolation(PROVIDER, words ?? summary);
    return upstreamRejected(PROVIDER, words ?? summary, detail);
  }
  if (status === 401 || status === 403) return credentialsRefused(PROVIDER, detail);
  if (status === 429) {
    const seconds = retryAfterSeconds(error.headers) ?? DEFAULT_RETRY_AFTER_SECONDS;
    return upstreamRateLimited(PROVIDER, seconds, detail);
  }
  return upstreamFailed(PROVIDER, summary, detail);
}

function isSafetyRefusal(error: APIError, message: string): boolean {
  if (error.code === "moderation_blocked" || error.code === "content_policy_violation") return true;
  return error.type === "image_generation_user_error" && /safety|moderation|content polic/i.test(message);
}

/**
 * The answer as the SDK parsed it: `error.error` is the envelope's `error` when
 * the body was JSON, and undefined when it was not (the SDK kept the raw text).
 */
function answerOf(error: APIError): UpstreamAnswer {
  const envelope: unknown = error.error;
  if (typeof envelope === "string") return { status: error.status!, message: envelope, json: true };
  if (typeof envelope !== "object" || envelope === null) {
    // JSON without an `error` object reads as "400 status code (no body)"; anything else was not JSON.
    return { status: error.status!, json: /^\d{3} status code \(no body\)$/.test(error.message) };
  }
  const { message } = envelope as { message?: unknown };
  const code = [error.code, error.type].find((value): value is string => typeof value === "string" && value !== "");
  return { status: error.status!, code, message: typeof message === "string" ? message : undefined, json: true };
}
