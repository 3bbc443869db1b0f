// The one place where OpenAI's failures become retouch errors: what the caller
// sees for a refused prompt, a bad key, a rate limit or an upstream outage.

import { APIConnectionError, APIError, APIUserAbortError } from "openai";
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

const PROVIDER = "OpenAI";

/** Worth another try: the upstream broke (5xx, 408) or could not be reached. */
export function isTransientOpenAiError(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  return error instanceof APIError && typeof error.status === "number" && (error.status >= 500 || error.status === 408);
}

/** Maps an error thrown by the OpenAI SDK to what the caller should see. `apiKey` is kept out of every message. */
export function openAiError(error: unknown, apiKey: string): RetouchError {
  const detail = redact(describe(error), apiKey);
  if (!(error instanceof APIError) || error instanceof APIConnectionError || error.status === undefined) {
    return upstreamFailed(PROVIDER, detail);
  }
  const message = redact(upstreamMessage(error), apiKey);
  const status = error.status;
  if (status === 400 || status === 413 || status === 422) {
    if (isSafetyRefusal(error, message)) return contentPolicyViolation(PROVIDER, message);
    return upstreamRejected(PROVIDER, message);
  }
  if (status === 401 || status === 403) return credentialsRefused(PROVIDER, `OpenAI answered ${status}: ${message}`);
  if (status === 429) {
    const seconds = retryAfterSeconds(error.headers) ?? DEFAULT_RETRY_AFTER_SECONDS;
    return upstreamRateLimited(PROVIDER, seconds, `OpenAI answered 429: ${message}`);
  }
  return upstreamFailed(PROVIDER, `OpenAI answered ${status}: ${message}`);
}

function isSafetyRefusal(error: APIError, message: string): boolean {
  if (error.code === "moderation_blocked" || error.code === "content_policy_violation") return true;
  return error.type === "image_generation_user_error" && /safety|moderation|content polic/i.test(message);
}

/** The upstream's own message, without the SDK's "400 " prefix. */
function upstreamMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (typeof body?.message === "string" && body.message) return body.message;
  return error.message.replace(/^\d{3}\s+/, "") || `status ${error.status}`;
}
