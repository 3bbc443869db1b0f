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
