// PatchMatch finds the true source of a patch that exists elsewhere in the picture, starting
// from random matches, and never proposes a source that overlaps the hole.

import assert from "node:assert/strict";
import { test } from "node:test";
import { findPatches, type Level } from "./level.ts";
import { identityNnf, improveMatches, randomMatches } from "./patchmatch.ts";
import { createRandom } from "./random.ts";

test("random init + 4 sweeps recover an exact copy's offset and keep every source valid", () => {
  const width = 80;
  const height = 60;
  const random = createRandom(1);
  // Smooth random waves plus grain: like a photo, nearby offsets cost less, which search exploits.
  const rgb = new Uint8Array(width * height * 3);
  const waves = Array.from({ length: 9 }, () => [random.next() * 0.5, random.next() * 0.5, random.next() * 6.3]);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 128 + (random.next() - 0.5) * 16;
        for (let k = 0; k < 3; k++) v += 35 * Math.sin(waves[c * 3 + k][0] * x + waves[c * 3 + k][1] * y + waves[c * 3 + k][2]);
        rgb[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  // The hole holds an exact copy of the block 40 px to its right, so that offset costs 0.
  const hole = new Uint8Array(width * height);
  for (let y = 20; y < 40; y++) {
    for (let x = 10; x < 30; x++) {
      hole[y * width + x] = 1;
      for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = rgb[(y * width + x + 40) * 3 + c];
    }
  }
  const level: Level = { width, height, rgb, hole };
  const patches = findPatches(level, 3);
  const nnf = identityNnf(patches);
  randomMatches(level, patches, nnf, random);
  improveMatches(level, patches, nnf, 4, width, random);
  let exact = 0;
  let inside = 0;
  for (const p of patches.targets) {
    assert.equal(patches.valid[nnf.source[p - nnf.base]], 1, "a source patch overlaps the hole");
    if (patches.rim[p] === 1) continue; // rim patches also cover noise that has no copy
    inside++;
    if (nnf.source[p - nnf.base] === p + 40) exact++;
  }
  assert.equal(inside, 14 * 14);
  assert.ok(exact > 0.9 * inside, `${exact} of ${inside} exact`);
});
