// retouch's masks are grey levels with WHITE = edit; OpenAI's are PNGs whose
// TRANSPARENT pixels (alpha 0) mark the edit. This turns one into the other.
//
// The PNG is written here rather than by libvips: a mask is a few runs of 0 and
// 255, and a general encoder at high compression spent ~35 ms of CPU per
// 1024x1024 mask, more than the rest of an OpenAI edit's own work in the
// gateway. Rows use PNG's "Up" filter (a row equal to the one above becomes all
// zeros). A painted mask's filtered rows are then long runs of zeros, written
// straight into a zlib stream run by run (run-deflate.ts: 0.4 ms for the
// benchmark's 1024x1024 mask, against 1.7 ms for zlib's fastest run-length
// mode, which must read all 4 MB); a mask that changes almost everywhere goes
// to zlib. bench/openai-mask.bench.ts measures it.

import { constants, crc32, deflateSync } from "node:zlib";
import type { EditMask } from "../../edits/index.ts";
import { RunDeflate } from "./run-deflate.ts";

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** PNG colour type 6: 8-bit red, green, blue and alpha. */
const RGBA = 6;
const FILTER_UP = 2;

/**
 * An RGBA PNG at the mask's (= the first image's) exact width and height with
 * alpha = 255 - grey: white (edit) becomes transparent, black (keep) opaque.
 * The colour channels are black; OpenAI ignores them.
 */
export async function toOpenAiMask(mask: EditMask): Promise<Uint8Array> {
  const { width, height } = mask;
  // A painted mask changes in few places and is written run by run; one that changes almost
  // everywhere (a soft gradient, noise) goes to zlib, whose own Huffman codes suit it better.
  const data = runRows(mask) ?? deflateSync(filteredRows(mask), { level: 1, strategy: constants.Z_RLE });
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = RGBA;
  // compression, filter method and interlace stay 0: deflate, adaptive filtering per row, none
  const png = Buffer.concat([SIGNATURE, chunk("IHDR", header), chunk("IDAT", Buffer.from(data.buffer, data.byteOffset, data.length)), chunk("IEND", Buffer.alloc(0))]);
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

/** alpha = 255 - grey on the first row; below it, "Up" stores alpha - alpha above = grey above - grey. */
function alphaDelta(grey: Uint8Array, here: number, above: number): number {
  return above < 0 ? 255 - grey[here] : (grey[above] - grey[here]) & 0xff;
}

/**
 * The filtered rows as a zlib stream written run by run (run-deflate.ts), or undefined when it
 * grows past a 32nd of the rows' size: then the mask changes almost everywhere.
 */
function runRows({ width, height, grey }: EditMask): Uint8Array | undefined {
  const budget = Math.max(64 * 1024, (height * (width * 4 + 1)) / 32);
  const stream = new RunDeflate(16 * 1024);
  const levels = Buffer.from(grey.buffer, grey.byteOffset, grey.length); // for compare() by offsets: no view per row
  for (let y = 0; y < height; y++) {
    stream.byte(FILTER_UP);
    const here = y * width;
    const above = here - width;
    // A row like the one above is all zeros once filtered.
    if (y > 0 && levels.compare(levels, above, here, here, here + width) === 0) {
      stream.zeros(width * 4);
      continue;
    }
    for (let x = 0; x < width; x++) {
      stream.zeros(3); // red, green and blue stay black
      stream.byte(alphaDelta(grey, here + x, y > 0 ? above + x : -1));
    }
    if (stream.size > budget) return undefined;
  }
  return stream.finish();
}

/** The filtered rows, whole: [filter byte, then R G B A per pixel] each. */
function filteredRows({ width, height, grey }: EditMask): Buffer {
  const stride = width * 4 + 1;
  const rows = scratchRows(stride * height);
  for (let y = 0; y < height; y++) {
    rows[y * stride] = FILTER_UP;
    for (let x = 0, at = y * stride + 4; x < width; x++, at += 4) rows[at] = alphaDelta(grey, y * width + x, y > 0 ? (y - 1) * width + x : -1);
  }
  return rows;
}

/**
 * A zeroed buffer for the filtered rows. It is the same buffer call after call (the rows are
 * filled and compressed with no await in between), so that a 4 MB mask per edit does not add
 * 4 MB of garbage per edit, which the garbage collector would have to chase.
 */
let scratch = Buffer.alloc(0);
const KEEP_SCRATCH_BYTES = 16 * 1024 * 1024;

function scratchRows(bytes: number): Buffer {
  if (bytes > KEEP_SCRATCH_BYTES) return Buffer.alloc(bytes);
  if (scratch.length < bytes) scratch = Buffer.alloc(bytes);
  return scratch.subarray(0, bytes).fill(0);
}

/** length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0);
  return Buffer.concat([head, data, crc]);
}
