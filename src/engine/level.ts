// One pyramid level of a work region: its picture, which pixels are unknown, and where patches
// may be taken from (sources) or must be matched (targets) for a given patch radius.

import { dilateMask } from "./mask.ts";

export interface Level {
  width: number;
  height: number;
  /** RGB; unknown pixels hold the current estimate of the fill. */
  rgb: Uint8Array;
  /** 1 where the pixel is unknown (to be filled). */
  hole: Uint8Array;
}

export interface Patches {
  /** Patches are (2 * radius + 1) squared pixels, addressed by their centre pixel. */
  radius: number;
  /** 1 where a patch centred here lies entirely in known picture, so it can be copied from. */
  valid: Uint8Array;
  /** How many centres are valid sources. */
  sourceCount: number;
  /** Centres (scanline order) of every patch that overlaps the hole: the ones that get matched. */
  targets: Int32Array;
  /** 1 at targets whose patch also covers known pixels: the hole's rim, where matches are weighted. */
  rim: Uint8Array;
  /**
   * Pixel indices [first, end): whole rows from one above the first target's patch to one below the
   * last one's. Every pixel a target's patch covers, and each target's neighbours, are inside, so
   * per-pixel work arrays (the match field, the vote sums) need only this span, not the whole level.
   */
  span: { first: number; end: number };
}

/** Half-resolution level: 2x2 box average; a coarse pixel is unknown if any of its four is. */
export function downsample(fine: Level): Level {
  const width = (fine.width + 1) >> 1;
  const height = (fine.height + 1) >> 1;
  const rgb = new Uint8Array(width * height * 3);
  const hole = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy0 = 2 * y;
    const fy1 = Math.min(fine.height - 1, fy0 + 1);
    for (let x = 0; x < width; x++) {
      const fx0 = 2 * x;
      const fx1 = Math.min(fine.width - 1, fx0 + 1);
      const a = fy0 * fine.width + fx0;
      const b = fy0 * fine.width + fx1;
      const c = fy1 * fine.width + fx0;
      const d = fy1 * fine.width + fx1;
      const p = y * width + x;
      hole[p] = fine.hole[a] | fine.hole[b] | fine.hole[c] | fine.hole[d];
      for (let k = 0; k < 3; k++) {
        rgb[p * 3 + k] = (fine.rgb[a * 3 + k] + fine.rgb[b * 3 + k] + fine.rgb[c * 3 + k] + fine.rgb[d * 3 + k] + 2) >> 2;
      }
    }
  }
  return { width, height, rgb, hole };
}

export function findPatches(level: Level, radius: number): Patches {
  const { width, height, hole } = level;
  // Four region-sized byte maps at most at once (the full level of a 4096 px picture is 12 MP).
  // A centre whose patch touches the hole is exactly a pixel of the hole grown by the radius.
  const touched = dilateMask(hole, width, height, radius);
  let targetCount = 0;
  for (let y = radius; y < height - radius; y++) {
    for (let x = radius; x < width - radius; x++) targetCount += touched[y * width + x];
  }
  const targets = new Int32Array(targetCount);
  let t = 0;
  for (let y = radius; y < height - radius; y++) {
    for (let x = radius; x < width - radius; x++) {
      const p = y * width + x;
      if (touched[p]) targets[t++] = p;
    }
  }
  // Rim targets: those whose patch also covers a known pixel (the known picture grown by the radius).
  const known = new Uint8Array(width * height);
  for (let p = 0; p < known.length; p++) known[p] = hole[p] ^ 1;
  const rim = dilateMask(known, width, height, radius);
  for (let p = 0; p < rim.length; p++) rim[p] &= touched[p];
  // Sources: every centre whose patch lies inside the level and misses the hole (touched is reused).
  const valid = touched;
  let sourceCount = 0;
  for (let y = 0; y < height; y++) {
    const inside = y >= radius && y < height - radius;
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const ok = inside && x >= radius && x < width - radius && touched[p] === 0 ? 1 : 0;
      valid[p] = ok;
      sourceCount += ok;
    }
  }
  const firstRow = targetCount > 0 ? Math.max(0, Math.floor(targets[0] / width) - radius - 1) : 0;
  const endRow = targetCount > 0 ? Math.min(height, Math.floor(targets[targetCount - 1] / width) + radius + 2) : 0;
  return { radius, valid, sourceCount, targets, rim, span: { first: firstRow * width, end: endRow * width } };
}
