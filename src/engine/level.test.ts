// findPatches: which centres are sources and targets, and the span of rows the per-pixel work
// arrays cover. A span one row short would read and write outside the match field.

import assert from "node:assert/strict";
import { test } from "node:test";
import { findPatches, type Level } from "./level.ts";
import { createRandom } from "./random.ts";

function randomLevel(width: number, height: number, seed: number): Level {
  const random = createRandom(seed);
  const hole = new Uint8Array(width * height);
  // One to three rectangles, some touching the border.
  for (let n = 1 + random.below(3); n > 0; n--) {
    const x0 = random.below(width);
    const y0 = random.below(height);
    const x1 = Math.min(width, x0 + 1 + random.below(12));
    const y1 = Math.min(height, y0 + 1 + random.below(12));
    for (let y = y0; y < y1; y++) hole.fill(1, y * width + x0, y * width + x1);
  }
  return { width, height, rgb: new Uint8Array(width * height * 3), hole };
}

test("sources miss the hole, targets are exactly the centres whose patch touches it, and the span holds every target's patch and neighbours", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const width = 20 + (seed % 17);
    const height = 16 + (seed % 13);
    const level = randomLevel(width, height, seed);
    const radius = 1 + (seed % 3);
    const { valid, sourceCount, targets, span } = findPatches(level, radius);
    const targetSet = new Set(targets);
    let sources = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        const inside = x >= radius && y >= radius && x < width - radius && y < height - radius;
        let touches = false;
        for (let dy = -radius; dy <= radius; dy++) {
          for (let dx = -radius; dx <= radius; dx++) {
            const qx = x + dx;
            const qy = y + dy;
            if (qx >= 0 && qy >= 0 && qx < width && qy < height && level.hole[qy * width + qx]) touches = true;
          }
        }
        assert.equal(valid[p], inside && !touches ? 1 : 0, `seed ${seed}: valid at ${x},${y}`);
        assert.equal(targetSet.has(p), inside && touches, `seed ${seed}: target at ${x},${y}`);
        sources += valid[p];
      }
    }
    assert.equal(sourceCount, sources);
    assert.equal(span.first % width, 0, "the span is whole rows");
    assert.equal(span.end % width, 0, "the span is whole rows");
    for (const p of targets) {
      // The patch's rows and one more each side: the propagation step reads the neighbours' matches.
      const y = Math.floor(p / width);
      const top = Math.max(0, y - radius - 1);
      const bottom = Math.min(height - 1, y + radius + 1);
      assert.ok(top * width >= span.first && (bottom + 1) * width <= span.end, `seed ${seed}: rows ${top}..${bottom} of target ${p} are not all in the span [${span.first}, ${span.end})`);
    }
    for (let p = 0; p < level.hole.length; p++) {
      if (level.hole[p]) assert.ok(p >= span.first && p < span.end, `seed ${seed}: hole pixel ${p} outside the span`);
    }
  }
});
