// Turns the caller's mask into the engine's hole map: binarised at 128, then grown so the
// anti-aliased rim of an object (which still carries its colour) is filled too.

/** 1 where the mask byte is >= 128 ("fill this pixel"), else 0. */
export function binarizeMask(mask: Uint8Array): Uint8Array {
  const hole = new Uint8Array(mask.length);
  for (let p = 0; p < mask.length; p++) hole[p] = mask[p] >= 128 ? 1 : 0;
  return hole;
}

/**
 * Grows a 0/1 map by `radius` pixels in every direction (a square structuring element, done as two
 * running-window passes so the cost does not depend on the radius).
 */
export function dilateMask(hole: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return hole.slice();
  const rows = new Uint8Array(hole.length);
  for (let y = 0; y < height; y++) {
    const base = y * width;
    let lastHole = -Infinity;
    // Forward pass remembers the last hole to the left, backward pass the next one to the right.
    for (let x = 0; x < width; x++) {
      if (hole[base + x]) lastHole = x;
      if (x - lastHole <= radius) rows[base + x] = 1;
    }
    let nextHole = Infinity;
    for (let x = width - 1; x >= 0; x--) {
      if (hole[base + x]) nextHole = x;
      if (nextHole - x <= radius) rows[base + x] = 1;
    }
  }
  // The vertical pass row by row (a column walk jumps a whole row per step, which misses the
  // cache on big pictures), keeping each column's last and next marked row.
  const out = new Uint8Array(hole.length);
  const last = new Int32Array(width).fill(-radius - 1);
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < width; x++) {
      if (rows[base + x]) last[x] = y;
      if (y - last[x] <= radius) out[base + x] = 1;
    }
  }
  const next = last.fill(height + radius + 1);
  for (let y = height - 1; y >= 0; y--) {
    const base = y * width;
    for (let x = 0; x < width; x++) {
      if (rows[base + x]) next[x] = y;
      if (next[x] - y <= radius) out[base + x] = 1;
    }
  }
  return out;
}

export function countHoles(hole: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < hole.length; p++) n += hole[p];
  return n;
}
