// A thin structure that enters the hole and ends inside it (a fence post whose top is hidden) has
// nothing on the far side to be drawn to, so the patch fill alone continues it, from copies of
// other posts: at about the right length, but a few pixels to the side, often in steps of 2-4 px
// or leaning, with a kink where it leaves the known picture, and sometimes narrower or with rows
// missing. Here each such stub is followed through the finished fill, row by row along its line,
// for as long as the fill shows the structure's colours across it near the line, and the band
// around it is shifted so that the structure lies on its line again; rows where the fill left it
// out are drawn from the rows above, and pixels it left out of the structure's width from the
// structure outside the hole. The shift fades out across the band's edges and past the
// structure's end, so the background is bent a little, never cut.

import type { Level } from "./level.ts";
import { interpolate, STUB_PAD, type Stub } from "./structure.ts";

/**
 * How far to the side of its line the fill may have put the structure and still be followed (px).
 * A fill whose structure reaches this far is sliding away from the line (a post copied at a steep
 * angle, a brick's edge followed across a wall) and is left as it is. At 10 px, a post copied
 * leaning 10 px over its length was left leaning (1 post in 60 of the benchmark's scene).
 */
const MAX_DRIFT = 14;
/** A pixel of the fill is the structure's when its colour is this close to the structure's just outside the hole (RGB distance). */
const MAX_COLOUR_DISTANCE = 45;
/**
 * A row shows the structure when at most this share of its width is unlike it; or, straight after
 * a row that showed it, at most NARROWED (a copy that narrows to half the structure's width, whose
 * missing half is drawn in). Across a gap it must show again within MAX_MISFITS: at NARROWED, a
 * copy 8 px further over below a gap was taken for this one.
 */
const MAX_MISFITS = 0.25;
const NARROWED = 0.5;
/** Following a structure, each px of a change of drift costs this much of the misfit share. */
const DRIFT_PENALTY = 0.02;
/**
 * From one row to the next, the structure is looked for within this many px of where it was: the
 * fill's copies step aside 2-4 px at a time. Across rows where it was missing, within GAP_STEP:
 * further off, what the fill shows below a gap is another thing (the next course of a brick wall).
 */
const MAX_STEP = 4;
const GAP_STEP = 2;
/** A fill whose structure drifts less than this from its line everywhere is left as it is (px). */
const MIN_DRIFT = 2;
/** The structure may be missing for this many rows in a row and still go on (those rows are drawn in); one more, and it has ended. */
const MAX_GAP = 12;
/**
 * Shorter than this into the hole (px), the fill's continuation is left as it is: in photos, short
 * runs were other things the fill put there (the photo benchmark lost up to 0.5 dB to them).
 */
const MIN_RUN = 64;
/** A pixel the fill left out of the structure takes its colour from this many px of it outside the hole. */
const GRAIN = 12;
/** Over how many px across (each side) and along (past the end) the shift fades to nothing. */
const FADE = MAX_DRIFT + 2;

/** Where the fill put a structure: its drift in each row, and which rows it was missing from. */
interface Course {
  /** drift[t - 1]: the structure's offset from the line t px in (positive towards (-dy, dx)). */
  drift: Float64Array;
  /** missing[t - 1] = 1 where the fill did not show it: a gap, with the structure found again below. */
  missing: Uint8Array;
}

/**
 * Puts the fill's continuation of each stub back on its line. Changes hole pixels only; answers the
 * ones the structures now cover, which strips drawn later must leave alone (a post in front of a
 * horizon).
 */
export function straighten(level: Level, stubs: Stub[]): number[] {
  const placed: number[] = [];
  for (const stub of stubs) {
    const course = follow(level, stub);
    if (course) shiftOntoLine(level, stub, course, placed);
  }
  return placed;
}

/**
 * Where the fill put the structure, row by row into the hole. Undefined when the fill did not
 * continue it for MIN_RUN px, continued it on its line already, slid it out of reach, or did not
 * keep it at one offset for half its length.
 */
