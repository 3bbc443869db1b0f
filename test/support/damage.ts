// Damaged copies of good image files, as a disk, a network or a hostile buyer
// would make them: cut short, overwritten in the middle, a bad CRC, no JPEG EOI.

import { crc32 } from "node:zlib";

/** The first `fraction` of the file (0.5 = cut in half). */
export function truncateAt(bytes: Uint8Array, fraction: number): Buffer {
  return Buffer.from(bytes.subarray(0, Math.floor(bytes.length * fraction)));
}

/** The file without its last `count` bytes. */
export function dropLast(bytes: Uint8Array, count: number): Buffer {
  return Buffer.from(bytes.subarray(0, bytes.length - count));
}

/** `length` bytes in the middle of the file replaced by a fixed pseudo-random pattern. */
export function overwriteMiddle(bytes: Uint8Array, length = 64): Buffer {
  const copy = Buffer.from(bytes);
  const start = Math.floor(copy.length / 2);
  for (let i = 0; i < length; i++) copy[start + i] = (i * 73 + 17) & 0xff;
  return copy;
}

export interface PngChunk {
  type: string;
  /** Where the chunk's length field starts. */
  offset: number;
  /** Bytes of data (without length, type and CRC). */
  length: number;
}

export function pngChunks(png: Uint8Array): PngChunk[] {
  const buffer = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const chunks: PngChunk[] = [];
  for (let offset = 8; offset + 12 <= buffer.length; ) {
    const length = buffer.readUInt32BE(offset);
    chunks.push({ type: buffer.toString("latin1", offset + 4, offset + 8), offset, length });
    offset += 12 + length;
  }
  return chunks;
}

function middleIdat(png: Uint8Array): PngChunk {
  const idats = pngChunks(png).filter((chunk) => chunk.type === "IDAT");
  if (idats.length === 0) throw new Error("not a PNG with image data");
  return idats[Math.floor(idats.length / 2)];
}

/** One bit of the middle IDAT chunk's CRC flipped: the pixel data is intact, its checksum is wrong. */
export function flipPngCrc(png: Uint8Array): Buffer {
  const copy = Buffer.from(png);
  const idat = middleIdat(copy);
  copy[idat.offset + 8 + idat.length] ^= 0x01;
  return copy;
}

/**
 * The middle of the middle IDAT chunk overwritten and its CRC recomputed: every chunk
 * is well-formed, only the compressed pixel data is garbage (what a crafted file looks like).
 */
export function corruptIdatKeepingCrc(png: Uint8Array, length = 64): Buffer {
  const copy = Buffer.from(png);
  const idat = middleIdat(copy);
  const dataStart = idat.offset + 8;
  const start = dataStart + Math.floor((idat.length - length) / 2);
  for (let i = 0; i < length; i++) copy[start + i] = (i * 73 + 17) & 0xff;
  copy.writeUInt32BE(crc32(copy.subarray(idat.offset + 4, dataStart + idat.length)), dataStart + idat.length);
  return copy;
}

/** A JPEG without its final EOI marker (FF D9), everything else intact. */
export function stripJpegEoi(jpeg: Uint8Array): Buffer {
  if (jpeg[jpeg.length - 2] !== 0xff || jpeg[jpeg.length - 1] !== 0xd9) throw new Error("the JPEG does not end with EOI");
  return dropLast(jpeg, 2);
}

// Cut short, then made to look whole again (sizes, CRCs and end markers fixed up), as a
// careless repair tool or a hostile buyer would: only a decode of every pixel notices.

const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/** A PNG cut at `fraction` inside its image data, the cut IDAT chunk given a right length and CRC, and IEND appended. */
export function cutPngReframed(png: Uint8Array, fraction: number): Buffer {
  const source = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const cutAt = Math.floor(source.length * fraction);
  const parts: Buffer[] = [source.subarray(0, 8)];
  for (const chunk of pngChunks(source)) {
    const end = chunk.offset + 12 + chunk.length;
    if (chunk.type === "IEND") break;
    if (end <= cutAt) {
      parts.push(source.subarray(chunk.offset, end));
      continue;
    }
    if (chunk.type !== "IDAT") break;
    const kept = Math.max(0, cutAt - chunk.offset - 12);
    const cut = Buffer.alloc(12 + kept);
    cut.writeUInt32BE(kept, 0);
    source.copy(cut, 4, chunk.offset + 4, chunk.offset + 8 + kept);
    cut.writeUInt32BE(crc32(cut.subarray(4, 8 + kept)), 8 + kept);
    parts.push(cut);
    break;
  }
  return Buffer.concat([...parts, IEND]);
}

/** A JPEG cut at `fraction` with an end marker (FF D9) appended. */
export function cutJpegWithEoi(jpeg: Uint8Array, fraction: number): Buffer {
  return Buffer.concat([truncateAt(jpeg, fraction), Buffer.from([0xff, 0xd9])]);
}

/** A simple WebP (one VP8 or VP8L chunk) cut at `fraction`, its RIFF and chunk sizes rewritten to match. */
export function cutWebpResized(webp: Uint8Array, fraction: number): Buffer {
  const cut = truncateAt(webp, fraction);
  const length = cut.length - (cut.length & 1);
  const copy = Buffer.from(cut.subarray(0, length));
  const chunk = copy.toString("latin1", 12, 16);
  if (chunk !== "VP8 " && chunk !== "VP8L") throw new Error(`not a simple WebP (first chunk ${chunk})`);
  copy.writeUInt32LE(length - 8, 4);
  copy.writeUInt32LE(length - 20, 16);
  return copy;
}

/**
 * Not damage: a JPEG with an Adobe APP14 segment naming an unknown colour transform (7).
 * libjpeg warns about it and viewers show the picture, so a check must let it pass.
 */
export function withUnknownAdobeTransform(jpeg: Uint8Array): Buffer {
  const app14 = Buffer.concat([Buffer.from([0xff, 0xee, 0x00, 0x0e]), Buffer.from("Adobe", "latin1"), Buffer.from([0, 100, 0, 0, 0, 0, 7])]);
  return Buffer.concat([jpeg.subarray(0, 2), app14, jpeg.subarray(2)]);
}
