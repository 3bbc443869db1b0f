// contentAwareFill: removes what the mask covers by synthesising it from the rest of the picture.
// Pure and synchronous; pixels outside the (slightly grown) mask are returned untouched.

import { invalidRequest } from "../errors.ts";
import { completeRegion } from "./complete.ts";
import { firstGuess } from "./guess.ts";
import { validateFillInput, type FillInput } from "./input.ts";
import type { Level } from "./level.ts";
import { binarizeMask, countHoles, dilateMask } from "./mask.ts";
import { createRandom, type Random } from "./random.ts";
import { expand, holeRegions, marginFor, type Rect } from "./regions.ts";
import { straighten } from "./straighten.ts";
import { drawStructure, findStructure } from "./structure.ts";

/** Object edges are anti-aliased into the background; growing the mask removes that fringe too. */
export const GROW_RADIUS = 3;
/** Below this share of unmasked picture there is nothing sensible left to sample from. */
export const MIN_KNOWN_SHARE = 0.01;
const DEFAULT_SEED = 0x5eed;

/**
 * @example
 * const rgb = contentAwareFill({ width, height, rgb: pixels, mask }); // same size, object gone
 */
export function contentAwareFill(
  input: FillInput,
  options: { seed?: number; previews?: number; onPreview?: (rgb: Uint8Array) => void; /** false: the patch fill alone (a baseline for benchmarks) */ structure?: boolean } = {},
): Uint8Array {
  validateFillInput(input);
  const { width, height } = input;
  // Not rgb.slice(): on a Node Buffer (what sharp hands out) that is a view, and we would write into the caller's pixels.
  const out = new Uint8Array(input.rgb);
  const marked = binarizeMask(input.mask);
  if (countHoles(marked) === 0) return out;

  const hole = dilateMask(marked, width, height, GROW_RADIUS);
  assertEnoughPicture(hole, width, height);
  const random = createRandom(options.seed ?? DEFAULT_SEED);
  // Up to `previews` previews, the coarsest first, each a full-size copy of the picture so far.
  let left = options.onPreview ? (options.previews ?? 0) : 0;
  const onPreview = (rgb: () => Uint8Array) => {
    if (left <= 0) return;
    left--;
    options.onPreview!(rgb());
  };
  const structure = options.structure ?? true;
  for (const box of holeRegions(hole, width, height)) fillRegion(out, hole, width, height, box, random, onPreview, structure);
  return out;
}

function fillRegion(out: Uint8Array, hole: Uint8Array, width: number, height: number, box: Rect, random: Random, onPreview: (rgb: () => Uint8Array) => void, withStructure: boolean): void {
  // Sample from a band around the hole; only if that band has no usable patch, from the whole picture.
  const band = expand(box, marginFor(box), width, height);
  let region = crop(out, hole, width, band);
  // Structure crossing the hole (posts, wires, horizons, rims), drawn across it.
  const { segments, stubs } = withStructure ? findStructure(region) : { segments: [], stubs: [] };
  // A preview: the picture so far, this region's hole painted from the coarse estimate, scaled up.
  const onStage = (estimate: Level) => onPreview(() => previewOf(out, hole, width, band, estimate));
  // Arcs, edges between two regions (a saucer's rim), are drawn first and the fill takes them as
  // known picture, so it puts each region on its side of the curve. Straight strips are drawn over
  // the finished fill: drawn first, a post's grain was copied beside it as a second post.
  const drawn = drawStructure(region, segments.filter((segment) => segment.turn !== 0));
  for (const p of drawn) region.hole[p] = 0;
  const completed = completeRegion(region, random, onStage);
  for (const p of drawn) region.hole[p] = 1;
  if (completed) {
    // Posts that end inside the hole, continued by the fill a little to the side, are put back on
    // their line; strips drawn next pass behind them.
    const placed = straighten(region, stubs);
    for (const p of placed) region.hole[p] = 0;
    drawStructure(region, segments.filter((segment) => segment.turn === 0));
    for (const p of placed) region.hole[p] = 1;
    paste(out, hole, width, band, region);
    return;
  }
  const whole = { x0: 0, y0: 0, x1: width, y1: height };
  region = crop(out, hole, width, whole);
  // Not even a 3x3 block of known picture (tiny images with big masks): blend in from the rim.
  if (!completeRegion(region, random)) firstGuess(region);
  paste(out, hole, width, whole, region);
}

function previewOf(out: Uint8Array, hole: Uint8Array, width: number, band: Rect, estimate: Level): Uint8Array {
  const preview = new Uint8Array(out);
  const w = band.x1 - band.x0;
  const h = band.y1 - band.y0;
  for (let y = 0; y < h; y++) {
    const ey = Math.min(estimate.height - 1, Math.floor((y * estimate.height) / h));
    for (let x = 0; x < w; x++) {
      const p = (band.y0 + y) * width + band.x0 + x;
      if (hole[p] === 0) continue;
      const q = ey * estimate.width + Math.min(estimate.width - 1, Math.floor((x * estimate.width) / w));
      preview[p * 3] = estimate.rgb[q * 3];
      preview[p * 3 + 1] = estimate.rgb[q * 3 + 1];
      preview[p * 3 + 2] = estimate.rgb[q * 3 + 2];
    }
  }
  return preview;
}

function assertEnoughPicture(hole: Uint8Array, width: number, height: number): void {
  const total = width * height;
  const known = total - countHoles(hole);
  if (known >= Math.max(9, MIN_KNOWN_SHARE * total)) return;
  const share = ((100 * (total - known)) / total).toFixed(1);
  throw invalidRequest(
    "mask",
    `the mask covers ${share}% of the ${width}x${height} image (after growing it by ${GROW_RADIUS} px to catch soft edges), ` +
      `which leaves too little picture to fill from; content-aware fill needs at least ${MIN_KNOWN_SHARE * 100}% of the image unmasked. ` +
      `Paint only the object you want removed.`,
  );
}

function crop(rgb: Uint8Array, hole: Uint8Array, width: number, band: Rect): Level {
  const w = band.x1 - band.x0;
  const h = band.y1 - band.y0;
  const level: Level = { width: w, height: h, rgb: new Uint8Array(w * h * 3), hole: new Uint8Array(w * h) };
  for (let y = 0; y < h; y++) {
    const from = (band.y0 + y) * width + band.x0;
    level.rgb.set(rgb.subarray(from * 3, (from + w) * 3), y * w * 3);
    level.hole.set(hole.subarray(from, from + w), y * w);
  }
  return level;
}

/** Writes back only the hole's pixels, so everything else stays byte-identical to the input. */
function paste(rgb: Uint8Array, hole: Uint8Array, width: number, band: Rect, region: Level): void {
  const w = region.width;
  for (let y = 0; y < region.height; y++) {
    for (let x = 0; x < w; x++) {
      const q = y * w + x;
      if (region.hole[q] === 0) continue;
      const p = (band.y0 + y) * width + band.x0 + x;
      if (hole[p] === 0) continue;
      rgb[p * 3] = region.rgb[q * 3];
      rgb[p * 3 + 1] = region.rgb[q * 3 + 1];
      rgb[p * 3 + 2] = region.rgb[q * 3 + 2];
    }
  }
}
