// Proves that an image decodes to its end before anything is quoted: a walk of
// the file's structure (PNG chunks and CRCs, JPEG markers to EOI, WebP RIFF
// sizes) names the damage, then every pixel is decoded (libvips, or for the
// common PNG layouts png-pixels.ts).

import { crc32 } from "node:zlib";
import sharp from "sharp";
import { decodePngPixels } from "./png-pixels.ts";
import { decodeSlots } from "./slots.ts";
import type { ImageFormat } from "./sniff.ts";

const NAMES: Record<ImageFormat, string> = { png: "PNG", jpeg: "JPEG", webp: "WebP" };

/**
 * What is wrong with the file's structure, in words that complete "image is ...",
 * or undefined when every chunk/segment is whole. Pure and synchronous; reads no pixels.
 * @example findDamage(pngCutInHalf, "png") // "a PNG whose data ends early (truncated file)"
 */
export function findDamage(bytes: Uint8Array, format: ImageFormat): string | undefined {
  if (format === "png") return pngDamage(bytes);
  if (format === "jpeg") return jpegDamage(bytes);
  return webpDamage(bytes);
}

/** Every pixel of an image, as decoded: `channels` bytes per pixel, row by row. */
export interface DecodedPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/**
 * Decodes every pixel (libvips, sequential) and answers with what went wrong, or
 * undefined when the image decodes to its end. `pixels` is the header's width x
 * height, already checked against the limits.
 */
export async function decodeFailure(bytes: Uint8Array, format: ImageFormat, pixels: number): Promise<string | undefined> {
  const outcome = await decodeChecked(bytes, format, pixels);
  return "failure" in outcome ? outcome.failure : undefined;
}

/**
 * decodeFailure that keeps what it decoded, for a caller who needs the pixels (a mask is then read
 * once, not twice): all bands, or with `grey` the picture converted to one grey band as libvips does.
 * A PNG of the common layouts is decoded by png-pixels.ts, in about half libvips' CPU (kept "all",
 * its bands as stored; "grey", as libvips gives it).
 */
export async function decodeChecked(
  bytes: Uint8Array,
  format: ImageFormat,
  pixels: number,
  keep?: "all" | "grey",
): Promise<{ failure: string } | { decoded?: DecodedPixels }> {
  const own = format === "png" ? await decodePngPixels(bytes, pixels, keep) : undefined;
  if (own) return own;
  // A JPEG's scan data has no length and no checksum: cut short and given a new EOI,
  // libjpeg only warns ("premature end of data segment") and paints the rest grey.
  // So JPEGs are decoded failing on warnings; a warning about something else (an
  // unknown Adobe colour transform) is forgiven if a decode failing on errors passes.
  let outcome = await decode(bytes, format === "jpeg" ? "warning" : "error", pixels, keep);
  if (typeof outcome === "string" && format === "jpeg" && !JPEG_DATA_DAMAGE.test(outcome)) {
    const lenient = await decode(bytes, "error", pixels, keep);
    if (typeof lenient !== "string") outcome = lenient;
  }
  if (typeof outcome !== "string") return { decoded: outcome };
  // libjpeg says "premature end" of data cut short; libpng and libwebp say only that they failed.
  const failure = /premature end/i.test(outcome)
    ? `a ${NAMES[format]} whose image data ends early (truncated or corrupt file)`
    : `a ${NAMES[format]} whose image data is corrupt and cannot be decoded`;
  return { failure };
}

/** libjpeg's warnings about the entropy-coded data itself (not "extraneous bytes", which viewers ignore). */
const JPEG_DATA_DAMAGE = /Corrupt JPEG data: (premature end|bad Huffman|bad arithmetic|found marker)|Premature end of JPEG file/i;

