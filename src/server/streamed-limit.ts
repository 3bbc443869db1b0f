// The body-size limit of the edit routes, applied while the body streams in: a
// declared Content-Length over it is refused before a byte is read, and a body
// without one (chunked) fails the moment it crosses the limit. Nothing is
// buffered here, so the parser downstream can stop reading at its own limits.

import { payloadTooLarge } from "./errors.ts";

/** `request`'s body, failing with a 413 once more than `maxBytes` have arrived. */
export function limitedBody(request: Request, maxBytes: number): ReadableStream<Uint8Array> | null {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw payloadTooLarge(maxBytes);
  if (!request.body) return null;
  let seen = 0;
  return request.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) controller.error(payloadTooLarge(maxBytes));
        else controller.enqueue(chunk);
      },
    }),
  );
}
