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
  const out = new Uint8Array(hole.length);
  // Only the hole's box grown by the radius can change: on a big picture with one hole, a fraction of it.
  const window = holeWindow(hole, width, height, radius);
  if (!window) return out;
  const { x0, y0, w, h } = window;
  const grown = dilateWhole(window.map, w, h, radius);
  for (let y = 0; y < h; y++) out.set(grown.subarray(y * w, (y + 1) * w), (y0 + y) * width + x0);
  return out;
}

/** dilateMask over the whole map, for a map that is its hole's window already. */
export function dilateWhole(hole: Uint8Array, width: number, height: number, radius: number): Uint8Array {
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

/**
 * The hole's bounding box grown by `margin` (clipped to the picture): where it starts, its size, and
 * a copy of the map's pixels in it. Undefined when the map has no hole.
 */
export function holeWindow(hole: Uint8Array, width: number, height: number, margin: number): { x0: number; y0: number; w: number; h: number; map: Uint8Array } | undefined {
  const box = holeBounds(hole, width, height);
  if (!box) return undefined;
  const x0 = Math.max(0, box.x0 - margin);
  const y0 = Math.max(0, box.y0 - margin);
  const w = Math.min(width - 1, box.x1 + margin) - x0 + 1;
  const h = Math.min(height - 1, box.y1 + margin) - y0 + 1;
  const map = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) map.set(hole.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + w), y * w);
  return { x0, y0, w, h, map };
}

/** The smallest box holding every hole pixel (any value but 0; inclusive), or undefined when there is none. */
export function holeBounds(hole: Uint8Array, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } | undefined {
  let box: { x0: number; y0: number; x1: number; y1: number } | undefined;
  for (let y = 0; y < height; y++) {
    const base = y * width;
    let first = 0;
    while (first < width && hole[base + first] === 0) first++;
    if (first === width) continue;
    let last = width - 1;
    while (hole[base + last] === 0) last--;
    if (!box) box = { x0: first, y0: y, x1: last, y1: y };
    else {
      if (first < box.x0) box.x0 = first;
      if (last > box.x1) box.x1 = last;
      box.y1 = y;
    }
  }
  return box;
}

export function countHoles(hole: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < hole.length; p++) n += hole[p];
  return n;
}
