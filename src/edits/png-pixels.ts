// PNGs of the common layout (8 bits per channel; grey, grey with alpha, RGB or RGBA; not
// interlaced) are decoded here instead of by libvips, for the proof that they decode to their
// end: node's zlib and a JS unfilter took about half the CPU of the libvips pipeline for a
// 1024x1024 photo, and a tenth for a flat mask (bench/input-check.bench.ts). The decode is
// complete (every row inflated to the last byte, its zlib checksum checked, every row's filter
// undone), and it refuses what libvips refuses beyond the header: IDAT chunks that are not
// consecutive, a filter that does not exist, data that ends early. What libvips refuses in the
// header (an unknown critical chunk, a second IHDR) fails metadata() before this runs, and libvips
// reads nothing after the image data. Other layouts (palette, 16 bits, interlaced) are left to it.

import { promisify } from "node:util";
import { inflate as inflateCallback } from "node:zlib";
import type { DecodedPixels } from "./integrity.ts";
import { decodeSlots } from "./slots.ts";

const inflate = promisify(inflateCallback);

const CORRUPT = "a PNG whose image data is corrupt and cannot be decoded";

/**
 * Larger pictures go to libvips: the inflate runs on libuv's threads, but the unfilter runs on the
 * event loop, about 1 ms per million bytes of pixels, and this bounds that to a few ms.
 */
export const MAX_OWN_DECODE_PIXELS = 2048 * 2048;

/** Channels per pixel of the PNG colour types read here. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/**
 * The pixels of a PNG whose chunks were already found whole (findDamage), `{ failure }` when its
 * image data does not decode or its header claims more than `maxPixels`, or undefined when its
 * layout or size is not one read here. Holds a decode slot while it works, as libvips' decodes do.
 */
export async function decodePngPixels(bytes: Uint8Array, maxPixels: number): Promise<DecodedPixels | { failure: string } | undefined> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // IHDR is the first chunk: width, height, bit depth, colour type, compression, filter, interlace.
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const channels = CHANNELS[bytes[25]];
  if (depth !== 8 || channels === undefined || bytes[26] !== 0 || bytes[27] !== 0 || bytes[28] !== 0) return undefined;
  if (width * height > MAX_OWN_DECODE_PIXELS) return undefined;
  // The caller's limit is the size it checked; a header saying more is not decoded (as libvips' limitInputPixels).
  if (width * height > maxPixels) return { failure: CORRUPT };
  return decodeSlots.run(() => decodeLaidOut(bytes, view, width, height, channels));
}

async function decodeLaidOut(bytes: Uint8Array, view: DataView, width: number, height: number, channels: number): Promise<DecodedPixels | { failure: string }> {
  const parts: Uint8Array[] = [];
  let ended = false;
  for (let offset = 8; offset + 8 <= bytes.length; ) {
    const length = view.getUint32(offset);
    const imageData = bytes[offset + 4] === 0x49 && bytes[offset + 5] === 0x44 && bytes[offset + 6] === 0x41 && bytes[offset + 7] === 0x54; // IDAT
    if (imageData && ended) return { failure: "a PNG whose image data is interrupted by another chunk (corrupt file)" };
    if (imageData) parts.push(bytes.subarray(offset + 8, offset + 8 + length));
    else if (parts.length > 0) ended = true;
    offset += 12 + length;
  }
  const stride = width * channels;
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    // One output chunk for the whole picture: in the default 16 KB chunks, the round trips to the
    // thread pool cost more CPU than the inflate.
    raw = await inflate(Buffer.concat(parts), { maxOutputLength: expected + 1, chunkSize: Math.max(64 * 1024, expected + 1) });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      return { failure: "a PNG with more image data than its width and height hold (corrupt file)" };
    }
    return { failure: CORRUPT };
  }
  if (raw.length < expected) return { failure: "a PNG whose image data ends early (truncated or corrupt file)" };
  if (raw.length > expected) return { failure: "a PNG with more image data than its width and height hold (corrupt file)" };
  const data = Buffer.allocUnsafe(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    if (!unfilter(filter, raw, y * (stride + 1) + 1, data, y * stride, stride, channels, y > 0)) {
      return { failure: CORRUPT };
    }
  }
  return { data, width, height, channels };
}

/** Undoes one row's filter (PNG's None, Sub, Up, Average, Paeth) from raw[from..] into out[at..]; false for an unknown filter. */
function unfilter(filter: number, raw: Uint8Array, from: number, out: Uint8Array, at: number, stride: number, bpp: number, hasAbove: boolean): boolean {
  const above = at - stride;
  switch (filter) {
    case 0:
      out.set(raw.subarray(from, from + stride), at);
      return true;
    case 1:
      for (let i = 0; i < stride; i++) out[at + i] = raw[from + i] + (i >= bpp ? out[at + i - bpp] : 0);
      return true;
    case 2:
      if (!hasAbove) out.set(raw.subarray(from, from + stride), at);
      else for (let i = 0; i < stride; i++) out[at + i] = raw[from + i] + out[above + i];
      return true;
    case 3:
      for (let i = 0; i < stride; i++) {
        const left = i >= bpp ? out[at + i - bpp] : 0;
        const up = hasAbove ? out[above + i] : 0;
        out[at + i] = raw[from + i] + ((left + up) >> 1);
      }
      return true;
    case 4:
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? out[at + i - bpp] : 0;
        const b = hasAbove ? out[above + i] : 0;
        const c = hasAbove && i >= bpp ? out[above + i - bpp] : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        out[at + i] = raw[from + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      return true;
    default:
      return false;
  }
}
