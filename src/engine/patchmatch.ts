// PatchMatch (Barnes et al. 2009): a nearest-neighbour field from every target patch to a known
// source patch, improved by propagating good offsets from neighbours and by random search.

import type { Level, Patches } from "./level.ts";
import type { Random } from "./random.ts";

export interface Nnf {
  /**
   * Centre of each pixel's best source patch, for the pixels of the patches' span: pixel p's is
   * source[p - base]. Pixels that are not targets map to themselves.
   */
  source: Int32Array;
  base: number;
}

/** Every pixel of the span mapped to itself. Only the span is stored: 4 bytes a pixel add up at 4096 px. */
export function identityNnf(patches: Patches): Nnf {
  const { first, end } = patches.span;
  const source = new Int32Array(end - first);
  for (let k = 0; k < source.length; k++) source[k] = first + k;
  return { source, base: first };
}

/** Pixel p's source, also for pixels outside the span (themselves). */
export function sourceOf(nnf: Nnf, p: number): number {
  const k = p - nnf.base;
  return k >= 0 && k < nnf.source.length ? nnf.source[k] : p;
}

/**
 * Sum of squared differences between the patches centred on `target` and `source`, giving up as
 * soon as it reaches `limit` (most candidates lose within the first rows, which is where the speed is).
 */
export function patchCost(rgb: Uint8Array, width: number, radius: number, target: number, source: number, limit: number): number {
  const rowBytes = (2 * radius + 1) * 3;
  const stride = width * 3;
  let t = (target - radius * width - radius) * 3;
  let s = (source - radius * width - radius) * 3;
  let sum = 0;
  for (let row = -radius; row <= radius; row++) {
    for (let k = 0; k < rowBytes; k++) {
      const e = rgb[t + k] - rgb[s + k];
      sum += e * e;
    }
    if (sum >= limit) return sum;
    t += stride;
    s += stride;
  }
  return sum;
}

/**
 * Where a target patch covers known picture, those pixels count KNOWN_WEIGHT times as much as the
 * current estimate of the hole: the estimate may be wrong, the known rim is not, and honouring it
 * is what keeps structures (a post, a horizon) aligned where they enter the hole.
 */
export const KNOWN_WEIGHT = 8;

/** patchCost with known pixels of the target weighted by KNOWN_WEIGHT; for rim targets. */
export function rimCost(rgb: Uint8Array, hole: Uint8Array, width: number, radius: number, target: number, source: number, limit: number): number {
  const side = 2 * radius + 1;
  let t = target - radius * width - radius;
  let s = source - radius * width - radius;
  let sum = 0;
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      const a = (t + col) * 3;
      const b = (s + col) * 3;
      const e0 = rgb[a] - rgb[b];
      const e1 = rgb[a + 1] - rgb[b + 1];
      const e2 = rgb[a + 2] - rgb[b + 2];
      const e = e0 * e0 + e1 * e1 + e2 * e2;
      sum += hole[t + col] === 1 ? e : KNOWN_WEIGHT * e;
    }
    if (sum >= limit) return sum;
    t += width;
    s += width;
  }
  return sum;
}

/**
 * The cost PatchMatch minimises for target `p`: weighted on the rim, plain SSD inside the hole,
 * plus, with a `texture`, what source `s` pays for being flatter or busier than the hole's surroundings.
 */
export function matchCost(level: Level, patches: Patches, p: number, s: number, limit: number, texture?: Texture): number {
  const mismatch = texture === undefined ? 0 : textureMismatch(texture, s);
  if (mismatch >= limit) return mismatch;
  return (
    mismatch +
    (patches.rim[p] === 1
      ? rimCost(level.rgb, level.hole, level.width, patches.radius, p, s, limit - mismatch)
      : patchCost(level.rgb, level.width, patches.radius, p, s, limit - mismatch))
  );
}

