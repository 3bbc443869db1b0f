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

function componentBoxes(hole: Uint8Array, width: number, height: number): Rect[] {
  const seen = new Uint8Array(hole.length);
  let stack = new Int32Array(1024);
  const boxes: Rect[] = [];
  for (let start = 0; start < hole.length; start++) {
    if (!hole[start] || seen[start]) continue;
    const box = { x0: width, y0: height, x1: 0, y1: 0 };
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const p = stack[--top];
      const y = (p / width) | 0;
      const x = p - y * width;
      if (x < box.x0) box.x0 = x;
      if (x >= box.x1) box.x1 = x + 1;
      if (y < box.y0) box.y0 = y;
      if (y >= box.y1) box.y1 = y + 1;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (!hole[q] || seen[q]) continue;
          seen[q] = 1;
          if (top === stack.length) {
            const bigger = new Int32Array(stack.length * 2);
            bigger.set(stack);
            stack = bigger;
          }
          stack[top++] = q;
        }
      }
    }
    boxes.push(box);
  }
  return boxes;
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

function union(a: Rect, b: Rect): Rect {
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}
