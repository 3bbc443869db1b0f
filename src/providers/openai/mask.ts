// retouch's masks are grey levels with WHITE = edit; OpenAI's are PNGs whose
// TRANSPARENT pixels (alpha 0) mark the edit. This turns one into the other.
//
// The PNG is written here rather than by libvips: a mask is a few runs of 0 and
// 255, and a general encoder at high compression spent ~35 ms of CPU per
// 1024x1024 mask, more than the rest of an OpenAI edit's own work in the
// gateway. Rows use PNG's "Up" filter (a row equal to the one above becomes all
// zeros) and zlib's fastest level with run-length matching only, which is all
// such rows need (1.6 ms and 7.7 KB for a 1024x1024 mask, against 1.9 ms and
// 20.7 KB with zlib's usual matching); bench/openai-mask.bench.ts measures it.

import { constants, crc32, deflateSync } from "node:zlib";
import type { EditMask } from "../../edits/index.ts";

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
  const { width, height, grey } = mask;
  const stride = width * 4 + 1;
  // Filtered rows: [filter byte, then R G B A per pixel]; "Up" stores each byte minus the one above it.
  const rows = scratchRows(stride * height);
  const levels = Buffer.from(grey.buffer, grey.byteOffset, grey.length); // for compare() by offsets: no view per row
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    rows[row] = FILTER_UP;
    const here = y * width;
    if (y === 0) {
      for (let x = 0; x < width; x++) rows[row + 4 + x * 4] = 255 - grey[x];
      continue;
    }
    const above = here - width;
    // A row like the one above is all zeros once filtered: it is already.
    if (levels.compare(levels, above, here, here, here + width) === 0) continue;
    // alpha - alpha above = (255 - grey) - (255 - grey above)
    for (let x = 0; x < width; x++) rows[row + 4 + x * 4] = (grey[above + x] - grey[here + x]) & 0xff;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = RGBA;
  // compression, filter method and interlace stay 0: deflate, adaptive filtering per row, none
  const png = Buffer.concat([SIGNATURE, chunk("IHDR", header), chunk("IDAT", deflateSync(rows, { level: 1, strategy: constants.Z_RLE })), chunk("IEND", Buffer.alloc(0))]);
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
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
