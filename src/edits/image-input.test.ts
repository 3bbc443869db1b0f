// One source image or mask, checked before any work: its format, its whole
// structure, its size at each limit and on each side, its pixels; each refusal
// a 400 naming the field, with its own code.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import sharp from "sharp";
import { RetouchError } from "../errors.ts";
import { cutPngReframed, truncateAt } from "../../test/support/damage.ts";
import { inspectImage, MIN_IMAGE_SIDE } from "./image-input.ts";

const MAX = 64;
const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } })
    .png()
    .toBuffer();

async function refusal(bytes: Buffer, param = "image"): Promise<{ message: string; param?: string | null; code?: string }> {
  try {
    await inspectImage(bytes, param, MAX);
  } catch (error) {
    assert.ok(error instanceof RetouchError, String(error));
    assert.equal(error.status, 400);
    return { message: error.message, param: error.param, code: error.code };
  }
  assert.fail("the image was accepted");
}

describe("sizes", () => {
  test("the largest and the smallest side accepted, on either side", async () => {
    for (const [width, height] of [[MAX, MIN_IMAGE_SIDE], [MIN_IMAGE_SIDE, MAX]]) {
      const image = await inspectImage(await png(width, height), "image", MAX);
      assert.deepEqual([image.format, image.width, image.height, image.decoded], ["png", width, height, undefined]);
    }
  });
  for (const [width, height] of [[MAX + 1, 20], [20, MAX + 1]]) {
    test(`${width}x${height} is too large`, async () => {
      assert.deepEqual(await refusal(await png(width, height), "image[2]"), {
        message: `image[2] is ${width}x${height}; the largest accepted is ${MAX}x${MAX} pixels. Scale it down first.`,
        param: "image[2]",
        code: "image_too_large",
      });
    });
  }
  for (const [width, height] of [[MIN_IMAGE_SIDE - 1, 40], [40, MIN_IMAGE_SIDE - 1]]) {
    test(`${width}x${height} is too small`, async () => {
      assert.deepEqual(await refusal(await png(width, height), "mask"), {
        message: `mask is ${width}x${height}; the smallest accepted is 16x16 pixels`,
        param: "mask",
        code: "image_too_small",
      });
    });
  }
});

describe("what the file is", () => {
  test("not a PNG, JPEG or WebP", async () => {
    assert.deepEqual(await refusal(Buffer.from("GIF89a, or anything else")), {
      message: "image is not a PNG, JPEG or WebP image (checked by its content, not its declared type)",
      param: "image",
      code: "invalid_image_format",
    });
  });
  test("a structure cut short", async () => {
    assert.deepEqual(await refusal(truncateAt(await png(40, 40), 0.5)), {
      message: "image is a PNG whose data ends early (truncated file)",
      param: "image",
      code: "invalid_image",
    });
  });
  test("a whole structure over pixels that do not decode", async () => {
    assert.deepEqual(await refusal(cutPngReframed(await png(40, 40), 0.5)), {
      message: "image is a PNG whose image data is corrupt and cannot be decoded",
      param: "image",
      code: "invalid_image",
    });
  });
  test("a mask's pixels kept when asked: one grey band without transparency, all bands with it", async () => {
    for (const background of ["#2878c8", "#808080"]) {
      for (const format of ["png", "jpeg"] as const) {
        const bytes = await sharp({ create: { width: 20, height: 18, channels: 3, background } }).toFormat(format).toBuffer();
        const mask = await inspectImage(bytes, "mask", MAX, { keepPixels: true });
        assert.deepEqual([mask.decoded?.width, mask.decoded?.height, mask.decoded?.channels, mask.decoded?.data.length], [20, 18, 1, 360], `${background} ${format}`);
      }
    }
    const withAlpha = await sharp({ create: { width: 20, height: 18, channels: 4, background: "#ffffff80" } }).png().toBuffer();
    assert.equal((await inspectImage(withAlpha, "mask", MAX, { keepPixels: true })).decoded?.channels, 4);
  });
});

/** `png` with its IHDR's data changed by `edit` and its checksum made right again: only the header lies. */
function withHeader(png: Buffer, edit: (ihdr: Buffer) => void): Buffer {
  const out = Buffer.from(png);
  edit(out.subarray(16, 29));
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

describe("headers that lie", () => {
  test("a header claiming 20000x20000 is too large, by its size, before a pixel is decoded", async () => {
    const huge = withHeader(await png(20, 20), (ihdr) => {
      ihdr.writeUInt32BE(20_000, 0);
      ihdr.writeUInt32BE(20_000, 4);
    });
    const refused = await refusal(huge);
    assert.equal(refused.code, "image_too_large");
    assert.match(refused.message, /^image is 20000x20000; the largest accepted is 64x64 pixels/);
  });
  test("a header libvips cannot read (a bit depth of 7) is a corrupt header", async () => {
    const refused = await refusal(withHeader(await png(20, 20), (ihdr) => (ihdr[8] = 7)), "mask");
    assert.deepEqual(refused, { param: "mask", code: "invalid_image", message: "mask looks like PNG but its header is corrupt" });
  });
});