function follow(level: Level, stub: Stub): Course | undefined {
  const { width, height, hole } = level;
  const drifts: number[] = [];
  const missing: number[] = [];
  let last = 0;
  let misses = 0;
  let end = 0;
  const sample = new Float64Array(3);
  let inside = false;
  for (let t = 1; ; t++) {
    const x = Math.round(stub.x + stub.dx * t);
    const y = Math.round(stub.y + stub.dy * t);
    if (x < 0 || y < 0 || x >= width || y >= height) break;
    // The edge lies a few px outside the hole: known picture up to it, and the walk ends where the hole does.
    if (!hole[y * width + x]) {
      if (inside) break;
      drifts.push(0);
      missing.push(0);
      continue;
    }
    inside = true;
    let best = Number.POSITIVE_INFINITY;
    let bestDrift = last;
    let bestMisfits = Number.POSITIVE_INFINITY;
    const step = misses > 0 ? GAP_STEP : MAX_STEP;
    for (let drift = Math.max(-MAX_DRIFT, last - step); drift <= Math.min(MAX_DRIFT, last + step); drift++) {
      const misfits = misfitShare(level, stub, t, drift, sample);
      const score = misfits + DRIFT_PENALTY * Math.abs(drift - last);
      if (score >= best) continue;
      best = score;
      bestDrift = drift;
      bestMisfits = misfits;
    }
    if (bestMisfits > (misses > 0 ? MAX_MISFITS : NARROWED)) {
      if (++misses > MAX_GAP) break;
      drifts.push(last);
      missing.push(1);
      continue;
    }
    misses = 0;
    last = bestDrift;
    drifts.push(bestDrift);
    missing.push(0);
    end = t;
  }
  if (end < MIN_RUN) return undefined;
  const drift = smoothed(drifts.slice(0, end));
  // A px is within what the edge's direction, measured over 7 px, may miss by over a long run:
  // such a copy stays where it is, and only the pixels it left out of the structure are drawn.
  if (!drift.some((d) => Math.abs(d) >= MIN_DRIFT)) drift.fill(0);
  if (drift.some((d) => Math.abs(d) >= MAX_DRIFT)) return undefined;
  // A copy put beside the line keeps to one place for most of its length, or leans or sways
  // smoothly; a drift that moves on in jumps is another structure the fill put there (in the brick
  // photo, a brick followed from course to course).
  if (!settled(drift) && !smooth(drift)) return undefined;
  return { drift, missing: Uint8Array.from(missing.slice(0, end)) };
}

/**
 * Whether the drift changes by at most 2 px from one row to the next all along: a copy at another
 * angle, or one that bends (a post that leans, or sways), not one that jumps from thing to thing
 * (in the brick photo, from a brick's end to the next course's, 4 px at a time).
 */
function smooth(drift: Float64Array): boolean {
  for (let i = 1; i < drift.length; i++) if (Math.abs(drift[i] - drift[i - 1]) > 2) return false;
  return true;
}

/** Whether at least half the rows lie within 2 px of the commonest drift (a copy wavers by a px or two as it steps aside). */
function settled(drift: Float64Array): boolean {
  const counts = new Map<number, number>();
  for (const d of drift) counts.set(d, (counts.get(d) ?? 0) + 1);
  let commonest = 0;
  let most = 0;
  for (const [d, count] of counts) {
    if (count <= most) continue;
    most = count;
    commonest = d;
  }
  let near = 0;
  for (const d of drift) if (Math.abs(d - commonest) <= 2) near++;
  return 2 * near >= drift.length;
}

/**
 * The share of the structure's width (its pixels across, inside its edges) where the fill `t` px
 * in, moved `drift` px across, is unlike the structure just outside the hole. A share, not a mean:
 * the fill's copy of a post may be a pixel or two narrower, and those pixels count once, not by how
 * unlike the sky beside it is.
 */
function misfitShare(level: Level, stub: Stub, t: number, drift: number, sample: Float64Array): number {
  let misfits = 0;
  for (let k = 1; k < stub.width; k++) {
    const off = stub.side * k;
    const x = stub.x - stub.dy * (off + drift) + stub.dx * t;
    const y = stub.y + stub.dx * (off + drift) + stub.dy * t;
    if (!interpolate(level, x, y, sample)) return 1;
    if (like(stub, off, sample) !== true) misfits++;
  }
  return misfits / (stub.width - 1);
}

/** A running median over 5 rows: one row matched a px off does not bend the band. */
function smoothed(values: number[]): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const window = values.slice(Math.max(0, i - 2), i + 3).sort((a, b) => a - b);
    out[i] = window[window.length >> 1];
  }
  return out;
}

/**
 * Moves the fill's pixels in a band along the stub by the drift found in each row, so that the
 * structure lies on its line, and draws the structure into the rows it was missing from, from as
 * many rows above the gap as the gap is long; adds the structure's pixels to `placed`.
 */
