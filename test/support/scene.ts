// Deterministic synthetic "photo" (sky, striped grass, fence posts, a red disc to remove)
// plus the measurements tests and benchmarks use to judge a fill: red left, sharpness.

export interface Scene {
  width: number;
  height: number;
  /** width*height*3, RGB */
  rgb: Uint8Array;
  /** The object to remove. */
  disc: { cx: number; cy: number; r: number };
}

const DISC_RED: readonly [number, number, number] = [205, 28, 32];
const POST_BROWN: readonly [number, number, number] = [112, 74, 44];

/** mulberry32: tiny, fast, good enough for texture noise, and identical on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 1024x1024 default that matches the picture described in shared/research/engine.md; other
 * sizes scale every feature by min(width, height) / 1024 so small test pictures look alike.
 * `withDisc: false` gives the same picture without the object: the ideal result of removing it.
 * @example const { rgb, disc } = makeScene({ width: 256, height: 256 });
 */
export function makeScene(options: { width?: number; height?: number; seed?: number; withDisc?: boolean } = {}): Scene {
  const width = options.width ?? 1024;
  const height = options.height ?? 1024;
  const random = prng(options.seed ?? 7);
  const scale = Math.min(width, height) / 1024;
  const horizon = Math.round(height * 0.43);
  const stripePeriod = Math.max(4, 26 * scale);
  const rgb = new Uint8Array(width * height * 3);

  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (y < horizon) {
        const t = y / horizon;
        const n = (random() - 0.5) * 4;
        rgb[i] = clamp(70 + 120 * t + n);
        rgb[i + 1] = clamp(130 + 85 * t + n);
        rgb[i + 2] = clamp(225 + 20 * t + n);
      } else {
        const depth = (y - horizon) / (height - horizon);
        const stripe = Math.sin(((x + y) * 2 * Math.PI) / stripePeriod) * 14;
        const n = (random() - 0.5) * 44;
        const shade = 1 - 0.25 * depth;
        rgb[i] = clamp((62 + stripe * 0.5 + n * 0.6) * shade);
        rgb[i + 1] = clamp((142 + stripe + n) * shade);
        rgb[i + 2] = clamp((48 + stripe * 0.3 + n * 0.5) * shade);
      }
    }
  }

  // Posts cross the horizon so a large hole has straight structure to continue.
  const { lefts, width: postWidth, top: postTop, bottom: postBottom } = scenePosts(width, height);
  for (const left of lefts) {
    for (let y = Math.max(0, postTop); y < Math.min(height, postBottom); y++) {
      for (let x = Math.max(0, left); x < Math.min(width, left + postWidth); x++) {
        const i = (y * width + x) * 3;
        const grain = (random() - 0.5) * 16 + (x === left ? -20 : 0);
        rgb[i] = clamp(POST_BROWN[0] + grain);
        rgb[i + 1] = clamp(POST_BROWN[1] + grain);
        rgb[i + 2] = clamp(POST_BROWN[2] + grain * 0.5);
      }
    }
  }

  // Anti-aliased edge: a real photo's object boundary blends into the background, which is
  // why the engine grows the mask before filling.
  const disc = { cx: Math.round(width * 0.5), cy: Math.round(height * 0.586), r: Math.max(3, Math.round(80 * scale)) };
  if (options.withDisc === false) return { width, height, rgb, disc };
  for (let y = Math.max(0, disc.cy - disc.r - 2); y <= Math.min(height - 1, disc.cy + disc.r + 2); y++) {
    for (let x = Math.max(0, disc.cx - disc.r - 2); x <= Math.min(width - 1, disc.cx + disc.r + 2); x++) {
      const d = Math.hypot(x - disc.cx, y - disc.cy);
      const cover = Math.min(1, Math.max(0, disc.r + 0.5 - d));
      if (cover <= 0) continue;
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) rgb[i + c] = clamp(rgb[i + c] * (1 - cover) + DISC_RED[c] * cover);
    }
  }
  return { width, height, rgb, disc };
}

/** A width*height mask that is 255 inside the side x side square centred on (cx, cy), 0 elsewhere. */
export function squareMask(width: number, height: number, cx: number, cy: number, side: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  const x0 = Math.max(0, Math.round(cx - side / 2));
  const y0 = Math.max(0, Math.round(cy - side / 2));
  const x1 = Math.min(width, x0 + side);
  const y1 = Math.min(height, y0 + side);
  for (let y = y0; y < y1; y++) mask.fill(255, y * width + x0, y * width + x1);
  return mask;
}

/** Where makeScene draws its fence posts: each one's first column, their width, and the rows they span [top, bottom). */
export function scenePosts(width = 1024, height = 1024): { lefts: number[]; width: number; top: number; bottom: number } {
  const scale = Math.min(width, height) / 1024;
  const horizon = Math.round(height * 0.43);
  const postWidth = Math.max(2, Math.round(14 * scale));
  const lefts = Array.from({ length: 9 }, (_, k) => Math.round(width * (0.1 + 0.12 * k)) - (postWidth >> 1));
  return { lefts, width: postWidth, top: horizon - Math.round(60 * scale), bottom: horizon + Math.round(120 * scale) };
}