/**
 * How much a source's flatness counts against it, per unit of gradient energy it lacks. At the
 * coarse levels an estimate starts smooth, and plain SSD then prefers the flattest sources, so
 * grass, gravel or fur came out as grey mush. On the photo benchmark (quick mode, SCHEDULE as it
 * is, no BUSY_WEIGHT, no seam correction), the fill's sharpness relative to the original's and
 * its PSNR, rectangles / strokes:
 *   0     0.59 / 0.79   17.0 / 16.1 dB
 *   0.15  0.82 / 0.89   16.8 / 15.9 dB
 *   0.3   0.86 / 1.08   16.8 / 15.7 dB
 *   0.5   0.90 / 1.27   16.5 / 15.2 dB
 */
export const TEXTURE_WEIGHT = 0.3;

/**
 * The other side: what a source pays per unit of gradient energy it has beyond the hole's
 * surroundings. Without it the flatness term pushed fills past the real texture (cat fur 1.3-1.8,
 * grass 1.4 times as busy as what was there), and each grain out of place costs PSNR. Measured
 * the same way with TEXTURE_WEIGHT 0.3 and the seam correction (smoothSeams), rectangles / strokes:
 *   0     0.87 / 1.08   17.0 / 16.6 dB
 *   0.3   0.84 / 0.95   17.3 / 16.6 dB
 *   0.5   0.86 / 0.86   17.6 / 16.9 dB
 *   0.7   0.85 / 0.83   17.6 / 16.9 dB
 *   1.0   0.81 / 0.80   17.6 / 17.2 dB
 * 0.5 is the most that keeps both within 0.85-1.2 of the original's sharpness.
 */
export const BUSY_WEIGHT = 0.5;

/**
 * At the coarsest level, what a source costs for each other target already copying it, per unit
 * of the hole's surroundings' texture energy (Texture.expected). The first guess there blends each
 * row between its ends, so the estimate barely changes along a row; sliding a source along it then
 * cost almost nothing, and runs of targets copied one source: in a gravel rectangle one source
 * served up to 7-16 targets and a fifth of the targets shared theirs with two or more others,
 * which the copy at full size showed as a band of repeated marks (gravel, grass, the deep-sky
 * field; a dark bar in the camera man's lawn). With 0.15: at most 3, and almost none shared. Flat
 * surroundings make it nearly free, where a repeat cannot be seen. Measured over seeds 1-3 on the
 * photo benchmark (mean PSNR, rectangles / strokes) and the fence posts the 400 px hole hides
 * (npm run bench's count; straight / stopped / crooked over 40 seeds):
 *   0      18.59 / 18.53 dB   106 / 8 / 6
 *   0.15   18.50 / 18.52 dB   111 / 0 / 9
 * and, with a first form that also charged a target once for the source it held:
 *   0.1    18.58 / 18.38 dB   (20 seeds: 51 / 0 / 9)
 *   0.15   18.47 / 18.59 dB   110 / 1 / 9
 *   0.2    18.49 / 18.57 dB   109 / 0 / 11
 * At the middle levels too (0.15) it broke posts (20 seeds: 50 / 0 / 10) and took strokes to 17.5 dB.
 */
export const REUSE_WEIGHT = 0.15;

/** Gradient energy of every source patch of a level, and the energy the hole's surroundings have. */
export interface Texture {
  /** Sum over a patch of squared colour differences to the right and below, by centre; 0 off sources. */
  energy: Float32Array;
  /** The mean over the rim's patches of their known pixels' energy, scaled to a whole patch. */
  expected: number;
}

function textureMismatch(texture: Texture, s: number): number {
  const gap = texture.expected - texture.energy[s];
  return gap > 0 ? TEXTURE_WEIGHT * gap : BUSY_WEIGHT * -gap;
}

/**
 * A level's Texture, with box sums (rows, then columns in place), so O(pixels) whatever the patch
 * size and one float per pixel: at a 4096 px picture's second level that is 8 MB.
 */
