// The photo benchmark's yardsticks (bench/photo-metrics.ts) on pictures whose answers are known:
// a perfect fill, a flat fill across a strong edge, and a blurred one.

import { test } from "node:test";
import assert from "node:assert/strict";
import { edgeContinuity, holePsnr, holeSsim, ringOf, sharpnessRatio, type Picture } from "../bench/photo-metrics.ts";

const SIZE = 96;

/** Vertical stripes 8 px wide (black/white): strong edges everywhere, crossing any hole. */
function stripes(): Picture {
  const rgb = new Uint8Array(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) rgb.fill((i % SIZE >> 3) % 2 ? 255 : 0, i * 3, i * 3 + 3);
  return { width: SIZE, height: SIZE, rgb };
}

function square(left: number, side: number): Uint8Array {
  const hole = new Uint8Array(SIZE * SIZE);
  for (let y = left; y < left + side; y++) hole.fill(255, y * SIZE + left, y * SIZE + left + side);
  return hole;
}

function filledWith(picture: Picture, hole: Uint8Array, value: (i: number) => number): Picture {
  const rgb = new Uint8Array(picture.rgb);
  for (let i = 0; i < hole.length; i++) if (hole[i]) rgb.fill(value(i), i * 3, i * 3 + 3);
  return { ...picture, rgb };
}

test("a perfect fill: infinite PSNR, SSIM 1, the original's sharpness, every edge continued", () => {
  const original = stripes();
  const hole = square(32, 32);
  const ring = ringOf(hole, SIZE, SIZE);
  assert.equal(holePsnr(original, original, hole), Infinity);
  assert.ok(Math.abs(holeSsim(original, original, hole) - 1) < 1e-9);
  assert.ok(Math.abs(sharpnessRatio(original, hole, ring) - 1) < 0.2, "stripes are as busy inside as around");
  assert.equal(edgeContinuity(original, original, hole), 1);
});

test("a flat grey fill across the stripes: no sharpness, no edge continued, low PSNR and SSIM", () => {
  const original = stripes();
  const hole = square(32, 32);
  const flat = filledWith(original, hole, () => 128);
  // Only the seam at its border has any gradient left.
  assert.ok(sharpnessRatio(flat, hole, ringOf(hole, SIZE, SIZE)) < 0.2);
  assert.ok(edgeContinuity(original, flat, hole) < 0.2, `edge continuity ${edgeContinuity(original, flat, hole)}`);
  assert.ok(Math.abs(holePsnr(original, flat, hole) - 10 * Math.log10(255 ** 2 / 127.5 ** 2)) < 0.1);
  assert.ok(holeSsim(original, flat, hole) < 0.3);
});

test("the ring is outside the hole and 12 px deep", () => {
  const hole = square(40, 16);
  const ring = ringOf(hole, SIZE, SIZE);
  for (let i = 0; i < hole.length; i++) assert.ok(!(ring[i] && hole[i]), "no pixel in both");
  assert.equal(ring[40 * SIZE + 28], 1, "12 px left of the hole");
  assert.equal(ring[40 * SIZE + 27], 0, "13 px left of the hole");
});
