// Reads a request or response body with a byte cap, counting while it streams
// in, so no peer can make the buyer's side buffer without bound.

export class TooLargeError extends Error {
  override name = "TooLargeError";
}

export async function readCapped(response: Request | Response, maxBytes: number): Promise<Uint8Array> {
  if (Number(response.headers.get("content-length") ?? 0) > maxBytes) {
    await response.body?.cancel();
    throw new TooLargeError(`larger than ${maxBytes} bytes`);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  // A reader (not for-await) so that the stream can be cancelled while it is locked to us.
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw new TooLargeError(`larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
