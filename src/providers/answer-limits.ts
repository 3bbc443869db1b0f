// How much of an upstream's answer the gateway reads: enough for every image the
// result check would accept, and no more, so an upstream cannot fill its memory.

/**
 * Bytes of answer allowed per image asked for. An image passes the result check
 * (result-check.ts) at up to RESULT_LIMITS.maxBytes (50 MB), which is 66.7 MB as base64 (4/3 larger);
 * 70 MB leaves room for the JSON around it.
 */
export const UPSTREAM_ANSWER_BYTES_PER_IMAGE = 70_000_000;

/** Bytes allowed on top of the images: usage, revised prompt, a model's text. */
export const UPSTREAM_ANSWER_OVERHEAD_BYTES = 1_000_000;

/**
 * Bytes of an error answer (non-2xx) that are read; the rest is dropped unread.
 * An error body worth reading is a few hundred bytes of JSON.
 */
export const UPSTREAM_ERROR_BODY_BYTES = 64 * 1024;

/**
 * The most an upstream may send for one call asking for `n` images: 71 MB for one
 * image, 701 MB for ten. Past it the answer is cut off and the edit fails with a 502.
 *
 * @example
 * boundedFetch({ maxBytes: upstreamAnswerLimit(request.n) })
 */
export function upstreamAnswerLimit(n: number): number {
  return Math.max(1, Math.floor(n)) * UPSTREAM_ANSWER_BYTES_PER_IMAGE + UPSTREAM_ANSWER_OVERHEAD_BYTES;
}
