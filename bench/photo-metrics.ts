// How a fill compares with what was really under the hole: PSNR and SSIM over the hole,
// sharpness (gradient energy in the hole against a ring around it), and edge continuity
// (the original's strong edges where they enter the hole, found again in the fill).
// `hole` and masks are width*height bytes, non-zero = in.

import { dilateMask } from "../src/engine/mask.ts";

export interface Picture {
  width: number;
  height: number;
  /** width*height*3 bytes, RGB. */
  rgb: Uint8Array;
}

const RING_PX = 12;
const ENTRY_BAND_PX = 8;
const EDGE_TOLERANCE_PX = 2;
/** Strong edges: the top 15% of the original's Sobel magnitudes around the hole. */
const STRONG_QUANTILE = 0.85;

function luma({ width, height, rgb }: Picture): Float32Array {
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = 0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2];
  return out;
}

/** The pixels within 12 px outside the hole. */
export function ringOf(hole: Uint8Array, width: number, height: number): Uint8Array {
  const grown = dilateMask(hole, width, height, RING_PX);
  return grown.map((v, i) => (v && !hole[i] ? 1 : 0));
}

export function holePsnr(original: Picture, filled: Picture, hole: Uint8Array): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < hole.length; i++) {
    if (!hole[i]) continue;
    for (let c = 0; c < 3; c++) sum += (original.rgb[i * 3 + c] - filled.rgb[i * 3 + c]) ** 2;
    count += 3;
  }
  const mse = sum / count;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Mean SSIM (luma, 7x7 windows) over the windows centred on hole pixels. */
export function holeSsim(original: Picture, filled: Picture, hole: Uint8Array): number {
  const { width, height } = original;
  const [a, b] = [luma(original), luma(filled)];
  const R = 3;
  const [c1, c2] = [(0.01 * 255) ** 2, (0.03 * 255) ** 2];
  let total = 0;
  let count = 0;
  for (let y = R; y < height - R; y++) {
    for (let x = R; x < width - R; x++) {
      if (!hole[y * width + x]) continue;
      let [sa, sb, saa, sbb, sab] = [0, 0, 0, 0, 0];
      for (let dy = -R; dy <= R; dy++) {
        for (let dx = -R; dx <= R; dx++) {
          const i = (y + dy) * width + x + dx;
          sa += a[i];
          sb += b[i];
          saa += a[i] * a[i];
          sbb += b[i] * b[i];
          sab += a[i] * b[i];
        }
      }
      const n = (2 * R + 1) ** 2;
      const [ma, mb] = [sa / n, sb / n];
      const [va, vb, cov] = [saa / n - ma * ma, sbb / n - mb * mb, sab / n - ma * mb];
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      count++;
    }
  }
  return count ? total / count : 1;
}

/** Squared central-difference gradients of luma. */
function gradientEnergy(picture: Picture): Float32Array {
  const { width, height } = picture;
  const l = luma(picture);
  const out = new Float32Array(width * height);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      out[i] = ((l[i + 1] - l[i - 1]) / 2) ** 2 + ((l[i + width] - l[i - width]) / 2) ** 2;
    }
  }
  return out;
}

/** Mean gradient energy in the hole over the same in the ring (1.0: the hole as busy as its surroundings). */
export function sharpnessRatio(picture: Picture, hole: Uint8Array, ring: Uint8Array): number {
  const energy = gradientEnergy(picture);
  let [inside, insideN, around, aroundN] = [0, 0, 0, 0];
  for (let i = 0; i < energy.length; i++) {
    if (hole[i]) [inside, insideN] = [inside + energy[i], insideN + 1];
    else if (ring[i]) [around, aroundN] = [around + energy[i], aroundN + 1];
  }
  return insideN && aroundN && around > 0 ? inside / insideN / (around / aroundN) : 0;
}

function sobel(picture: Picture): Float32Array {
  const { width, height } = picture;
  const l = luma(picture);
  const out = new Float32Array(width * height);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const gx = l[i - width + 1] + 2 * l[i + 1] + l[i + width + 1] - l[i - width - 1] - 2 * l[i - 1] - l[i + width - 1];
      const gy = l[i + width - 1] + 2 * l[i + width] + l[i + width + 1] - l[i - width - 1] - 2 * l[i - width] - l[i - width + 1];
      out[i] = Math.hypot(gx, gy);
    }
  }
  return out;
}

/**
 * Of the original's strong edge pixels in the band 8 px inside the hole's border (where edges
 * enter it), the share where the fill has a strong edge within 2 px. 1 when there are none.
 */
export function edgeContinuity(original: Picture, filled: Picture, hole: Uint8Array): number {
  const { width, height } = original;
  const outside = hole.map((v) => (v ? 0 : 1));
  const nearBorder = dilateMask(outside, width, height, ENTRY_BAND_PX);
  const around = dilateMask(hole, width, height, RING_PX);
  const [truth, fill] = [sobel(original), sobel(filled)];
  const reference = [...truth.filter((_, i) => around[i])].sort((a, b) => a - b);
  const threshold = Math.max(32, reference[Math.floor(reference.length * STRONG_QUANTILE)] ?? 0);
  const fillStrong = dilateMask(Uint8Array.from(fill, (v) => (v >= threshold ? 1 : 0)), width, height, EDGE_TOLERANCE_PX);
  let [edges, kept] = [0, 0];
  for (let i = 0; i < hole.length; i++) {
    if (!hole[i] || !nearBorder[i] || truth[i] < threshold) continue;
    edges++;
    if (fillStrong[i]) kept++;
  }
  return edges ? kept / edges : 1;
}