function shiftOntoLine(level: Level, stub: Stub, { drift, missing }: Course, placed: number[]): void {
  const { width, height, hole, rgb } = level;
  const length = drift.length;
  // The structure's span across the line, with its margin.
  const lo = (stub.side === 1 ? 0 : -stub.width) - STUB_PAD;
  const hi = (stub.side === 1 ? stub.width : 0) + STUB_PAD;
  const far = length + FADE;
  // For each row of a gap, how far above it the rows it is drawn from lie: the gap's length.
  const reach = new Int32Array(length);
  for (let row = 0; row < length; ) {
    let next = row;
    while (next < length && missing[next]) next++;
    for (let k = row; k < next; k++) reach[k] = next - row;
    row = next > row ? next : row + 1;
  }
  // The box around the band [0, far] along, [lo - FADE, hi + FADE] across.
  const corners = [
    [0, lo - FADE],
    [0, hi + FADE],
    [far, lo - FADE],
    [far, hi + FADE],
  ].map(([t, off]) => [stub.x + stub.dx * t - stub.dy * off, stub.y + stub.dy * t + stub.dx * off]);
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0]))));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(...corners.map((c) => c[0]))));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1]))));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...corners.map((c) => c[1]))));
  const writes: number[] = [];
  const colours: number[] = [];
  const sample = new Float64Array(3);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const p = y * width + x;
      if (!hole[p]) continue;
      const t = (x - stub.x) * stub.dx + (y - stub.y) * stub.dy;
      const off = -(x - stub.x) * stub.dy + (y - stub.y) * stub.dx;
      if (t <= 0 || t >= far || off <= lo - FADE || off >= hi + FADE) continue;
      if (t <= length && off >= lo + STUB_PAD && off <= hi - STUB_PAD) placed.push(p);
      const row = Math.min(length - 1, Math.max(0, Math.round(t) - 1));
      if (t <= length && reach[row] > 0 && off >= lo + 1 && off <= hi - 1) {
        // A row of a gap: the structure as it lies `reach` rows up, moved onto the line by that row's drift.
        const from = Math.round(t) - reach[row];
        const shift = from >= 1 ? drift[from - 1] : 0;
        if (!interpolate(level, x - stub.dx * reach[row] - stub.dy * shift, y - stub.dy * reach[row] + stub.dx * shift, sample)) continue;
        writes.push(p);
        colours.push(sample[0], sample[1], sample[2]);
        continue;
      }
      const along = t <= length ? 1 : 1 - (t - length) / FADE;
      const across = off < lo ? 1 - (lo - off) / FADE : off > hi ? 1 - (off - hi) / FADE : 1;
      const shift = drift[row] * along * across;
      // Within the structure's width, its edges' blended pixels aside; and just beside it.
      const inStructure = t <= length && off >= lo + STUB_PAD + 1 && off <= hi - STUB_PAD - 1;
      const beside = t > length ? 0 : off <= lo + STUB_PAD - 1 ? -1 : off >= hi - STUB_PAD + 1 ? 1 : 0;
      if (Math.abs(shift) < 0.05 && !inStructure && beside === 0) continue;
      if (!interpolate(level, x - stub.dy * shift, y + stub.dx * shift, sample)) continue;
      if (inStructure && like(stub, off, sample) === false) grain(level, stub, t, off, sample);
      // Where the copy was wider than the structure: the background from beyond the margin.
      if (beside !== 0 && like(stub, beside < 0 ? lo + STUB_PAD + 1 : hi - STUB_PAD - 1, sample) && like(stub, off, sample) === false) {
        const outward = (beside < 0 ? lo - 1 : hi + 1) - off;
        interpolate(level, x - stub.dy * (shift + outward), y + stub.dx * (shift + outward), sample); // else as it was
      }
      writes.push(p);
      colours.push(sample[0], sample[1], sample[2]);
    }
  }
  // Written once all are read: the band reads the fill as it was.
  for (let i = 0; i < writes.length; i++) {
    for (let c = 0; c < 3; c++) rgb[writes[i] * 3 + c] = Math.round(colours[i * 3 + c]);
  }
}

/**
 * Whether a colour is the picture's at `off` across the structure's line, as it shows just outside
 * the hole; undefined where that was not seen (the profile crossed the hole there).
 */
function like(stub: Stub, off: number, colour: Float64Array): boolean | undefined {
  const a = profileAt(stub, off);
  if (Number.isNaN(stub.across[a])) return undefined;
  return Math.hypot(colour[0] - stub.across[a], colour[1] - stub.across[a + 1], colour[2] - stub.across[a + 2]) <= MAX_COLOUR_DISTANCE;
}

/**
 * The structure's own colour at `off` across its line, `t` px into the hole: from its known length
 * outside, repeating every GRAIN px, so that a pixel the fill left out of it has its grain.
 */
function grain(level: Level, stub: Stub, t: number, off: number, out: Float64Array): void {
  const back = 1 + (Math.floor(t) % GRAIN);
  const x = stub.x - stub.dx * back - stub.dy * off;
  const y = stub.y - stub.dy * back + stub.dx * off;
  if (interpolate(level, x, y, out) && !level.hole[Math.round(y) * level.width + Math.round(x)]) return;
  const a = profileAt(stub, off);
  out[0] = stub.across[a];
  out[1] = stub.across[a + 1];
  out[2] = stub.across[a + 2];
}

/** Where the colour at `off` across the structure's line starts in its profile (`Stub.across`). */
function profileAt(stub: Stub, off: number): number {
  return (stub.width + STUB_PAD + Math.round(off)) * 3;
}
