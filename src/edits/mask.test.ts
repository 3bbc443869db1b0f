import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { RetouchError } from "../errors.ts";
import { cutPngReframed } from "../../test/support/damage.ts";
import { makeScene } from "../../test/support/scene.ts";
import { inspectImage, type SourceImage } from "./image-input.ts";
import { normaliseMask } from "./mask.ts";

const SIDE = 128;

const source = (bytes: Buffer): SourceImage => ({ bytes, format: "png", width: SIDE, height: SIDE });

test("a mask the decoder chokes on is a 400 naming the mask, not a raw decoder error", async () => {
  // Reached only if a damaged mask got past inspectImage(): the guard behind the guard.
  const { rgb } = makeScene({ width: SIDE, height: SIDE });
  const png = await sharp(rgb, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toBuffer();
  const image = source(png);
  const mask = source(cutPngReframed(png, 0.5));
  await assert.rejects(normaliseMask(mask, image), (error: unknown) => {
    assert.ok(error instanceof RetouchError, String(error));
    assert.deepEqual(
      { status: error.status, param: error.param, code: error.code },
      { status: 400, param: "mask", code: "invalid_image" },
    );
    assert.match(error.message, /mask could not be decoded: the file is truncated or corrupt/);
    return true;
  });
});

test("a good mask comes back at the image's size as grey levels", async () => {
  const white = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#fff" } }).png().toBuffer();
  const mask = await normaliseMask({ bytes: white, format: "png", width: 64, height: 64 }, source(white));
  assert.equal(mask.grey.length, SIDE * SIDE);
  assert.ok(mask.grey.every((v) => v === 255));
});

test("a mask read from the pixels its check decoded gives exactly the grey levels of the libvips path, in both polarities", async () => {
  const width = 64;
  const height = 48;
  const image: SourceImage = { bytes: Buffer.alloc(0), format: "png", width, height };
  const at = (x: number, y: number) => ((x - 30) ** 2 + (y - 20) ** 2 < 15 ** 2 ? 255 : (x * 5 + y * 3) % 256);
  const grey = Buffer.from(Array.from({ length: width * height }, (_, i) => at(i % width, Math.floor(i / width))));
  // Painted: a rectangle to the right edge, so that most rows repeat the one above (read once, then copied).
  const painted = Buffer.from(Array.from({ length: width * height }, (_, i) => (i % width >= 10 && i >= 12 * width && i < 30 * width ? 255 : 0)));
  const last = width * height - 1;
  const channels = (count: 1 | 2 | 3 | 4, alpha: (i: number) => number, colour = (value: number, _i: number) => [value, value, value], levels = grey) => {
    const data = Buffer.alloc(width * height * count);
    for (let i = 0; i < width * height; i++) {
      const [r, g, b] = colour(levels[i], i);
      const pixel = count === 1 ? [r] : count === 2 ? [r, alpha(i)] : count === 3 ? [r, g, b] : [r, g, b, alpha(i)];
      pixel.forEach((value, k) => (data[i * count + k] = value));
    }
    return sharp(data, { raw: { width, height, channels: count } });
  };
  const masks: Record<string, Promise<Buffer>> = {
    "grey PNG": channels(1, () => 255).png().toBuffer(),
    "grey JPEG": channels(1, () => 255).jpeg().toBuffer(),
    "RGB PNG, neutral": channels(3, () => 255).png().toBuffer(),
    "RGBA PNG, binary alpha": channels(4, (i) => (i % 7 ? 255 : 0)).png().toBuffer(),
    "grey + alpha PNG, binary alpha": channels(2, (i) => (i % 5 ? 255 : 0)).png().toBuffer(),
    "RGBA PNG, soft alpha (libvips path)": channels(4, (i) => i % 256).png().toBuffer(),
    "RGB PNG, coloured": channels(3, () => 255, (v) => [v, 255 - v, v >> 1]).png().toBuffer(),
    "RGBA WebP, opaque": channels(4, () => 255).webp({ lossless: true }).toBuffer(),
    "RGBA PNG, binary alpha, red = green but not blue": channels(4, (i) => (i % 7 ? 255 : 0), (v) => [v, v, 255 - v]).png().toBuffer(),
    "RGBA PNG, alpha 254 and 255 only": channels(4, (i) => (i % 3 ? 255 : 254)).png().toBuffer(),
    "RGBA PNG, opaque": channels(4, () => 255).png().toBuffer(),
    "RGBA PNG, painted, opaque": channels(4, () => 255, undefined, painted).png().toBuffer(),
    "RGBA PNG, painted, transparent columns": channels(4, (i) => (i % width < 5 ? 0 : 255), undefined, painted).png().toBuffer(),
    "RGB PNG, painted, the very last pixel coloured": channels(3, () => 255, (v, i) => (i === last ? [v, v, 200] : [v, v, v]), painted).png().toBuffer(),
    "RGBA PNG, painted, the very last pixel half transparent": channels(4, (i) => (i === last ? 128 : 255), undefined, painted).png().toBuffer(),
  };
  for (const [name, bytesPromise] of Object.entries(masks)) {
    const bytes = await bytesPromise;
    for (const polarity of ["white", "openai"] as const) {
      const viaLibvips = await normaliseMask(await inspectImage(bytes, "mask", 4096), image, polarity);
      const fromCheck = await inspectImage(bytes, "mask", 4096, { keepPixels: true });
      assert.ok(fromCheck.decoded, `${name}: the check kept its pixels`);
      const quick = await normaliseMask(fromCheck, image, polarity);
      assert.ok(Buffer.from(quick.grey).equals(Buffer.from(viaLibvips.grey)), `${name}, ${polarity}: the same grey levels`);
    }
  }
});

test("a mask's shape may differ from the image's by under 1 % (rounding when it was scaled), not more", async () => {
  const image: SourceImage = { bytes: Buffer.alloc(0), format: "png", width: 200, height: 100 };
  const white = (width: number) => sharp({ create: { width, height: 100, channels: 3, background: "#fff" } }).png().toBuffer();
  const near = await normaliseMask(await inspectImage(await white(201), "mask", 4096), image);
  assert.deepEqual([near.width, near.height], [200, 100], "0.5 % off: scaled to the image");
  await assert.rejects(normaliseMask(await inspectImage(await white(197), "mask", 4096), image), /mask is 197x100 but image is 200x100/, "narrower too");
  await assert.rejects(normaliseMask(await inspectImage(await white(203), "mask", 4096), image), (error: unknown) => {
    assert.ok(error instanceof RetouchError);
    assert.deepEqual([error.status, error.param, error.code], [400, "mask", "mask_size_mismatch"]);
    assert.equal(
      error.message,
      "mask is 203x100 but image is 200x100: the mask must have the same aspect ratio as the image (same size, or scaled)",
    );
    return true;
  });
});

test("a mask at twice the image's size is scaled to it, read from its pixels or not, in both polarities", async () => {
  const image: SourceImage = { bytes: Buffer.alloc(0), format: "png", width: 64, height: 48 };
  const width = 128;
  const height = 96;
  // Left half black (keep), right half white (edit); for OpenAI's polarity the left half is also
  // transparent, which marks it as the edit.
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const right = i % width >= width / 2;
    rgba.fill(right ? 255 : 0, i * 4, i * 4 + 3);
    rgba[i * 4 + 3] = right ? 255 : 0;
  }
  const opaque = await sharp(rgba, { raw: { width, height, channels: 4 } }).removeAlpha().png().toBuffer();
  const transparent = await sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
  const cases = [
    { name: "opaque, white = edit", bytes: opaque, polarity: "white" as const, left: 0, right: 255 },
    { name: "transparent left half, OpenAI's polarity", bytes: transparent, polarity: "openai" as const, left: 255, right: 0 },
    { name: "transparent left half, retouch's polarity (transparent = keep)", bytes: transparent, polarity: "white" as const, left: 0, right: 255 },
  ];
  for (const { name, bytes, polarity, left, right } of cases) {
    for (const keepPixels of [false, true]) {
      const mask = await normaliseMask(await inspectImage(bytes, "mask", 4096, { keepPixels }), image, polarity);
      assert.deepEqual([mask.width, mask.height, mask.grey.length], [64, 48, 64 * 48], name);
      for (const y of [0, 20, 47]) {
        assert.equal(mask.grey[y * 64 + 5], left, `${name}: left at row ${y}`);
        assert.equal(mask.grey[y * 64 + 58], right, `${name}: right at row ${y}`);
      }
    }
  }
});

test("a mask of a slightly different shape is stretched onto the image, not cropped: its first and last rows both count", async () => {
  // 200x101 onto 100x50: within the 1 % tolerance. Cropped to cover, its top row was lost
  // (grey 0) and its bottom row kept (191); stretched, both come out alike.
  const width = 200;
  const height = 101;
  const data = Buffer.alloc(width * height * 3);
  for (let x = 0; x < width; x++) for (const y of [0, height - 1]) data.fill(255, (y * width + x) * 3, (y * width + x) * 3 + 3);
  const bytes = await sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
  const image: SourceImage = { bytes: Buffer.alloc(0), format: "png", width: 100, height: 50 };
  const mask = await normaliseMask(await inspectImage(bytes, "mask", 4096), image);
  const first = mask.grey.slice(0, 100);
  const last = mask.grey.slice(49 * 100, 50 * 100);
  assert.ok(first.every((value) => value > 64), `first row: ${first[0]}`);
  assert.deepEqual(first, last);
});