/** Whether the pixel at (x, y) of a `width`-wide picture has the posts' brown (grass, sky and the disc do not). */
export function isPostBrown(rgb: Uint8Array, width: number, x: number, y: number): boolean {
  const p = (y * width + x) * 3;
  return rgb[p] > 80 && rgb[p] < 150 && rgb[p + 1] < 110 && rgb[p + 2] < 80;
}

/** Where a fill put one post: its brown pixels near its columns, and how far down it goes. */
export interface PostInFill {
  /** Brown pixels on the post's columns (±1 px) and beside them (up to 12 px off), over the rows measured. */
  on: number;
  off: number;
  /** Rows from `top` to the last that holds at least half a post's width of brown near the columns. */
  rows: number;
  /** Of those rows, the ones whose own columns are not at least 80 % brown: the post missing or narrowed there. */
  missing: number;
}

/**
 * One post of a 1024 px scene (14 px wide from column `left`) in a fill, row by row from `top`
 * (the hole's top edge) to `bottom`: brown on its columns and beside them, how far it reaches, and
 * the rows within that reach where it is missing.
 */
export function postInFill(rgb: Uint8Array, width: number, left: number, top: number, bottom: number): PostInFill {
  const postWidth = scenePosts().width;
  let [on, off, rows] = [0, 0, 0];
  const whole: boolean[] = [];
  for (let y = top; y < bottom; y++) {
    let [brown, onRow] = [0, 0];
    for (let x = left - 12; x < left + postWidth + 12; x++) {
      if (!isPostBrown(rgb, width, x, y)) continue;
      brown++;
      if (x >= left - 1 && x < left + postWidth + 1) onRow++;
    }
    on += onRow;
    off += brown - onRow;
    whole.push(onRow >= postWidth * 0.8);
    if (brown >= postWidth / 2) rows = y - top + 1;
  }
  return { on, off, rows, missing: whole.slice(0, rows).filter((w) => !w).length };
}

/** Pixels that look like the disc's red (optionally only where mask >= 128). Posts and grass never match. */
export function redPixelCount(rgb: Uint8Array, mask?: Uint8Array): number {
  let count = 0;
  for (let p = 0, i = 0; i < rgb.length; p++, i += 3) {
    if (mask && mask[p] < 128) continue;
    if (rgb[i] > 150 && rgb[i + 1] < 100 && rgb[i + 2] < 100) count++;
  }
  return count;
}

/**
 * Sharpness of the pixels under `hole` relative to their surroundings: mean squared gradient inside the
 * hole divided by the same in a ring of equal area just outside it. 1.0 means as sharp as the
 * surroundings; a diffusion fill (blur) comes out far below.
 */
export function holeSharpness(rgb: Uint8Array, width: number, height: number, hole: Uint8Array): number {
  const ring = ringAround(hole, width, height);
  return meanGradientEnergy(rgb, width, height, hole) / meanGradientEnergy(rgb, width, height, ring);
}

/** Mean over masked pixels of the squared forward differences, summed over channels. */
export function meanGradientEnergy(rgb: Uint8Array, width: number, height: number, mask: Uint8Array): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < height - 1; y++) {
    for (let x = 0; x < width - 1; x++) {
      const p = y * width + x;
      if (mask[p] < 128) continue;
      const i = p * 3;
      for (let c = 0; c < 3; c++) {
        const dx = rgb[i + 3 + c] - rgb[i + c];
        const dy = rgb[i + width * 3 + c] - rgb[i + c];
        sum += dx * dx + dy * dy;
      }
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/** The band just outside `hole` (chessboard distance 1..t) whose area first reaches the hole's area. */
export function ringAround(hole: Uint8Array, width: number, height: number): Uint8Array {
  const far = width + height;
  const dist = new Int32Array(width * height);
  let holeArea = 0;
  for (let p = 0; p < dist.length; p++) {
    if (hole[p] >= 128) holeArea++;
    dist[p] = hole[p] >= 128 ? 0 : far;
  }
  // Two-pass chessboard distance transform.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      let d = dist[p];
      if (x > 0) d = Math.min(d, dist[p - 1] + 1);
      if (y > 0) {
        d = Math.min(d, dist[p - width] + 1);
        if (x > 0) d = Math.min(d, dist[p - width - 1] + 1);
        if (x < width - 1) d = Math.min(d, dist[p - width + 1] + 1);
      }
      dist[p] = d;
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const p = y * width + x;
      let d = dist[p];
      if (x < width - 1) d = Math.min(d, dist[p + 1] + 1);
      if (y < height - 1) {
        d = Math.min(d, dist[p + width] + 1);
        if (x < width - 1) d = Math.min(d, dist[p + width + 1] + 1);
        if (x > 0) d = Math.min(d, dist[p + width - 1] + 1);
      }
      dist[p] = d;
    }
  }
  const countAt = new Int32Array(far + 1);
  for (let p = 0; p < dist.length; p++) if (dist[p] > 0 && dist[p] <= far) countAt[dist[p]]++;
  let t = 0;
  for (let area = 0; t < far && area < holeArea; ) area += countAt[++t];
  const ring = new Uint8Array(width * height);
  for (let p = 0; p < dist.length; p++) if (dist[p] > 0 && dist[p] <= t) ring[p] = 255;
  return ring;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
