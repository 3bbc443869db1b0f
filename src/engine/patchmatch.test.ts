// PatchMatch finds the true source of a patch that exists elsewhere in the picture, starting
// from random matches, and never proposes a source that overlaps the hole.

import assert from "node:assert/strict";
import { test } from "node:test";
import { findPatches, type Level } from "./level.ts";
import { firstGuess } from "./guess.ts";
import { BUSY_WEIGHT, identityNnf, improveMatches, matchCost, measureTexture, randomMatches, REUSE_WEIGHT, TEXTURE_WEIGHT } from "./patchmatch.ts";
import { createRandom } from "./random.ts";
import { voteAverage } from "./vote.ts";

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

test("measureTexture: each source patch's gradient energy, and the rim's, as plain sums over the patch give them", () => {
  const width = 40;
  const height = 30;
  const random = createRandom(3);
  // Grain on the left, flat grey on the right, a hole in the grain.
  const rgb = new Uint8Array(width * height * 3).fill(90);
  for (let y = 0; y < height; y++) for (let x = 0; x < 20; x++) rgb.fill(Math.floor(random.next() * 256), (y * width + x) * 3, (y * width + x) * 3 + 3);
  const hole = new Uint8Array(width * height);
  for (let y = 10; y < 18; y++) hole.fill(1, y * width + 6, y * width + 14);
  const level: Level = { width, height, rgb, hole };
  const patches = findPatches(level, 3);
  const texture = measureTexture(level, patches);
  const known = (q: number) => hole[q] === 0 && hole[q + 1] === 0 && hole[q + width] === 0;
  const gradient = (q: number) => {
    if (q % width === width - 1 || q >= (height - 1) * width) return 0; // no neighbour to the right or below
    if (!known(q)) return 0; // the hole's pixels are an estimate, not texture
    let e = 0;
    for (let c = 0; c < 3; c++) e += (rgb[(q + 1) * 3 + c] - rgb[q * 3 + c]) ** 2 + (rgb[(q + width) * 3 + c] - rgb[q * 3 + c]) ** 2;
    return e;
  };
  let checked = 0;
  for (let p = 0; p < width * height; p++) {
    if (patches.valid[p] !== 1) {
      assert.equal(texture.energy[p], 0);
      continue;
    }
    let sum = 0;
    for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) sum += gradient(p + dy * width + dx);
    assert.ok(Math.abs(texture.energy[p] - sum) <= sum * 1e-6, `source ${p}: ${texture.energy[p]}, by hand ${sum}`);
    checked++;
  }
  assert.ok(checked > 200);
  // The flat side's sources have none; the rim (all in the grain) expects as much as the grain has.
  assert.equal(texture.energy[15 * width + 30], 0);
  let rimSum = 0;
  let rims = 0;
  for (const p of patches.targets) {
    if (patches.rim[p] !== 1) continue;
    let sum = 0;
    let count = 0;
    for (let dy = -3; dy <= 3; dy++) {
      for (let dx = -3; dx <= 3; dx++) {
        const q = p + dy * width + dx;
        if (!known(q)) continue;
        sum += gradient(q);
        count++;
      }
    }
    if (count > 0) {
      rimSum += (sum / count) * 49;
      rims++;
    }
  }
  assert.ok(Math.abs(texture.expected - rimSum / rims) <= texture.expected * 1e-6);
  assert.ok(texture.expected > 0);
});

test("matchCost: a source pays for being flatter than the hole's surroundings, and for being busier", () => {
  const width = 30;
  const height = 20;
  // Flat grey: every patch costs 0 against every other, so only the texture term is left.
  const level: Level = { width, height, rgb: new Uint8Array(width * height * 3).fill(80), hole: new Uint8Array(width * height) };
  for (let y = 8; y < 12; y++) level.hole.fill(1, y * width + 4, y * width + 8);
  const patches = findPatches(level, 3);
  const target = 10 * width + 6;
  const flat = 10 * width + 20;
  const busy = 10 * width + 22;
  const energy = new Float32Array(width * height);
  energy[busy] = 3000;
  const texture = { energy, expected: 1000 };
  assert.equal(matchCost(level, patches, target, flat, Infinity), 0);
  assert.equal(matchCost(level, patches, target, flat, Infinity, texture), TEXTURE_WEIGHT * 1000);
  assert.equal(matchCost(level, patches, target, busy, Infinity, texture), BUSY_WEIGHT * 2000);
  assert.ok(BUSY_WEIGHT > 0 && TEXTURE_WEIGHT > 0);
});

test("with a reuse cost, runs of targets no longer copy one source out of a row-blended estimate (the band of repeated marks)", () => {
  const width = 128;
  const height = 128;
  const random = createRandom(1);
  // Gravel: each pixel takes the grey of the nearest of 150 random stones, plus grain.
  const stones = Array.from({ length: 150 }, () => ({ x: random.next() * width, y: random.next() * height, grey: 60 + random.next() * 150 }));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let nearest = stones[0];
      for (const stone of stones) if ((stone.x - x) ** 2 + (stone.y - y) ** 2 < (nearest.x - x) ** 2 + (nearest.y - y) ** 2) nearest = stone;
      rgb.fill(Math.max(0, Math.min(255, Math.round(nearest.grey + (random.next() - 0.5) * 30))), (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  const hole = new Uint8Array(width * height);
  for (let y = 44; y < 80; y++) hole.fill(1, y * width + 40, y * width + 88);
  // The coarsest level's schedule: the first guess, then 6 rounds of 3 sweeps and a vote.
  const settle = (withReuse: boolean) => {
    const level: Level = { width, height, rgb: new Uint8Array(rgb), hole };
    const patches = findPatches(level, 3);
    firstGuess(level);
    const nnf = identityNnf(patches);
    const search = createRandom(7);
    randomMatches(level, patches, nnf, search);
    const texture = measureTexture(level, patches);
    const scratch = new Float32Array((patches.span.end - patches.span.first) * 4);
    for (let i = 0; i < 6; i++) {
      improveMatches(level, patches, nnf, 3, width, search, texture, withReuse ? REUSE_WEIGHT * texture.expected : undefined);
      voteAverage(level, patches, nnf, scratch);
    }
    const uses = new Map<number, number>();
    for (const p of patches.targets) uses.set(nnf.source[p - nnf.base], (uses.get(nnf.source[p - nnf.base]) ?? 0) + 1);
    for (const p of patches.targets) assert.equal(patches.valid[nnf.source[p - nnf.base]], 1, "a source patch overlaps the hole");
    const crowded = patches.targets.filter((p) => uses.get(nnf.source[p - nnf.base])! >= 3).length;
    return { most: Math.max(...uses.values()), crowdedShare: crowded / patches.targets.length };
  };
  const plain = settle(false);
  assert.ok(plain.most >= 20 && plain.crowdedShare > 0.3, `without the reuse cost: ${plain.most} targets on one source, ${plain.crowdedShare} crowded`);
  const spread = settle(true);
  assert.ok(spread.most <= 4, `${spread.most} targets copy one source`);
  assert.ok(spread.crowdedShare < 0.03, `${(spread.crowdedShare * 100).toFixed(1)} % of the targets share their source with two or more others`);
});
