// Turns a nearest-neighbour field back into pixels: an average of all overlapping source patches
// (the EM step at coarse levels) or a straight copy of one source pixel (the sharp final result).

import type { Level, Patches } from "./level.ts";
import { sourceOf, type Nnf } from "./patchmatch.ts";

/**
 * Wexler-style vote: each unknown pixel becomes the mean of what every patch covering it proposes.
 * Smooth by design, which makes the coarse EM iterations converge; `scratch` holds 4 floats per pixel of the patches' span.
 */
export function voteAverage(level: Level, patches: Patches, nnf: Nnf, scratch: Float32Array): void {
  const { width, rgb, hole } = level;
  const { radius, targets } = patches;
  const { base } = nnf;
  scratch.fill(0);
  for (let i = 0; i < targets.length; i++) {
    const p = targets[i];
    const delta = nnf.source[p - base] - p;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        const q = p + dy * width + dx;
        if (hole[q] === 0) continue;
        const s = (q + delta) * 3;
        const a = (q - base) * 4;
        scratch[a] += rgb[s];
        scratch[a + 1] += rgb[s + 1];
        scratch[a + 2] += rgb[s + 2];
        scratch[a + 3] += 1;
      }
    }
  }
  const end = base + scratch.length / 4;
  for (let q = base; q < end; q++) {
    if (hole[q] === 0) continue;
    const a = (q - base) * 4;
    const n = scratch[a + 3];
    if (n === 0) continue;
    rgb[q * 3] = Math.round(scratch[a] / n);
    rgb[q * 3 + 1] = Math.round(scratch[a + 1] / n);
    rgb[q * 3 + 2] = Math.round(scratch[a + 2] / n);
  }
}

/**
 * Each unknown pixel takes the matching pixel of the patch centred on it (or of the nearest
 * patch centre, at the picture's edge). No averaging, so the fill keeps the source's grain.
 */
export function copyMatches(level: Level, patches: Patches, nnf: Nnf): void {
  const { width, height, rgb, hole } = level;
  const { radius } = patches;
  const xMax = width - 1 - radius;
  const yMax = height - 1 - radius;
  // Every unknown pixel lies in the patches' span.
  const firstRow = Math.floor(patches.span.first / width);
  const endRow = Math.ceil(patches.span.end / width);
  for (let y = firstRow; y < endRow; y++) {
    const py = y < radius ? radius : y > yMax ? yMax : y;
    for (let x = 0; x < width; x++) {
      const q = y * width + x;
      if (hole[q] === 0) continue;
      const px = x < radius ? radius : x > xMax ? xMax : x;
      const p = py * width + px;
      const s = (sourceOf(nnf, p) + q - p) * 3;
      rgb[q * 3] = rgb[s];
      rgb[q * 3 + 1] = rgb[s + 1];
      rgb[q * 3 + 2] = rgb[s + 2];
    }
  }
}
