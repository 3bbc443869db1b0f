// The hole map and work regions: how far the mask grows, and which holes are filled together.

import assert from "node:assert/strict";
import { test } from "node:test";
import { binarizeMask, countHoles, dilateMask } from "./mask.ts";
import { holeRegions } from "./regions.ts";

test("binarizeMask splits at 128", () => {
  assert.deepEqual([...binarizeMask(new Uint8Array([0, 127, 128, 255]))], [0, 0, 1, 1]);
});

test("dilateMask grows one pixel into a (2r+1)^2 square, clipped at the picture's edge", () => {
  const hole = new Uint8Array(20 * 10);
  hole[5 * 20 + 10] = 1;
  hole[0] = 1;
  const grown = dilateMask(hole, 20, 10, 3);
  assert.equal(countHoles(grown), 49 + 16);
  assert.equal(grown[2 * 20 + 7], 1);
  assert.equal(grown[1 * 20 + 7], 0);
  assert.equal(grown[3 * 20 + 3], 1);
  assert.equal(grown[3 * 20 + 4], 0);
});

test("holeRegions keeps far-apart holes separate and merges holes whose surroundings overlap", () => {
  const width = 400;
  const hole = new Uint8Array(width * 400);
  const square = (x0: number, y0: number, side: number) => {
    for (let y = y0; y < y0 + side; y++) hole.fill(1, y * width + x0, y * width + x0 + side);
  };
  square(10, 10, 10);
  square(350, 350, 10);
  assert.equal(holeRegions(hole, width, 400).length, 2);
  square(40, 10, 10); // 20 px from the first: their sampling bands overlap
  const regions = holeRegions(hole, width, 400);
  assert.equal(regions.length, 2);
  assert.deepEqual(regions[0], { x0: 10, y0: 10, x1: 50, y1: 20 });
});
