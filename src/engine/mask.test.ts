// The hole map and work regions: how far the mask grows, and which holes are filled together.

import assert from "node:assert/strict";
import { test } from "node:test";
import { binarizeMask, countHoles, dilateMask, holeBounds } from "./mask.ts";
import { componentBoxes, holeRegions } from "./regions.ts";

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

test("a hole's box takes in every pixel 8-connected to it: arms that meet further down, diagonal steps, a hole at the picture's edges", () => {
  const width = 12;
  const height = 9;
  const map = [
    "#..#........",
    "#..#...#....",
    "####....#..#",
    ".........#..",
    "...........#",
    "............",
    "..##......##",
    ".#........##",
    "#.........##",
  ];
  const hole = Uint8Array.from(map.join(""), (c) => (c === "#" ? 1 : 0));
  assert.deepEqual(componentBoxes(hole, width, height), [
    { x0: 0, y0: 0, x1: 4, y1: 3 }, // a U: two runs per row until the bottom row joins them
    { x0: 7, y0: 1, x1: 10, y1: 4 }, // a diagonal line
    { x0: 11, y0: 2, x1: 12, y1: 3 }, // one pixel: not touching the diagonal
    { x0: 11, y0: 4, x1: 12, y1: 5 },
    { x0: 0, y0: 6, x1: 4, y1: 9 }, // a diagonal into the corner
    { x0: 10, y0: 6, x1: 12, y1: 9 },
  ]);
  // Any value but 0 is hole, as elsewhere in the engine (the benchmarks' maps hold 255).
  assert.deepEqual(componentBoxes(hole.map((v) => v * 255), width, height), componentBoxes(hole, width, height));
  assert.deepEqual(holeBounds(hole, width, height), { x0: 0, y0: 0, x1: 11, y1: 8 });
  assert.equal(holeBounds(new Uint8Array(width * height), width, height), undefined);
});

test("dilateMask works in the hole's box only, with the same result as over the whole picture: holes at the edges, none at all", () => {
  const width = 30;
  const height = 20;
  const hole = new Uint8Array(width * height);
  assert.equal(countHoles(dilateMask(hole, width, height, 2)), 0);
  hole[0] = 1; // top left corner
  hole[19 * width + 29] = 255; // bottom right, any non-zero value
  hole[10 * width + 15] = 1;
  const grown = dilateMask(hole, width, height, 2);
  assert.equal(countHoles(grown), 9 + 9 + 25);
  assert.equal(grown[2 * width + 2], 1);
  assert.equal(grown[3 * width + 2], 0);
  assert.equal(grown[17 * width + 27], 1);
  assert.equal(grown[12 * width + 17], 1);
  assert.equal(grown[12 * width + 18], 0);
});