export function measureTexture(level: Level, patches: Patches): Texture {
  const { width, height, rgb, hole } = level;
  const { radius, valid, targets, rim } = patches;
  // Squared colour differences to the right and below; 0 at the picture's edge and where one of
  // the three pixels is in the hole (its colour is an estimate, not texture).
  const gradient = (q: number): number => {
    const x = q % width;
    if (x === width - 1 || q >= (height - 1) * width) return 0;
    if (hole[q] === 1 || hole[q + 1] === 1 || hole[q + width] === 1) return 0;
    let e = 0;
    for (let c = 0; c < 3; c++) {
      const here = rgb[q * 3 + c];
      const right = rgb[(q + 1) * 3 + c] - here;
      const below = rgb[(q + width) * 3 + c] - here;
      e += right * right + below * below;
    }
    return e;
  };
  const side = 2 * radius + 1;
  let expected = 0;
  let rims = 0;
  for (let i = 0; i < targets.length; i++) {
    const p = targets[i];
    if (rim[p] !== 1) continue;
    let sum = 0;
    let known = 0;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        const q = p + dy * width + dx;
        if (hole[q] === 1 || hole[q + 1] === 1 || hole[q + width] === 1) continue;
        sum += gradient(q);
        known++;
      }
    }
    if (known > 0) {
      expected += (sum / known) * side * side;
      rims++;
    }
  }
  // Along each row: the sum of `side` gradients, stored at the window's centre column.
  const energy = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let sum = 0;
    for (let x = 0; x < width; x++) {
      sum += gradient(row + x);
      if (x >= side) sum -= gradient(row + x - side);
      if (x >= side - 1) energy[row + x - radius] = sum;
    }
  }
  // Down each column, in place: the row sums still needed once overwritten wait in `window`.
  const window = new Float32Array(side);
  for (let x = radius; x < width - radius; x++) {
    let sum = 0;
    for (let y = 0; y < height; y++) {
      const value = energy[y * width + x];
      sum += value - (y >= side ? window[y % side] : 0);
      window[y % side] = value;
      if (y < side - 1) continue;
      const centre = (y - radius) * width + x;
      energy[centre] = valid[centre] === 1 ? sum : 0;
    }
  }
  // The first and last rows are never a window's centre, and no source is centred there.
  energy.fill(0, 0, radius * width);
  energy.fill(0, (height - radius) * width);
  return { energy, expected: rims > 0 ? expected / rims : 0 };
}

export function randomMatches(level: Level, patches: Patches, nnf: Nnf, random: Random): void {
  const { targets } = patches;
  for (let i = 0; i < targets.length; i++) nnf.source[targets[i] - nnf.base] = randomSource(level, patches, random);
}

/**
 * A uniformly random source centre. Drawn by trying random pixels rather than from a list of every
 * source (4 bytes per pixel of the region: 40 MB at full resolution around a 1600 px hole); where
 * sources are too sparse for that to hit soon, the first source after a random pixel.
 */
export function randomSource(level: Level, patches: Patches, random: Random): number {
  const { valid } = patches;
  for (let tries = 0; tries < 32; tries++) {
    const p = random.below(valid.length);
    if (valid[p] === 1) return p;
  }
  const start = random.below(valid.length);
  for (let k = 0; k < valid.length; k++) {
    const p = (start + k) % valid.length;
    if (valid[p] === 1) return p;
  }
  throw new Error(`no source patch in a ${level.width}x${level.height} level`);
}

/**
 * Starts a finer level's field from the coarser one: each target keeps its parent's offset,
 * doubled. Where that lands on an unusable source, a random one is drawn for search to improve.
 */
export function upsampleMatches(
  coarse: { level: Level; patches: Patches; nnf: Nnf },
  fine: { level: Level; patches: Patches; nnf: Nnf },
  random: Random,
): void {
  const cw = coarse.level.width;
  const cr = coarse.patches.radius;
  const cxMax = cw - 1 - cr;
  const cyMax = coarse.level.height - 1 - cr;
  const { width, height } = fine.level;
  const { radius, valid, targets } = fine.patches;
  const xMax = width - 1 - radius;
  const yMax = height - 1 - radius;
  for (let i = 0; i < targets.length; i++) {
    const p = targets[i];
    const y = (p / width) | 0;
    const x = p - y * width;
    const cx = clamp(x >> 1, cr, cxMax);
    const cy = clamp(y >> 1, cr, cyMax);
    const c = cy * cw + cx;
    const cs = sourceOf(coarse.nnf, c);
    const csy = (cs / cw) | 0;
    const csx = cs - csy * cw;
    const sx = clamp(x + 2 * (csx - cx), radius, xMax);
    const sy = clamp(y + 2 * (csy - cy), radius, yMax);
    let s = sy * width + sx;
    if (!valid[s]) s = randomSource(fine.level, fine.patches, random);
    fine.nnf.source[p - fine.nnf.base] = s;
  }
}

