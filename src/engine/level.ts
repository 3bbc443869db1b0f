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
  /** The same centres as a list, for drawing a random source. */
  sources: Int32Array;
  /** Centres (scanline order) of every patch that overlaps the hole: the ones that get matched. */
  targets: Int32Array;
  /** 1 at targets whose patch also covers known pixels: the hole's rim, where matches are weighted. */
  rim: Uint8Array;
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
  // A centre whose patch touches the hole is exactly a pixel of the hole grown by the radius.
  const touched = dilateMask(hole, width, height, radius);
  const known = new Uint8Array(width * height);
  for (let p = 0; p < known.length; p++) known[p] = hole[p] ^ 1;
  const nearKnown = dilateMask(known, width, height, radius);
  const valid = new Uint8Array(width * height);
  const rim = new Uint8Array(width * height);
  let sourceCount = 0;
  let targetCount = 0;
  for (let y = radius; y < height - radius; y++) {
    for (let x = radius; x < width - radius; x++) {
      const p = y * width + x;
      if (touched[p]) targetCount++;
      else {
        valid[p] = 1;
        sourceCount++;
      }
    }
  }
  const sources = new Int32Array(sourceCount);
  const targets = new Int32Array(targetCount);
  let s = 0;
  let t = 0;
  for (let y = radius; y < height - radius; y++) {
    for (let x = radius; x < width - radius; x++) {
      const p = y * width + x;
      if (valid[p]) sources[s++] = p;
      else if (touched[p]) {
        targets[t++] = p;
        rim[p] = nearKnown[p];
      }
    }
  }
  return { radius, valid, sources, targets, rim };
}
