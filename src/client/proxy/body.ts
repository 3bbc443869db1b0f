// Reads a request body with a hard cap, counting bytes as they stream in: a body over
// the cap is cut off at the cap (413), never buffered whole.

import { RetouchError } from "../../errors.ts";

export const DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024;

export function bodyTooLarge(max: number): RetouchError {
  return new RetouchError(`the request body is over ${max} bytes; raise RETOUCH_PROXY_MAX_BODY_BYTES to send larger pictures`, {
    status: 413,
    type: "invalid_request_error",
    code: "body_too_large",
  });
}

export async function readBoundedBody(request: Request, max: number): Promise<Uint8Array> {
  if (Number(request.headers.get("content-length") ?? 0) > max) {
    await request.body?.cancel();
    throw bodyTooLarge(max);
  }
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw bodyTooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