/**
 * `iterations` PatchMatch sweeps over the targets, alternating scan direction. Each target tries
 * its scan-predecessors' offsets, then random sources in a window around its match whose radius
 * halves from `searchRadius` down to 1. With `reuse` (SSD units), a source costs that much more for
 * every other target already copying it (see REUSE_WEIGHT).
 */
export function improveMatches(
  level: Level,
  patches: Patches,
  nnf: Nnf,
  iterations: number,
  searchRadius: number,
  random: Random,
  texture?: Texture,
  reuse?: number,
): void {
  const { width, height } = level;
  const { radius, valid, targets } = patches;
  const { source, base } = nnf;
  const xMax = width - 1 - radius;
  const yMax = height - 1 - radius;
  // With `reuse`, how many targets copy each source, kept as matches change.
  const uses = reuse === undefined ? undefined : new Uint16Array(width * height);
  if (uses) for (let i = 0; i < targets.length; i++) uses[source[targets[i] - base]]++;
  /** What target p pays for taking source s while it holds `own`: its match, plus `reuse` for every other target copying s. */
  const costOf = (p: number, s: number, own: number, limit: number): number => {
    const crowding = uses === undefined ? 0 : reuse! * (s === own ? uses[s] - 1 : uses[s]);
    return crowding >= limit ? crowding : crowding + matchCost(level, patches, p, s, limit - crowding, texture);
  };
  // Each target's current cost, by its index in `targets`: computed here because the estimate
  // under the hole changes between calls, which makes any earlier cost stale.
  const cost = new Int32Array(targets.length);
  for (let i = 0; i < targets.length; i++) cost[i] = costOf(targets[i], source[targets[i] - base], source[targets[i] - base], Infinity);
  for (let it = 0; it < iterations; it++) {
    const forward = it % 2 === 0;
    const step = forward ? 1 : -1;
    const rowStep = forward ? width : -width;
    for (let n = 0; n < targets.length; n++) {
      const i = forward ? n : targets.length - 1 - n;
      const p = targets[i];
      const k = p - base;
      let best = source[k];
      let bestCost = cost[i];
      // Non-targets map to themselves, so their "propagated" candidate is p itself: never valid.
      let cand = source[k - step] + step;
      if (cand !== best && valid[cand] === 1) {
        const c = costOf(p, cand, source[k], bestCost);
        if (c < bestCost) {
          best = cand;
          bestCost = c;
        }
      }
      cand = source[k - rowStep] + rowStep;
      if (cand !== best && valid[cand] === 1) {
        const c = costOf(p, cand, source[k], bestCost);
        if (c < bestCost) {
          best = cand;
          bestCost = c;
        }
      }
      const by = (best / width) | 0;
      const bx = best - by * width;
      for (let r = searchRadius; r >= 1; r >>= 1) {
        const sx = clamp(bx + Math.floor((2 * random.next() - 1) * r + 0.5), radius, xMax);
        const sy = clamp(by + Math.floor((2 * random.next() - 1) * r + 0.5), radius, yMax);
        cand = sy * width + sx;
        if (cand === best || valid[cand] !== 1) continue;
        const c = costOf(p, cand, source[k], bestCost);
        if (c < bestCost) {
          best = cand;
          bestCost = c;
        }
      }
      if (uses && best !== source[k]) {
        uses[source[k]]--;
        uses[best]++;
      }
      source[k] = best;
      cost[i] = bestCost;
    }
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
