// The seam correction: a fill copied from a brighter part of the picture is brought to the
// brightness around the hole, keeps the grain it was copied with, and nothing outside changes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { findPatches, type Level } from "./level.ts";
import { identityNnf } from "./patchmatch.ts";
import { smoothSeams } from "./seams.ts";
import { copyMatches } from "./vote.ts";

const WIDTH = 64;
const HEIGHT = 40;
const SHIFT = 32;

/** Even grey 100 on the left; on the right a checkerboard of 130 and 150 (mean 140); a hole on the left. */
function picture(): Level {
  const rgb = new Uint8Array(WIDTH * HEIGHT * 3);
  const hole = new Uint8Array(WIDTH * HEIGHT);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const p = y * WIDTH + x;
      rgb.fill(x < SHIFT ? 100 : (x + y) % 2 === 0 ? 130 : 150, p * 3, p * 3 + 3);
      if (x >= 8 && x < 22 && y >= 12 && y < 28) hole[p] = 1;
    }
  }
  return { width: WIDTH, height: HEIGHT, rgb, hole };
}

/** Every target copies from SHIFT px to its right, in the checkerboard, as PatchMatch might choose. */
function copiedFromTheRight(level: Level) {
  const patches = findPatches(level, 3);
  const nnf = identityNnf(patches);
  for (const p of patches.targets) {
    assert.equal(patches.valid[p + SHIFT], 1, "the test's sources must be usable patches");
    nnf.source[p - nnf.base] = p + SHIFT;
  }
  copyMatches(level, patches, nnf);
  return { patches, nnf };
}

function holeStats({ rgb, hole }: Level): { mean: number; grain: number } {
  let sum = 0;
  let count = 0;
  let steps = 0;
  let stepCount = 0;
  for (let p = 0; p < hole.length; p++) {
    if (hole[p] !== 1) continue;
    sum += rgb[p * 3];
    count++;
    if (hole[p + 1] === 1) {
      steps += Math.abs(rgb[(p + 1) * 3] - rgb[p * 3]);
      stepCount++;
    }
  }
  return { mean: sum / count, grain: steps / stepCount };
}

test("a fill copied from a brighter place takes the brightness around the hole and keeps its grain", () => {
  const level = picture();
  const { patches, nnf } = copiedFromTheRight(level);
  const copied = holeStats(level);
  assert.ok(Math.abs(copied.mean - 140) < 1, `the copy is the checkerboard (mean ${copied.mean})`);

  smoothSeams(level, nnf, patches.radius);
  const corrected = holeStats(level);
  assert.ok(Math.abs(corrected.mean - 100) < 2, `the fill's mean is ${corrected.mean.toFixed(1)}, its surroundings' 100`);
  assert.ok(corrected.grain > 18, `the checkerboard's steps of 20 are kept (mean step ${corrected.grain.toFixed(1)})`);
  for (let p = 0; p < level.hole.length; p++) {
    if (level.hole[p] === 1) continue;
    const expected = p % WIDTH < SHIFT ? 100 : ((p % WIDTH) + Math.floor(p / WIDTH)) % 2 === 0 ? 130 : 150;
    assert.equal(level.rgb[p * 3], expected, `known pixel ${p} changed`);
  }
});

test("a fill that already matches its surroundings is left as it is", () => {
  const level = picture();
  // Every target copies the even grey from one place above the hole: the border differences are all 0.
  const patches = findPatches(level, 3);
  const nnf = identityNnf(patches);
  const grey = 4 * WIDTH + 26;
  assert.equal(patches.valid[grey], 1);
  for (const p of patches.targets) nnf.source[p - nnf.base] = grey;
  copyMatches(level, patches, nnf);
  const before = Uint8Array.from(level.rgb);
  smoothSeams(level, nnf, patches.radius);
  assert.deepEqual(level.rgb, before);
});
