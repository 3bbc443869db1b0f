import { test } from "node:test";
import { crc32 } from "node:zlib";
import assert from "node:assert/strict";
import sharp from "sharp";
import { createCatalog } from "../catalog/index.ts";
import type { SourceImage } from "../edits/index.ts";
import { RetouchError } from "../errors.ts";
import { pngBomb } from "../../test/upstreams/fake-openai.ts";
import { checkResult, expectedResult, RESULT_LIMITS, resultLimits, type ExpectedResult } from "./result-check.ts";

const catalog = createCatalog({ margin: "0.05" });
const square: ExpectedResult = { requested: "1024x1024", accepted: [{ width: 1024, height: 1024 }], model: "gpt-image-1" };

function image(width: number, height: number, format: "png" | "jpeg" | "webp" = "png"): Promise<Buffer> {
  // Noise, so that every format spreads its data over the whole file.
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
  return sharp(pixels, { raw: { width, height, channels: 3 } }).toFormat(format).toBuffer();
}

const check = (bytes: Uint8Array, expected = square, limits = RESULT_LIMITS) =>
  checkResult({ bytes: new Uint8Array(bytes), format: "png" }, expected, "OpenAI", limits);

/** Asserts a 502 upstream_error whose message matches. */
async function refused(work: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(work, (error) => {
    assert.ok(error instanceof RetouchError, String(error));
    assert.equal(error.status, 502);
    assert.equal(error.code, "upstream_error");
    assert.match(error.message, /^OpenAI failed to complete the edit: /);
    assert.match(error.message, message);
    return true;
  });
}

test("a whole image of the size asked for passes, with its format read from its bytes", async () => {
  for (const format of ["png", "jpeg", "webp"] as const) {
    const bytes = await image(1024, 1024, format);
    const checked = await check(bytes);
    assert.deepEqual(checked, { bytes: new Uint8Array(bytes), format });
  }
});

test("an image cut off anywhere is refused as truncated", async () => {
  for (const format of ["png", "jpeg", "webp"] as const) {
    const whole = await image(1024, 1024, format);
    for (const share of [0.5, 0.95]) {
      const cut = whole.subarray(0, Math.floor(whole.length * share));
      await refused(check(cut), /: its image is a (PNG|JPEG|WebP) .*\(truncated file\); nothing was charged$/);
    }
  }
  // libpng itself decodes this one without complaint: only the missing end chunk gives it away.
  const png = await image(1024, 1024);
  await refused(check(png.subarray(0, png.length - 12)), /its image is a PNG whose data ends early \(truncated file\)/);
});

test("an image whose middle is damaged is refused as corrupt, whether its checksums tell or only the decoder", async () => {
  const png = Buffer.from(await image(1024, 1024));
  const idat = png.indexOf("IDAT") + 4;
  png.fill(0x55, idat + 100, idat + 164);
  await refused(check(png), /its image is a PNG whose IDAT chunk has a bad checksum/);
  // The same damage under a recomputed checksum: the structure is whole, the pixels are not.
  const length = png.readUInt32BE(idat - 8);
  png.writeUInt32BE(crc32(png.subarray(idat - 4, idat + length)), idat + length);
  await refused(check(png), /its image is a PNG whose image data is corrupt and cannot be decoded/);
});

test("bytes that are no image at all are refused", async () => {
  await refused(check(Buffer.from("<html>502 Bad Gateway</html>")), /not a PNG, JPEG or WebP image/);
});

test("an image of another size than the one asked for is refused, naming both", async () => {
  await refused(check(await image(1, 1)), /it returned a 1x1 image for a 1024x1024 edit; nothing was charged/);
  await refused(check(await image(1536, 1024)), /it returned a 1536x1024 image for a 1024x1024 edit/);
});

test("a PNG bomb is refused by its header, before its pixels are decoded", async () => {
  const bomb = pngBomb(20_000, 20_000);
  const started = process.cpuUsage();
  await refused(check(bomb), /the image is 20000x20000, over the limit of 4096x4096 \(16\.8 megapixels\)/);
  // Decoding 400 megapixels would take seconds of CPU; reading a header takes none.
  const { user } = process.cpuUsage(started);
  assert.ok(user < 1_000_000, `used ${user / 1000} ms of CPU`);
});

test("an answer over the byte limit is refused before anything else is read; one over the pixel limit by its header", async () => {
  const limits = { ...RESULT_LIMITS, maxBytes: 100_000 };
  await refused(check(Buffer.alloc(150_000), square, limits), /its answer is 0\.2 MB, over the limit of 0\.1 MB per image/);
  const tall = await sharp({ create: { width: 4000, height: 5000, channels: 3, background: "#888" } }).png().toBuffer();
  await refused(check(tall), /the image is 4000x5000, over the limit of 4096x4096/);
});

test("the limits are 50 MB and 4096x4096, and grow with the largest input side", () => {
  assert.deepEqual(RESULT_LIMITS, { maxBytes: 50_000_000, maxSide: 4096 });
  assert.deepEqual(resultLimits(2048), RESULT_LIMITS);
  assert.deepEqual(resultLimits(8192), { maxBytes: 200_000_000, maxSide: 8192 });
});

test("OpenAI must answer the size asked for, or one of its three when sent auto", () => {
  const model = catalog.resolve("openai/gpt-image-1");
  assert.deepEqual(expectedResult({ model, size: "1536x1024", images: [] }), {
    requested: "1536x1024",
    accepted: [{ width: 1536, height: 1024 }],
    model: "gpt-image-1",
  });
  const auto = expectedResult({ model, size: "auto", images: [source(640, 480)] });
  assert.equal(auto.requested, "auto (640x480)");
  assert.deepEqual(auto.accepted.map(({ width, height }) => `${width}x${height}`), ["1024x1024", "1536x1024", "1024x1536"]);
});

test("Gemini may answer any of its documented sizes, whatever aspect was asked", async () => {
  const expected = expectedResult({ model: catalog.resolve("google/nano-banana"), size: "1024x1024", images: [source(64, 64)] });
  assert.equal(expected.accepted.length, 10);
  const landscape = await image(1248, 832);
  assert.equal((await check(landscape, expected)).format, "png");
  await refused(check(await image(1024, 1000), expected), /a 1024x1000 image for a 1024x1024 edit; gemini-2\.5-flash-image makes only 1024x1024, 832x1248, .* or 1536x672/);
});

test("the engine's auto keeps the source image's size", () => {
  const expected = expectedResult({ model: catalog.resolve("local/content-aware-fill"), size: "auto", images: [source(300, 200)] });
  assert.deepEqual(expected.accepted, [{ width: 300, height: 200 }]);
});

function source(width: number, height: number): SourceImage {
  return { bytes: new Uint8Array(), format: "png", width, height };
}
