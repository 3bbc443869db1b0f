import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { toOpenAiMask } from "./mask.ts";

test("alpha is 255 minus the grey level at every pixel, at the mask's exact size", async () => {
  const width = 7;
  const height = 5;
  const grey = Uint8Array.from({ length: width * height }, (_, i) => (i * 37) % 256);
  grey[0] = 255;
  grey[1] = 0;
  const png = await toOpenAiMask({ width, height, grey });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.equal((await sharp(png).metadata()).format, "png");
  assert.deepEqual([info.width, info.height, info.channels], [width, height, 4]);
  for (let i = 0; i < grey.length; i++) assert.equal(data[i * 4 + 3], 255 - grey[i], `pixel ${i}`);
  assert.equal(data[3], 0, "white (edit) is transparent");
  assert.equal(data[7], 255, "black (keep) is opaque");
});

test("an all-black mask (keep everything) still has an alpha channel, as OpenAI requires", async () => {
  const png = await toOpenAiMask({ width: 16, height: 16, grey: new Uint8Array(256) });
  const metadata = await sharp(png).metadata();
  assert.equal(metadata.hasAlpha, true);
  assert.equal(metadata.channels, 4);
});

test("a large mask with every grey level and repeated rows decodes, strictly, to alpha = 255 - grey pixel by pixel", async () => {
  const width = 1024;
  const height = 768;
  const grey = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Bands of identical rows (the Up filter's zero rows), a painted disc, and noise at the bottom.
      const disc = (x - 400) ** 2 + (y - 300) ** 2 < 150 ** 2 ? 255 : 0;
      grey[y * width + x] = y > 700 ? (x * 7919 + y * 104729) % 256 : y % 97 < 3 ? x % 256 : disc;
    }
  }
  const png = await toOpenAiMask({ width, height, grey });
  const { data, info } = await sharp(png, { failOn: "error" }).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [width, height, 4]);
  for (let i = 0; i < grey.length; i++) {
    if (data[i * 4 + 3] !== 255 - grey[i] || data[i * 4] !== 0) assert.fail(`pixel ${i % width},${Math.floor(i / width)}: alpha ${data[i * 4 + 3]}, grey ${grey[i]}`);
  }
  assert.ok(png.length < 200_000, `${png.length} bytes`);
});
