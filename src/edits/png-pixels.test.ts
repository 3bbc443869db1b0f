// PNGs decoded without libvips: the same pixels as libvips for every layout read and every row
// filter, and the damage libvips refuses beyond the header refused here too, in words.

import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32, deflateRawSync, deflateSync } from "node:zlib";
import sharp from "sharp";
import { decodePngPixels, MAX_OWN_DECODE_PIXELS } from "./png-pixels.ts";

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** The pixel limit the callers pass: the header's own size, checked against the server's limits. */
const LIMIT = MAX_OWN_DECODE_PIXELS;

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** A PNG written here: `pixels` (channels per colour type) with each row's filter chosen by `filterOf(y)`. */
function encode(width: number, height: number, colourType: number, pixels: Uint8Array, filterOf: (y: number) => number, options: { depth?: number; interlace?: number; idat?: (z: Buffer) => Buffer[] } = {}): Buffer {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colourType as 0 | 2 | 4 | 6];
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const filter = filterOf(y);
    raw[y * (stride + 1)] = filter;
    for (let i = 0; i < stride; i++) {
      const x = pixels[y * stride + i];
      const a = i >= channels ? pixels[y * stride + i - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
      const c = y > 0 && i >= channels ? pixels[(y - 1) * stride + i - channels] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter] ?? 0;
      raw[y * (stride + 1) + 1 + i] = (x - predicted) & 255;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = options.depth ?? 8;
  header[9] = colourType;
  header[12] = options.interlace ?? 0;
  const z = deflateSync(raw);
  const idat = (options.idat ?? ((data) => [chunk("IDAT", data)]))(z);
  return Buffer.concat([SIGNATURE, chunk("IHDR", header), ...idat, chunk("IEND", new Uint8Array(0))]);
}

function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

test("every colour type read here and every row filter give the pixels that were written, and libvips' pixels", async () => {
  const width = 37;
  const height = 23;
  for (const [colourType, channels] of [[0, 1], [2, 3], [4, 2], [6, 4]]) {
    const pixels = noise(width * height * channels, colourType + 1);
    const png = encode(width, height, colourType, pixels, (y) => y % 5);
    const outcome = await decodePngPixels(png, LIMIT, "all");
    assert.ok(outcome && "decoded" in outcome && outcome.decoded, `colour type ${colourType}`);
    const { decoded } = outcome;
    assert.deepEqual(await decodePngPixels(png, LIMIT), {}, `colour type ${colourType}, proven without keeping its pixels`);
    assert.deepEqual([decoded.width, decoded.height, decoded.channels], [width, height, channels]);
    assert.deepEqual(new Uint8Array(decoded.data), pixels, `colour type ${colourType}`);
    const libvips = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    if (libvips.info.channels === channels) assert.deepEqual(new Uint8Array(decoded.data), new Uint8Array(libvips.data));
  }
  // And a PNG as sharp writes it (its own choice of filters and compression).
  const photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#000000", noise: { type: "gaussian", mean: 128, sigma: 40 } } }).png().toBuffer();
  const ours = await decodePngPixels(photo, LIMIT, "all");
  assert.ok(ours && "decoded" in ours && ours.decoded);
  assert.deepEqual(new Uint8Array(ours.decoded.data), new Uint8Array(await sharp(photo).raw().toBuffer()));
  // Proven without keeping the pixels (two rows at a time), the same file passes with nothing kept.
  assert.deepEqual(await decodePngPixels(photo, LIMIT), {});
});

test("damage libvips refuses past the header is refused, each in words", async () => {
  const width = 16;
  const height = 16;
  const pixels = noise(width * height * 3, 9);
  const whole = (idat: (z: Buffer) => Buffer[]) => encode(width, height, 2, pixels, () => 1, { idat });
  const half = (z: Buffer) => z.length >> 1;
  const cases: Record<string, [Buffer, RegExp]> = {
    "the zlib checksum wrong": [whole((z) => [chunk("IDAT", Buffer.concat([z.subarray(0, -1), Buffer.from([z[z.length - 1] ^ 1])]))]), /corrupt and cannot be decoded/],
    "the data cut before its checksum": [whole((z) => [chunk("IDAT", z.subarray(0, -4))]), /corrupt and cannot be decoded/],
    "raw deflate without zlib's header": [whole(() => [chunk("IDAT", deflateRawSync(Buffer.alloc(height * (width * 3 + 1))))]), /corrupt and cannot be decoded/],
    "IDAT chunks with another between them": [whole((z) => [chunk("IDAT", z.subarray(0, half(z))), chunk("tEXt", Buffer.from("a\0b")), chunk("IDAT", z.subarray(half(z)))]), /interrupted by another chunk/],
    "rows missing (a whole zlib stream of too few)": [whole(() => [chunk("IDAT", deflateSync(Buffer.alloc((height - 1) * (width * 3 + 1))))]), /ends early/],
    "more rows than the height": [whole(() => [chunk("IDAT", deflateSync(Buffer.alloc((height + 1) * (width * 3 + 1))))]), /more image data than/],
    "one byte more than the rows": [whole(() => [chunk("IDAT", deflateSync(Buffer.alloc(height * (width * 3 + 1) + 1)))]), /more image data than/],
    "a row filter that does not exist": [encode(width, height, 2, pixels, (y) => (y === 7 ? 5 : 0)), /corrupt and cannot be decoded/],
    "a row filter that does not exist, on the last row": [encode(width, height, 2, pixels, (y) => (y === height - 1 ? 255 : 4)), /corrupt and cannot be decoded/],
  };
  for (const [name, [png, message]] of Object.entries(cases)) {
    for (const keep of [false, true]) {
      const outcome = await decodePngPixels(png, LIMIT, keep ? "all" : undefined);
      assert.ok(outcome && "failure" in outcome, `${name}, pixels ${keep ? "kept" : "not kept"}`);
      assert.match(outcome.failure, message, name);
    }
  }
  // IDAT split over several chunks, one after another, is one stream.
  const split = whole((z) => [chunk("IDAT", z.subarray(0, 5)), chunk("IDAT", z.subarray(5, half(z))), chunk("IDAT", z.subarray(half(z)))]);
  const decoded = await decodePngPixels(split, LIMIT, "all");
  assert.ok(decoded && "decoded" in decoded && decoded.decoded);
  assert.deepEqual(new Uint8Array(decoded.decoded.data), pixels);
});

