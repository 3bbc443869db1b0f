// First guess for the coarsest level, before any patch is matched: each row of the hole blends
// its left and right known neighbours, and what no row reaches is peeled in from the rim.

import type { Level } from "./level.ts";

/**
 * Row blending continues horizontal structure (horizons, shorelines, table edges: the layout of
 * most photos) straight through the hole. A rim-inwards fill alone lets the top colour grow
 * down in a "V", and the EM iterations never climb out of that local optimum.
 */
export function firstGuess(level: Level): void {
  onionPeel(level);
  blendRows(level);
}

/** Each pixel the mean of its already-known neighbours, ring by ring from the rim inwards. */
export function onionPeel(level: Level): void {
  const { width, height, rgb, hole } = level;
  const known = new Uint8Array(hole.length);
  let ring: number[] = [];
  for (let p = 0; p < hole.length; p++) known[p] = hole[p] ? 0 : 1;
  for (let p = 0; p < hole.length; p++) if (hole[p] && touchesKnown(p, width, height, known)) ring.push(p);

  while (ring.length > 0) {
    // Compute the whole ring before marking it known, so the result does not depend on scan order.
    const values = new Float64Array(ring.length * 3);
    ring.forEach((p, i) => {
      const y = (p / width) | 0;
      const x = p - y * width;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const q = ny * width + nx;
          if (!known[q]) continue;
          for (let k = 0; k < 3; k++) values[i * 3 + k] += rgb[q * 3 + k];
          n++;
        }
      }
      for (let k = 0; k < 3; k++) values[i * 3 + k] /= n;
    });
    ring.forEach((p, i) => {
      for (let k = 0; k < 3; k++) rgb[p * 3 + k] = Math.round(values[i * 3 + k]);
      known[p] = 1;
    });
    const next: number[] = [];
    for (const p of ring) {
      const y = (p / width) | 0;
      const x = p - y * width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const q = ny * width + nx;
          if (known[q]) continue;
          known[q] = 2; // marks it queued so it is pushed once; reset below
          next.push(q);
        }
      }
    }
    for (const q of next) known[q] = 0;
    ring = next;
  }
}

function touchesKnown(p: number, width: number, height: number, known: Uint8Array): boolean {
  const y = (p / width) | 0;
  const x = p - y * width;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const nx = x + dx;
      const ny = y + dy;
      if (nx >= 0 && ny >= 0 && nx < width && ny < height && known[ny * width + nx] === 1) return true;
    }
  }
  return false;
}

/** Linear blend between the known pixels left and right of each run of unknown pixels in a row. */
export function blendRows(level: Level): void {
  const { width, height, rgb, hole } = level;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; ) {
      if (hole[row + x] === 0) {
        x++;
        continue;
      }
      let end = x;
      while (end < width && hole[row + end] === 1) end++;
      const left = x - 1;
      // A run that spans the whole row keeps the rim-inwards guess.
      if (left >= 0 || end < width) {
        const a = (row + (left >= 0 ? left : end)) * 3;
        const b = (row + (end < width ? end : left)) * 3;
        for (let k = x; k < end; k++) {
          const t = (k - left) / (end - left);
          for (let c = 0; c < 3; c++) rgb[(row + k) * 3 + c] = Math.round(rgb[a + c] * (1 - t) + rgb[b + c] * t);
        }
      }
      x = end;
    }
  }
}
