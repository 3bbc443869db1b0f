// What every HTTP upstream adapter (OpenAI, Google) shares: the errors a caller
// sees when an upstream fails, retries with backoff inside the time budget,
// and the check that what came back is really an image.

import { sniffImageFormat } from "../edits/index.ts";
import { RetouchError } from "../errors.ts";
import type { EditedImage } from "./types.ts";

/** Retry-After sent to the caller when the upstream's 429 names no delay. */
export const DEFAULT_RETRY_AFTER_SECONDS = 60;

/** The code of upstreamQuotaExhausted's errors (the server's upstream account is out of credit), stable for metrics and alerts. */
export const UPSTREAM_QUOTA_EXHAUSTED = "upstream_quota_exhausted";

/** The code of upstreamRefused's errors (the upstream declined, not on safety grounds), stable for metrics. */
export const UPSTREAM_REFUSED = "upstream_refused";

/** 400: the upstream's safety system refused the prompt or an image. */
export function contentPolicyViolation(provider: string, reason: string): RetouchError {
  return new RetouchError(`${provider}'s safety system rejected this edit: ${reason}`, {
    status: 400,
    type: "invalid_request_error",
    code: "content_policy_violation",
  });
}

/** 400: the upstream refused the request as sent (its message says why). `detail` is for the log. */
export function upstreamRejected(provider: string, message: string, detail?: Error): RetouchError {
  return new RetouchError(`${provider} rejected the request: ${message}`, {
    status: 400,
    type: "invalid_request_error",
    code: "upstream_invalid_request",
    cause: detail,
  });
}

/**
 * 500: the server's key was refused. The caller learns only that the server is
 * misconfigured; the upstream's detail (without the key) goes to the log through `cause`.
 */
export function credentialsRefused(provider: string, detail: Error): RetouchError {
  return new RetouchError(
    `the server's ${provider} credentials were refused by ${provider}; the server is misconfigured ` +
      "(this is not a problem with your request)",
    { status: 500, type: "server_error", code: "upstream_credentials_refused", cause: detail },
  );
}

/** 429: the upstream is rate limiting this server; the caller may retry after `seconds`. */
export function upstreamRateLimited(provider: string, seconds: number, detail: Error): RetouchError {
  return new RetouchError(`${provider} is rate limiting this server; retry after ${seconds} seconds`, {
    status: 429,
    type: "rate_limit_error",
    code: "RATE_LIMITED",
    cause: detail,
    headers: { "Retry-After": String(seconds), "X-RateLimit-Source": "upstream" },
  });
}

/**
 * 503: the server's upstream account is out of credit (OpenAI's insufficient_quota).
 * Unlike a rate limit no wait will fix it, so no Retry-After is promised.
 */
export function upstreamQuotaExhausted(provider: string, detail: Error): RetouchError {
  return new RetouchError(
    `this server cannot serve ${provider} models right now: the server's ${provider} account is out of credit ` +
      "(this is not a problem with your request)",
    { status: 503, type: "server_error", code: UPSTREAM_QUOTA_EXHAUSTED, cause: detail },
  );
}

/** 422: the upstream declined to make an image for a reason other than its safety policy. */
export function upstreamRefused(provider: string, reason: string): RetouchError {
  return new RetouchError(`${provider} declined to produce an image (${reason})`, {
    status: 422,
    type: "invalid_request_error",
    code: UPSTREAM_REFUSED,
  });
}

/** 502: the upstream failed (5xx, connection, or an answer that makes no sense). `detail` is for the log. */
export function upstreamFailed(provider: string, message: string, detail?: Error): RetouchError {
  return new RetouchError(`${provider} failed to complete the edit: ${message}`, {
    status: 502,
    type: "upstream_error",
    code: "upstream_error",
    cause: detail,
  });
}

/** 502: the upstream answered with a redirect, which is not followed (bounded-fetch.ts): the operator's base URL is off. */
export function upstreamRedirected(provider: string, setting: string): RetouchError {
  return upstreamFailed(provider, `it answered with a redirect, which is not followed: the operator's ${setting} must be the address it redirects to`);
}

/** 502: the upstream's answer passed the byte limit (answer-limits.ts) and was cut off unread. */
export function upstreamAnswerTooLarge(provider: string, limit: number): RetouchError {
  const megabytes = Math.ceil(limit / 1e5) / 10;
  return upstreamFailed(provider, `its answer was larger than the limit of ${megabytes} MB; the rest was not read`);
}

/** Seconds from a Retry-After (seconds or HTTP date) or retry-after-ms header, if any. */
export function retryAfterSeconds(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = Number(headers?.get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.max(1, Math.ceil(ms / 1000));
  const text = headers?.get("retry-after")?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.max(1, Math.ceil(Number(text)));
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(1, Math.ceil((date - now) / 1000));
}

/** Removes the key (and anything shaped like an API key) from text bound for a log. */
export function redact(text: string, secret: string): string {
  const withoutSecret = secret ? text.split(secret).join("[redacted]") : text;
  return withoutSecret.replace(/\b(sk-[A-Za-z0-9_-]{6,}|AIza[A-Za-z0-9_-]{20,})/g, "[redacted]");
}

/** A one-line description of an SDK error and its causes, for messages and logs. */
export function describe(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 4; depth++) {
    if (!(current instanceof Error)) {
      parts.push(String(current));
      break;
    }
    const code = (current as { code?: unknown }).code;
    const message = current.message.replace(/\.$/, "");
    parts.push(typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message);
    current = current.cause;
  }
  return parts.join(": ").slice(0, 500);
}

/** Turns base64 from an upstream into an image, or a 502 if it is not PNG/JPEG/WebP. */
export function decodeImage(provider: string, base64: string | undefined): EditedImage {
  if (!base64) throw upstreamFailed(provider, "the answer carried no image data");
  const decoded = Buffer.from(base64, "base64");
  // A large image's bytes own their memory and are taken as they are; a small one may sit in node's shared pool and is copied out.
  const whole = decoded.byteOffset === 0 && decoded.byteLength === decoded.buffer.byteLength;
  const bytes = whole ? new Uint8Array(decoded.buffer, 0, decoded.byteLength) : new Uint8Array(decoded);
  const format = sniffImageFormat(bytes);
  if (!format) throw upstreamFailed(provider, `the answer's image data (${bytes.length} bytes) is not a PNG, JPEG or WebP image`);
  return { bytes, format };
}

export interface RetryPolicy {
  /** Calls in all, the first included. */
  attempts: number;
  /** Wait before the first retry; doubles after each (with jitter). */
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 500 };

/**
 * Runs `call` until it succeeds, fails with an error `isTransient` refuses, or
 * the attempts run out (the last error is thrown). Waits never outlive `signal`.
 */
export async function withRetries<T>(
  call: () => Promise<T>,
  options: { signal: AbortSignal; isTransient(error: unknown): boolean; policy?: RetryPolicy },
): Promise<T> {
  const { signal, isTransient, policy = DEFAULT_RETRY } = options;
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    try {
      return await call();
    } catch (error) {
      signal.throwIfAborted();
      if (attempt >= policy.attempts || !isTransient(error)) throw error;
    }
    const delay = policy.baseDelayMs * 2 ** (attempt - 1);
    await sleep(delay / 2 + Math.random() * (delay / 2), signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
