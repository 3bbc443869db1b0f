// A fetch for the upstream SDKs (their `fetch` option) that never lets an answer
// grow past a byte limit: the body is streamed through a counter and cut off,
// never buffered whole first. Error bodies are read up to a much smaller limit.

import { UPSTREAM_ERROR_BODY_BYTES } from "./answer-limits.ts";

/** The upstream sent (or announced) more than the limit; the rest was not read. */
export class AnswerTooLargeError extends Error {
  readonly limit: number;

  constructor(limit: number) {
    super(`the upstream's answer was larger than the limit of ${limit} bytes`);
    this.name = "AnswerTooLargeError";
    this.limit = limit;
  }
}

/**
 * The upstream answered with a redirect. It is not followed: an edit's upload goes to the one
 * address the operator configured, never on to another.
 */
export class UpstreamRedirectError extends Error {
  constructor() {
    super("the upstream answered with a redirect, which is not followed");
    this.name = "UpstreamRedirectError";
  }
}

/** The AnswerTooLargeError in an error's cause chain (SDKs wrap what fetch throws), if any. */
export function findAnswerTooLarge(error: unknown): AnswerTooLargeError | undefined {
  return findCause(error, AnswerTooLargeError);
}

/** The UpstreamRedirectError in an error's cause chain, if any. */
export function findRedirect(error: unknown): UpstreamRedirectError | undefined {
  return findCause(error, UpstreamRedirectError);
}

function findCause<T extends Error>(error: unknown, kind: new (...args: never[]) => T): T | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof kind) return current;
    current = current.cause;
  }
  return undefined;
}

export interface BoundedFetchOptions {
  /** Bytes of a 2xx body; one more and reading it fails with AnswerTooLargeError. */
  maxBytes: number;
  /** Bytes of a non-2xx body that are kept; the rest is dropped and the body ends there. */
  maxErrorBytes?: number;
  /** Sees each answer's status and headers (for Retry-After) before its body is read. */
  onResponse?(response: Response): void;
  fetch?: typeof fetch;
}

/** Statuses whose Response may not carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * @example
 * new OpenAI({ fetch: boundedFetch({ maxBytes: upstreamAnswerLimit(n) }) })
 */
export function boundedFetch(options: BoundedFetchOptions): typeof fetch {
  const { maxBytes, maxErrorBytes = UPSTREAM_ERROR_BODY_BYTES, onResponse, fetch: inner = fetch } = options;
  return async (input, init) => {
    // A redirect is a failure, not a second upload. And without one to follow, undici sends the
    // request as it is instead of a copy of it, whose body it duplicates chunk by chunk: an edit's
    // upload is megabytes (bench/openai-mask.bench.ts).
    let response: Response;
    try {
      response = await inner(input, { ...init, redirect: "error", window: null });
    } catch (error) {
      if (error instanceof TypeError && (error.cause as Error | undefined)?.message === "unexpected redirect") throw new UpstreamRedirectError();
      throw error;
    }
    onResponse?.(response);
    if (!response.body || NULL_BODY.has(response.status)) return response;
    const headers = new Headers(response.headers);
    if (response.ok) {
      // Announced too large: refused before a byte of the body is read.
      if (Number(response.headers.get("content-length")) > maxBytes) {
        const error = new AnswerTooLargeError(maxBytes);
        await response.body.cancel(error).catch(() => {});
        throw error;
      }
      return rebuilt(response, limitedBody(response.body, maxBytes), headers);
    }
    // Error bodies are small, or cut: read now, so that a cut one can be labelled as such.
    const { bytes, cut } = await readUpTo(response.body, maxErrorBytes);
    headers.delete("content-length");
    // Cut JSON is not JSON: the SDKs then take it as text instead of failing to parse it.
    if (cut) headers.set("content-type", "text/plain");
    return rebuilt(response, bytes, headers);
  };
}

function rebuilt(response: Response, body: ReadableStream<Uint8Array> | Uint8Array, headers: Headers): Response {
  const copy = new Response(body, { status: response.status, statusText: response.statusText, headers });
  // The SDKs log the URL; a constructed Response has none of its own.
  Object.defineProperty(copy, "url", { value: response.url });
  return copy;
}

/**
 * `body`, read as its reader pulls (so backpressure reaches the socket), until
 * more than `maxBytes` arrive: then the stream errors with AnswerTooLargeError
 * and the rest is cancelled, never read.
 */
function limitedBody(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      seen += value.byteLength;
      if (seen <= maxBytes) return controller.enqueue(value);
      const error = new AnswerTooLargeError(maxBytes);
      await reader.cancel(error).catch(() => {});
      controller.error(error);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** The first `maxBytes` of `body`; the rest is cancelled. */
async function readUpTo(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<{ bytes: Uint8Array; cut: boolean }> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let seen = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), cut: false };
    chunks.push(value.subarray(0, maxBytes - seen));
    seen += value.byteLength;
    if (seen > maxBytes) {
      await reader.cancel().catch(() => {});
      return { bytes: Buffer.concat(chunks), cut: true };
    }
  }
}