test("layouts not read here, and pictures over the size limit, are left to libvips", async () => {
  const pixels = noise(8 * 8 * 3, 3);
  assert.equal(await decodePngPixels(encode(8, 8, 2, pixels, () => 0, { interlace: 1 }), LIMIT), undefined, "interlaced");
  assert.equal(await decodePngPixels(encode(8, 8, 2, pixels, () => 0, { depth: 16 }), LIMIT), undefined, "16 bits");
  const palette = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#123456" } }).png({ palette: true }).toBuffer();
  assert.equal(await decodePngPixels(palette, LIMIT), undefined, "palette");
  const side = Math.sqrt(MAX_OWN_DECODE_PIXELS);
  const atLimit = encode(side, side, 0, new Uint8Array(side * side), () => 0);
  assert.ok(await decodePngPixels(atLimit, LIMIT), "at the limit");
  const over = encode(side + 1, side, 0, new Uint8Array((side + 1) * side), () => 0);
  assert.equal(await decodePngPixels(over, LIMIT + side), undefined, "one column over");
  // A header that claims more than the caller checked is not decoded.
  const small = encode(8, 8, 2, pixels, () => 0);
  assert.deepEqual(await decodePngPixels(small, 63), { failure: "a PNG whose image data is corrupt and cannot be decoded" });
  assert.ok(await decodePngPixels(small, 64), "exactly the pixels checked");
});

test("kept as one grey band: a neutral RGB picture gives libvips' grey, a grey one itself, a coloured one is left to libvips", async () => {
  const width = 29;
  const height = 17;
  const levels = noise(width * height, 5);
  const neutral = new Uint8Array(width * height * 3);
  for (let i = 0; i < levels.length; i++) neutral.fill(levels[i], i * 3, i * 3 + 3);
  // Rows repeated in runs of two (as a mask's are), each written with another filter; some runs differ
  // from the one above only in their last pixel.
  const rowBytes = width * 3;
  const runs = new Uint8Array(neutral.length);
  for (let y = 0; y < height; y++) {
    runs.set(neutral.subarray(Math.floor(y / 4) * 4 * rowBytes, (Math.floor(y / 4) * 4 + 1) * rowBytes), y * rowBytes);
    if (y % 4 >= 2) runs.fill(255 - runs[(y + 1) * rowBytes - 1], (y + 1) * rowBytes - 3, (y + 1) * rowBytes); // only the last pixel changes
  }
  const runLevels = Uint8Array.from({ length: width * height }, (_, i) => runs[i * 3]);
  for (const [name, png, expected] of [
    ["neutral RGB", encode(width, height, 2, neutral, (y) => y % 5), levels],
    ["neutral RGB, rows repeated", encode(width, height, 2, runs, (y) => (y * 3) % 5), runLevels],
    ["grey", encode(width, height, 0, levels, (y) => (y + 2) % 5), levels],
  ] as const) {
    const outcome = await decodePngPixels(png, LIMIT, "grey");
    assert.ok(outcome && "decoded" in outcome && outcome.decoded, name);
    assert.equal(outcome.decoded.channels, 1, name);
    assert.deepEqual(new Uint8Array(outcome.decoded.data), expected, name);
    const libvips = await sharp(png).toColourspace("b-w").extractChannel(0).raw().toBuffer();
    assert.deepEqual(new Uint8Array(outcome.decoded.data), new Uint8Array(libvips), `${name}: libvips' grey`);
  }
  // One pixel of colour in the last row (its green, or its blue): libvips' conversion decides its grey.
  for (const channel of [1, 2]) {
    const coloured = new Uint8Array(neutral);
    coloured[coloured.length - 3 + channel] ^= 1;
    assert.equal(await decodePngPixels(encode(width, height, 2, coloured, () => 1), LIMIT, "grey"), undefined);
  }
  // With alpha, one grey band is not what a caller gets: that is left to libvips too.
  assert.equal(await decodePngPixels(encode(width, height, 4, noise(width * height * 2, 2), () => 0), LIMIT, "grey"), undefined);
  // Damage is still refused while the grey band is taken.
  const cut = encode(width, height, 2, neutral, (y) => (y === height - 1 ? 9 : 0));
  assert.deepEqual(await decodePngPixels(cut, LIMIT, "grey"), { failure: "a PNG whose image data is corrupt and cannot be decoded" });
});
