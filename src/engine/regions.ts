// Splits the hole map into independent work regions: each connected hole gets a rectangle of
// surrounding picture to sample from, and holes whose rectangles overlap are filled together.

export interface Rect {
  x0: number;
  y0: number;
  /** exclusive */
  x1: number;
  /** exclusive */
  y1: number;
}

/** How much picture around a hole is searched for source patches, relative to the hole's size. */
const MARGIN_FACTOR = 0.6;
const MIN_MARGIN = 24;

export function marginFor(box: Rect): number {
  return Math.max(MIN_MARGIN, Math.round(MARGIN_FACTOR * Math.max(box.x1 - box.x0, box.y1 - box.y0)));
}

export function expand(box: Rect, margin: number, width: number, height: number): Rect {
  return {
    x0: Math.max(0, box.x0 - margin),
    y0: Math.max(0, box.y0 - margin),
    x1: Math.min(width, box.x1 + margin),
    y1: Math.min(height, box.y1 + margin),
  };
}

/**
 * Bounding boxes of the 8-connected holes, merged until no two work rectangles overlap, so that
 * each region's rectangle contains only its own holes.
 */
export function holeRegions(hole: Uint8Array, width: number, height: number): Rect[] {
  let boxes = componentBoxes(hole, width, height);
  for (let merged = true; merged && boxes.length > 1; ) {
    merged = false;
    const work = boxes.map((b) => expand(b, marginFor(b), width, height));
    const next: Rect[] = [];
    const nextWork: Rect[] = [];
    for (let i = 0; i < boxes.length; i++) {
      const j = nextWork.findIndex((w) => overlaps(w, work[i]));
      if (j < 0) {
        next.push(boxes[i]);
        nextWork.push(work[i]);
      } else {
        next[j] = union(next[j], boxes[i]);
        nextWork[j] = expand(next[j], marginFor(next[j]), width, height);
        merged = true;
      }
    }
    boxes = next;
  }
  return boxes;
}

/**
 * The bounding box of each 8-connected hole, in the scanline order of their first pixels. Works on
 * the runs of hole pixels row by row, joining runs of neighbouring rows that touch (diagonally too),
 * so its cost is a pass over the map plus one step per run, not per hole pixel.
 */
export function componentBoxes(hole: Uint8Array, width: number, height: number): Rect[] {
  const runs = new RunList();
  let above = { first: 0, end: 0 }; // the previous row's runs
  for (let y = 0; y < height; y++) {
    const first = runs.length;
    const base = y * width;
    let j = above.first;
    for (let x = 0; x < width; ) {
      if (hole[base + x] === 0) {
        x++;
        continue;
      }
      const x0 = x;
      while (x < width && hole[base + x] !== 0) x++;
      const run = runs.add(y, x0, x);
      // Runs above that touch [x0 - 1, x]: both lists run left to right, so j only moves on.
      while (j < above.end && runs.x1[j] < x0) j++;
      for (let k = j; k < above.end && runs.x0[k] <= x; k++) runs.join(run, k);
    }
    above = { first, end: runs.length };
  }
  const boxes = new Map<number, Rect>();
  for (let r = 0; r < runs.length; r++) {
    const root = runs.root(r);
    const box = boxes.get(root);
    const y = runs.y[r];
    if (!box) boxes.set(root, { x0: runs.x0[r], y0: y, x1: runs.x1[r], y1: y + 1 });
    else {
      box.x0 = Math.min(box.x0, runs.x0[r]);
      box.x1 = Math.max(box.x1, runs.x1[r]);
      box.y1 = y + 1;
    }
  }
  // A Map keeps the order in which each component was first met: at its first run, which holds its first pixel.
  return [...boxes.values()];
}

/** Runs of hole pixels [x0, x1) in row y, with a union-find over them. */
class RunList {
  length = 0;
  y = new Int32Array(256);
  x0 = new Int32Array(256);
  x1 = new Int32Array(256);
  private parent = new Int32Array(256);

  add(y: number, x0: number, x1: number): number {
    if (this.length === this.y.length) {
      for (const key of ["y", "x0", "x1", "parent"] as const) {
        const bigger = new Int32Array(this.length * 2);
        bigger.set(this[key]);
        this[key] = bigger;
      }
    }
    const r = this.length++;
    this.y[r] = y;
    this.x0[r] = x0;
    this.x1[r] = x1;
    this.parent[r] = r;
    return r;
  }

  root(r: number): number {
    while (this.parent[r] !== r) {
      this.parent[r] = this.parent[this.parent[r]];
      r = this.parent[r];
    }
    return r;
  }

  join(a: number, b: number): void {
    this.parent[this.root(b)] = this.root(a);
  }
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

function union(a: Rect, b: Rect): Rect {
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}
