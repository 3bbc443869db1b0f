// PNGs of the common layout (8 bits per channel; grey, grey with alpha, RGB or RGBA; not
// interlaced) are decoded here instead of by libvips, for the proof that they decode to their
// end: node's zlib and a JS unfilter took about half the CPU of the libvips pipeline for a
// 1024x1024 photo, and a tenth for a flat mask (bench/input-check.bench.ts). The decode is
// complete (every row inflated to the last byte, its zlib checksum checked, every row's filter
// known, and undone where the pixels are wanted), and it refuses what libvips refuses beyond the
// header: IDAT chunks that are not consecutive, a filter that does not exist, data that ends
// early. What libvips refuses in the header (an unknown critical chunk, a second IHDR) fails
// metadata() before this runs, and libvips reads nothing after the image data. Other layouts
// (palette, 16 bits, interlaced) are left to it.

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
 * Decodes a PNG whose chunks were already found whole (findDamage): `{ decoded }` with its pixels
 * when `keep` asks for them (else `{}`), `{ failure }` when its image data does not decode or its
 * header claims more than `maxPixels`, or undefined when its layout or size is not one read here.
 * Kept "all", the pixels come in their bands as stored; kept "grey", a picture without alpha comes
 * as one grey band, which for an RGB picture is read only when every pixel is neutral (R = G = B,
 * as masks are: then libvips' grey is R), else it is left to libvips. Holds a decode slot while it
 * works, as libvips' decodes do.
 */
export async function decodePngPixels(bytes: Uint8Array, maxPixels: number, keep?: "all" | "grey"): Promise<{ decoded?: DecodedPixels } | { failure: string } | undefined> {
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
  return decodeSlots.run(() => decodeLaidOut(bytes, view, width, height, channels, keep));
}

async function decodeLaidOut(bytes: Uint8Array, view: DataView, width: number, height: number, channels: number, keep: "all" | "grey" | undefined): Promise<{ decoded?: DecodedPixels } | { failure: string } | undefined> {
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
  if (!keep) return knownFilters(raw, height, stride + 1) ? {} : { failure: CORRUPT };
  // Kept as stored, the rows go one after another; an RGB picture kept grey is unfiltered two rows
  // at a time, its grey band taken from each as it is done (a mask: a third of the memory, written once).
  const whole = keep === "all" || channels === 1;
  const grey = keep === "grey" && channels === 3 ? Buffer.allocUnsafe(width * height) : undefined;
  if (!whole && !grey) return undefined; // grey with alpha: not asked here
  const data = Buffer.allocUnsafe((whole ? height : 2) * stride);
  const zeros = new Uint8Array(stride);
  const at = (y: number) => (whole ? y : y & 1) * stride;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    if (!unfilter(filter, raw, y * (stride + 1) + 1, data, at(y), y > 0 ? data : zeros, y > 0 ? at(y - 1) : 0, stride, channels)) {
      return { failure: CORRUPT };
    }
    if (!grey) continue;
    // A mask repeats its rows where its shapes do not change: the row's grey is then the last one's.
    if (y > 0 && data.compare(data, at(y - 1), at(y - 1) + stride, at(y), at(y) + stride) === 0) grey.copyWithin(y * width, (y - 1) * width, y * width);
    else if (!neutralRow(data, at(y), grey, y * width, width)) return undefined;
  }
  if (grey) return { decoded: { data: grey, width, height, channels: 1 } };
  return { decoded: { data, width, height, channels } };
}

/**
 * Whether every row starts with one of PNG's five filters: all that undoing them could refuse, so a
 * picture whose pixels are not wanted is proven whole without the arithmetic.
 */
function knownFilters(raw: Uint8Array, height: number, rowBytes: number): boolean {
  for (let at = 0; at < height * rowBytes; at += rowBytes) if (raw[at] > 4) return false;
  return true;
}

/** Copies an RGB row's grey into grey[to..] when every pixel is neutral (R = G = B); false at the first that is not. */
function neutralRow(rgb: Uint8Array, from: number, grey: Uint8Array, to: number, width: number): boolean {
  for (let x = 0, at = from; x < width; x++, at += 3) {
    const value = rgb[at];
    if (rgb[at + 1] !== value || rgb[at + 2] !== value) return false;
    grey[to + x] = value;
  }
  return true;
}

/**
 * Undoes one row's filter (PNG's None, Sub, Up, Average, Paeth) from raw[from..] into out[at..],
 * the row above at prev[up..] (zeros above the first row); false for an unknown filter. Each filter
 * has its own loops, the first pixel apart, so that the inner loop has no branch: this runs over
 * every byte of the picture.
 */
function unfilter(filter: number, raw: Uint8Array, from: number, out: Uint8Array, at: number, prev: Uint8Array, up: number, stride: number, bpp: number): boolean {
  switch (filter) {
    case 0:
      out.set(raw.subarray(from, from + stride), at);
      return true;
    case 1:
      for (let i = 0; i < bpp; i++) out[at + i] = raw[from + i];
      for (let i = bpp; i < stride; i++) out[at + i] = raw[from + i] + out[at + i - bpp];
      return true;
    case 2:
      for (let i = 0; i < stride; i++) out[at + i] = raw[from + i] + prev[up + i];
      return true;
    case 3:
      for (let i = 0; i < bpp; i++) out[at + i] = raw[from + i] + (prev[up + i] >> 1);
      for (let i = bpp; i < stride; i++) out[at + i] = raw[from + i] + ((out[at + i - bpp] + prev[up + i]) >> 1);
      return true;
    case 4:
      // With nothing to the left, Paeth's prediction is the byte above.
      for (let i = 0; i < bpp; i++) out[at + i] = raw[from + i] + prev[up + i];
      for (let i = bpp; i < stride; i++) {
        const a = out[at + i - bpp];
        const b = prev[up + i];
        const c = prev[up + i - bpp];
        const pa = b > c ? b - c : c - b; // |p - a| with p = a + b - c
        const pb = a > c ? a - c : c - a;
        const pc = a + b - c - c > 0 ? a + b - c - c : c + c - a - b;
        out[at + i] = raw[from + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      return true;
    default:
      return false;
  }
}
