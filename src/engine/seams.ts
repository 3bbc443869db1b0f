// Copied patches carry their own brightness and colour cast: a piece of lawn from a sunnier spot
// is a shade too light where it meets the real lawn. This measures, along the hole's border, how
// far each copied pixel's neighbour is from the real pixel beside it, spreads those differences
// smoothly over the hole (pull-push interpolation) and adds them, so the fill meets its
// surroundings without a step while its texture is left as copied.

import type { Level } from "./level.ts";
import { holeBounds } from "./mask.ts";
import { sourceOf, type Nnf } from "./patchmatch.ts";

/**
 * Corrects the copied fill of `level` (made by copyMatches with `nnf` and patches of `radius`)
 * by a smooth offset that is zero-sum with its border. Pixels outside the hole are not changed.
 */
export function smoothSeams(level: Level, nnf: Nnf, radius: number): void {
  const { width, height, rgb, hole } = level;
  const box = holeBox(level);
  if (box === undefined) return;
  const { x0, y0, w, h } = box;
  const xMax = width - 1 - radius;
  const yMax = height - 1 - radius;
  /** The pixel a hole pixel was copied from, as copyMatches chose it. */
  const copiedFrom = (q: number): number => {
    const y = (q / width) | 0;
    const x = q - y * width;
    const p = (y < radius ? radius : y > yMax ? yMax : y) * width + (x < radius ? radius : x > xMax ? xMax : x);
    return sourceOf(nnf, p) + q - p;
  };
  // The border's differences: at each known pixel beside the hole, its colour minus the colour
  // beside the copied pixel(s) next to it. They are gathered straight into a grid of half the
  // box's size: the hole's pixels take their offset from that grid anyway (pullPush's first step
  // up is bilinear), so a full-size grid would only cost memory (40 MB around a 1600 px hole).
  const gw = (w + 1) >> 1;
  const gh = (h + 1) >> 1;
  const values = new Float32Array(gw * gh * 3);
  const weights = new Float32Array(gw * gh);
  for (let by = 0; by < h; by++) {
    const y = y0 + by;
    for (let bx = 0; bx < w; bx++) {
      const x = x0 + bx;
      const q = y * width + x;
      if (hole[q] === 1) continue;
      const g = (by >> 1) * gw + (bx >> 1);
      for (let side = 0; side < 4; side++) {
        const step = side === 0 ? 1 : side === 1 ? -1 : side === 2 ? width : -width;
        if ((side === 0 && x === width - 1) || (side === 1 && x === 0) || (side === 2 && y === height - 1) || (side === 3 && y === 0)) continue;
        if (hole[q + step] === 0) continue;
        // The copied pixel's neighbour on this pixel's side stands where this pixel stands.
        const beside = copiedFrom(q + step) - step;
        if (beside < 0 || beside >= hole.length || hole[beside] === 1) continue;
        values[g * 3] += rgb[q * 3] - rgb[beside * 3];
        values[g * 3 + 1] += rgb[q * 3 + 1] - rgb[beside * 3 + 1];
        values[g * 3 + 2] += rgb[q * 3 + 2] - rgb[beside * 3 + 2];
        weights[g]++;
      }
    }
  }
  normalise(values, weights);
  pullPush(values, weights, gw, gh);
  for (let by = 0; by < h; by++) {
    // Cells' centres sit at box pixel 2c + 0.5.
    const fy = (by - 0.5) / 2;
    const gy0 = clamp(Math.floor(fy), 0, gh - 1);
    const gy1 = Math.min(gy0 + 1, gh - 1);
    const ty = clamp(fy - gy0, 0, 1);
    for (let bx = 0; bx < w; bx++) {
      const q = (y0 + by) * width + x0 + bx;
      if (hole[q] === 0) continue;
      const fx = (bx - 0.5) / 2;
      const gx0 = clamp(Math.floor(fx), 0, gw - 1);
      const gx1 = Math.min(gx0 + 1, gw - 1);
      const tx = clamp(fx - gx0, 0, 1);
      for (let c = 0; c < 3; c++) {
        const offset = bilinear(values, gw, gx0, gx1, gy0, gy1, tx, ty, c);
        const v = Math.round(rgb[q * 3 + c] + offset);
        rgb[q * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
}

/** The hole's bounding box grown by one pixel (clipped to the level), or undefined for no hole. */
function holeBox({ width, height, hole }: Level): { x0: number; y0: number; w: number; h: number } | undefined {
  const box = holeBounds(hole, width, height);
  if (!box) return undefined;
  const x0 = Math.max(0, box.x0 - 1);
  const y0 = Math.max(0, box.y0 - 1);
  const x1 = Math.min(width - 1, box.x1 + 1);
  const y1 = Math.min(height - 1, box.y1 + 1);
  return { x0, y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * Fills the pixels of weight 0 with a smooth interpolation of the others (Gortler et al.'s
 * pull-push): averages down a pyramid until every pixel has a value, then back up, each pixel
 * keeping its own value in proportion to its weight (at most 1) and taking the rest, bilinearly,
 * from the coarser level. `values` has 3 per pixel.
 */
function pullPush(values: Float32Array, weights: Float32Array, w: number, h: number): void {
  if (w <= 1 && h <= 1) return;
  const cw = (w + 1) >> 1;
  const ch = (h + 1) >> 1;
  const coarse = new Float32Array(cw * ch * 3);
  const coarseWeights = new Float32Array(cw * ch);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const f = y * w + x;
      const weight = weights[f];
      if (weight === 0) continue;
      const c = (y >> 1) * cw + (x >> 1);
      coarseWeights[c] += weight;
      for (let k = 0; k < 3; k++) coarse[c * 3 + k] += weight * values[f * 3 + k];
    }
  }
  if (!normalise(coarse, coarseWeights)) return;
  pullPush(coarse, coarseWeights, cw, ch);
  for (let y = 0; y < h; y++) {
    const fy = (y - 0.5) / 2;
    const cy0 = clamp(Math.floor(fy), 0, ch - 1);
    const cy1 = Math.min(cy0 + 1, ch - 1);
    const ty = clamp(fy - cy0, 0, 1);
    for (let x = 0; x < w; x++) {
      const f = y * w + x;
      const weight = weights[f];
      if (weight >= 1) continue;
      const fx = (x - 0.5) / 2;
      const cx0 = clamp(Math.floor(fx), 0, cw - 1);
      const cx1 = Math.min(cx0 + 1, cw - 1);
      const tx = clamp(fx - cx0, 0, 1);
      for (let k = 0; k < 3; k++) {
        values[f * 3 + k] = weight * values[f * 3 + k] + (1 - weight) * bilinear(coarse, cw, cx0, cx1, cy0, cy1, tx, ty, k);
      }
    }
  }
}

/** Sums weighted by `weights` become means, and the weights are capped at 1. False when all are 0. */
function normalise(values: Float32Array, weights: Float32Array): boolean {
  let any = false;
  for (let c = 0; c < weights.length; c++) {
    const weight = weights[c];
    if (weight === 0) continue;
    any = true;
    for (let k = 0; k < 3; k++) values[c * 3 + k] /= weight;
    if (weight > 1) weights[c] = 1;
  }
  return any;
}

function bilinear(values: Float32Array, w: number, x0: number, x1: number, y0: number, y1: number, tx: number, ty: number, k: number): number {
  const top = (1 - tx) * values[(y0 * w + x0) * 3 + k] + tx * values[(y0 * w + x1) * 3 + k];
  const bottom = (1 - tx) * values[(y1 * w + x0) * 3 + k] + tx * values[(y1 * w + x1) * 3 + k];
  return (1 - ty) * top + ty * bottom;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
