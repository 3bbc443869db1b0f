// Reads a request body with a hard cap, counting bytes as they stream in: a body over
// the cap is cut off at the cap (413), never buffered whole.

import { RetouchError } from "../../errors.ts";
import { readCapped, TooLargeError } from "../read-capped.ts";

export const DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024;

export function bodyTooLarge(max: number): RetouchError {
  return new RetouchError(`the request body is over ${max} bytes; raise RETOUCH_PROXY_MAX_BODY_BYTES to send larger pictures`, {
    status: 413,
    type: "invalid_request_error",
    code: "body_too_large",
  });
}

export async function readBoundedBody(request: Request, max: number): Promise<Uint8Array> {
  try {
    return await readCapped(request, max);
  } catch (error) {
    if (error instanceof TooLargeError) throw bodyTooLarge(max);
    throw error;
  }
}
