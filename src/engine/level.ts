// One pyramid level of a work region: its picture, which pixels are unknown, and where patches
// may be taken from (sources) or must be matched (targets) for a given patch radius.

import { dilateWhole, holeWindow } from "./mask.ts";

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
  // Sources: every centre whose patch lies inside the level, but those whose patch touches the hole (below).
  const valid = new Uint8Array(width * height);
  for (let y = radius; y < height - radius; y++) valid.fill(1, y * width + radius, (y + 1) * width - radius);
  let sourceCount = Math.max(0, height - 2 * radius) * Math.max(0, width - 2 * radius);
  const rim = new Uint8Array(width * height);
  // Everything else happens in the hole's box grown by the radius: a centre whose patch touches the
  // hole lies within the radius of it, and so does any known pixel the patch of a centre in the
  // hole covers (a centre outside it is known itself). On a big picture, a fraction of the level.
  const window = holeWindow(hole, width, height, radius);
  if (!window) return { radius, valid, sourceCount, targets: new Int32Array(0), rim, span: { first: 0, end: 0 } };
  const { x0, y0, w, h, map } = window;
  // A centre whose patch touches the hole is exactly a pixel of the hole grown by the radius; one
  // whose patch also covers known picture, a pixel of the known picture grown by it (the rim).
  const touched = dilateWhole(map, w, h, radius);
  for (let i = 0; i < map.length; i++) map[i] ^= 1;
  const nearKnown = dilateWhole(map, w, h, radius);
  let targetCount = 0;
  for (let y = 0; y < h; y++) {
    const inside = y0 + y >= radius && y0 + y < height - radius;
    for (let x = 0; x < w; x++) {
      const k = y * w + x;
      if (!touched[k]) continue;
      const p = (y0 + y) * width + x0 + x;
      rim[p] = nearKnown[k];
      if (!inside || x0 + x < radius || x0 + x >= width - radius) continue;
      valid[p] = 0;
      sourceCount--;
      targetCount++;
    }
  }
  // Scanline order: the window's rows and columns run in the level's order.
  const targets = new Int32Array(targetCount);
  let t = 0;
  for (let y = 0; y < h; y++) {
    if (y0 + y < radius || y0 + y >= height - radius) continue;
    for (let x = Math.max(0, radius - x0); x < w && x0 + x < width - radius; x++) {
      if (touched[y * w + x]) targets[t++] = (y0 + y) * width + x0 + x;
    }
  }
  const firstRow = targetCount > 0 ? Math.max(0, Math.floor(targets[0] / width) - radius - 1) : 0;
  const endRow = targetCount > 0 ? Math.min(height, Math.floor(targets[targetCount - 1] / width) + radius + 2) : 0;
  return { radius, valid, sourceCount, targets, rim, span: { first: firstRow * width, end: endRow * width } };
}