/** The decoded pixels (undefined when not kept), or the decoder's error message. */
async function decode(bytes: Uint8Array, failOn: "warning" | "error", pixels: number, keep?: "all" | "grey"): Promise<DecodedPixels | undefined | string> {
  try {
    return await decodeSlots.run(async () => {
      const image = sharp(bytes, { failOn, sequentialRead: true, limitInputPixels: pixels });
      if (!keep) {
        // One band of raw output pulls every pixel through the decoder; measured cheaper than
        // stats() and a third of the memory of all bands (bench/input-check.bench.ts).
        await image.extractChannel(0).raw().toBuffer();
        return undefined;
      }
      const bands = keep === "grey" ? image.toColourspace("b-w").extractChannel(0) : image;
      const { data, info } = await bands.raw().toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: info.channels };
    });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

// PNG: signature, then chunks of length(4) type(4) data crc(4); IHDR first, IEND last.
function pngDamage(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const truncated = "a PNG whose data ends early (truncated file)";
  let offset = 8;
  let chunks = 0;
  let sawImageData = false;
  for (;;) {
    if (offset + 8 > bytes.length) return truncated;
    const type = chunkType(bytes, offset + 4);
    if (!type) return `a PNG with an unreadable chunk at byte ${offset} (corrupt file)`;
    const length = view.getUint32(offset);
    if (length > 0x7fffffff) return `a PNG whose ${type} chunk has an impossible length (corrupt file)`;
    const end = offset + 12 + length;
    if (end > bytes.length) return truncated;
    if (chunks === 0 && type !== "IHDR") return "a PNG that does not start with its IHDR header chunk (corrupt file)";
    if (crc32(bytes.subarray(offset + 4, end - 4)) !== view.getUint32(end - 4)) {
      return `a PNG whose ${type} chunk has a bad checksum (corrupt file)`;
    }
    if (type === "IDAT") sawImageData = true;
    if (type === "IEND") return sawImageData ? undefined : "a PNG with no image data (no IDAT chunk)";
    chunks++;
    offset = end;
  }
}

/** The chunk's 4-letter name, or undefined when those bytes are not letters (a misread length). */
function chunkType(bytes: Uint8Array, at: number): string | undefined {
  let type = "";
  for (let i = at; i < at + 4; i++) {
    const c = bytes[i] | 0x20; // lower-case
    if (c < 0x61 || c > 0x7a) return undefined;
    type += String.fromCharCode(bytes[i]);
  }
  return type;
}

// JPEG: SOI, then marker segments (0xFF, code, 16-bit length); after each SOS the
// entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a
// restart (RST0-7). The file ends at EOI.
function jpegDamage(bytes: Uint8Array): string | undefined {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength); // for the native indexOf
  const truncated = "a JPEG with no end marker (truncated file)";
  let offset = 2;
  for (;;) {
    if (offset >= data.length) return truncated;
    if (data[offset] !== 0xff) return `a JPEG with a damaged marker at byte ${offset} (corrupt file)`;
    while (offset < data.length && data[offset] === 0xff) offset++; // fill bytes
    if (offset >= data.length) return truncated;
    const marker = data[offset++];
    if (marker === 0xd9) return undefined; // EOI
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker < 0xc0 || marker === 0xd8) return `a JPEG with a damaged marker at byte ${offset - 2} (corrupt file)`;
    if (offset + 2 > data.length) return truncated;
    const length = data.readUInt16BE(offset);
    if (length < 2) return `a JPEG with a damaged segment at byte ${offset - 2} (corrupt file)`;
    offset += length;
    if (offset > data.length) return truncated;
    if (marker === 0xda) {
      offset = scanEnd(data, offset);
      if (offset < 0) return truncated;
    }
  }
}

/** Where the entropy-coded data starting at `from` ends (the next real marker), or -1 if the file ends first. */
function scanEnd(data: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const ff = data.indexOf(0xff, at);
    if (ff < 0 || ff + 1 >= data.length) return -1;
    const next = data[ff + 1];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) at = ff + 1;
    else return ff;
  }
}

// WebP: "RIFF" size "WEBP", then chunks of fourcc(4) size(4 LE) data, padded to even.
function webpDamage(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const truncated = "a WebP whose data ends early (truncated file)";
  const riffEnd = 8 + view.getUint32(4, true);
  if (riffEnd > bytes.length) return truncated;
  let offset = 12;
  let sawImageData = false;
  while (offset + 8 <= riffEnd) {
    const type = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    if (offset + 8 + size > riffEnd) return truncated;
    if (type === "VP8 " || type === "VP8L" || type === "ANMF") sawImageData = true;
    offset += 8 + size + (size & 1);
  }
  if (offset < riffEnd) return "a WebP with a damaged chunk at its end (corrupt file)";
  return sawImageData ? undefined : "a WebP with no image data (no VP8 or VP8L chunk)";
}
