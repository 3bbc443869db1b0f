// Straight structure across a hole: an edge that enters the hole on one side and leaves it on
// the other (a fence post, a wire, a horizon, the mortar of a wall) is drawn straight across it,
// over the patch fill. PatchMatch alone lets thin structures fade: at the coarse levels a post is
// a faint line, and averaging the votes wipes it out, so posts stopped short of the middle.
//
// Found on the known pixels next to the hole: edges (the colour gradient of Di Zenzo, Sobel on
// each twice-smoothed channel; the strongest across their width, placed between pixels) with one
// clean direction over a 7x7 window. An edge is continued when walking along it through the hole
// comes out beside another edge of the same direction, strength and colours on both sides. A thin
// structure in front of a changing background (a post against sky above and grass below) is alike
// on one side only, and is drawn across its width. The strip takes its grain from the structure
// outside the hole, blended from both ends along the line.
//
// An edge with no straight partner may go on along a circle: tangent to it, through the hole, to
// an edge whose direction is the circle's where it meets it, with the same colours across (a
// saucer's rim, the outline of a cheek). Such arcs separate two regions; the fill draws them
// first and fills around them (fill.ts), so each region keeps to its side of the curve.

import type { Level } from "./level.ts";

/** Edges are looked for this far from the hole (px). */
const REACH = 3;
/** Half the window an edge's direction is measured over (px). */
const WINDOW = 3;
/** How strongly the colour must change across an edge (Sobel units of the colour gradient); grass and gravel stay below. */
const MIN_STRENGTH = 60;
/** 1 = one clean direction in the window; grass and gravel are far below. */
const MIN_COHERENCE = 0.8;
/** The two ends agree in direction within this, and the line between them with each. */
const MAX_ANGLE = (6 * Math.PI) / 180;
/** The colours beside the two ends, this far across their edge, differ by at most this (RGB distance). */
const SIDE_OFFSET = 3;
const MAX_SIDE_DIFFERENCE = 45;
/** Choosing between candidate partners: RGB distance added per px a partner lies beside the walk's exit. */
const ASIDE_PENALTY = 5;
/** An edge between two regions (alike on both sides) is drawn this far each way. */
const HALF_WIDTH = 3;
/** A structure alike on one side only is drawn across its width, up to this. */
const MAX_STRUCTURE_WIDTH = 32;
/** Within a structure, colours stay this close to the one just inside its edge (RGB distance). */
const STRUCTURE_TOLERANCE = 40;
/** How far outside the hole a drawn structure takes its grain from (px). */
const TEXTURE_RUN = 12;
/** The picture is analysed in tiles of this side, only where the hole has a border. */
const TILE = 64;
/** What an edge at REACH needs around it: its direction's window, Sobel's 1 px, two 3x3 blurs. */
const MARGIN = REACH + WINDOW + 1 + 2;

interface Edge {
  x: number;
  y: number;
  /** Unit direction along the edge. */
  dx: number;
  dy: number;
  strength: number;
}

/** A straight piece of structure to draw: between two edges, and how far each side of their line. */
export interface Segment {
  from: Edge;
  to: Edge;
  /** px drawn on the side of (-dy, dx) from the line, and on the other. */
  left: number;
  right: number;
  /** 0 for a straight segment; for a circular arc, how far its direction turns from `from` to `to` (radians, signed as the chord's angle from the arc's direction at `from`, twice over). */
  turn: number;
}

/**
 * A thin structure (a post, a wire) that enters the hole and comes out nowhere: where it goes in
 * the hole is the patch fill's guess, which `straighten` (straighten.ts) puts back on its line.
 */
export interface Stub {
  /** Its edge beside the hole, and the unit direction along it into the hole. */
  x: number;
  y: number;
  dx: number;
  dy: number;
  strength: number;
  /** Which side of the edge the structure lies on (1: towards (-dy, dx)), and how wide it is (px). */
  side: 1 | -1;
  width: number;
  /** Its colours across, at whole px from -(width + STUB_PAD) to width + STUB_PAD (index width + STUB_PAD on the edge), outside the hole. */
  across: Float64Array;
}

/** A stub's profile reaches this far beyond the structure's width on each side (px). */
export const STUB_PAD = 2;
/** Narrower structures are not followed: in photos, a fill's every dark streak looks like one. */
const MIN_STUB_WIDTH = 6;
/** At most this many stubs are kept (the strongest): a few posts, not a texture's every edge. */
const MAX_STUBS = 64;

/**
 * Whether a stub's profile shows a structure with an edge on each side: its colours beyond its far
 * edge are unlike its inside (a post against the sky, not a run of grass that noise cut short).
 */
function boundedBothSides(across: Float64Array, side: 1 | -1, width: number): boolean {
  const centre = width + STUB_PAD;
  const mean = (from: number, to: number) => {
    const sum = [0, 0, 0];
    let n = 0;
    for (let k = from; k <= to; k++) {
      const a = (centre + side * k) * 3;
      if (Number.isNaN(across[a])) continue;
      for (let c = 0; c < 3; c++) sum[c] += across[a + c];
      n++;
    }
    return n === 0 ? undefined : sum.map((v) => v / n);
  };
  const inside = mean(1, width - 1);
  const beyond = mean(width + 1, width + STUB_PAD);
  if (!inside || !beyond) return false;
  return Math.hypot(inside[0] - beyond[0], inside[1] - beyond[1], inside[2] - beyond[2]) > MAX_SIDE_DIFFERENCE;
}

export interface Structure {
  segments: Segment[];
  stubs: Stub[];
}

/**
 * The structures that cross the hole, straight or arcs, found on the known pixels around it, and
 * the thin ones that enter it and end there. Reads the level, changes nothing: draw the segments
 * with `drawStructure`.
 */
export function findStructure(level: Level): Structure {
  const edges = rimEdges(level);
  if (edges.length < 2) return { segments: [], stubs: [] };
  const grid = new EdgeGrid(edges);
  const segments: Segment[] = [];
  // One edge is found on two or three rows of pixels next to the hole, and from both of its ends:
  // the same segment, give or take a pixel, is kept once.
  const seen = new Set<string>();
  const unpaired: RimEnd[] = [];
  for (const from of edges) {
    for (const direction of [1, -1] as const) {
      if (!entersHole(level, from, from.dx * direction, from.dy * direction)) continue;
      const exit = crossHole(level, from, from.dx * direction, from.dy * direction);
      const segment = exit && partner(grid, from, exit, level);
      if (!segment) {
        unpaired.push(rimEnd(level, from, direction));
        continue;
      }
      const ends = [segment.from, segment.to].map((edge) => `${Math.round(edge.x / 4)},${Math.round(edge.y / 4)}`).sort();
      const key = `${ends.join(" ")} ${segment.left > 0} ${segment.right > 0}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const placed = aligned(level, segment);
      if (placed) segments.push(placed);
    }
  }
  // Edges that found no straight partner may continue along a circle (a saucer's rim, a cheek).
  const onArcs = new Set<Edge>();
  if (unpaired.length <= MAX_ARC_EDGES) {
    const rim = new RimEnds(unpaired);
    for (const start of unpaired) {
      const arc = arcPartner(level, rim, start);
      if (!arc) continue;
      onArcs.add(arc.from).add(arc.to);
      const ends = [arc.from, arc.to].map((edge) => `${Math.round(edge.x / 4)},${Math.round(edge.y / 4)}`).sort();
      const key = `${ends.join(" ")} arc`;
      if (seen.has(key)) continue;
      seen.add(key);
      segments.push(arc);
    }
  }
  return { segments: withinBudget(segments, level), stubs: stubsOf(level, unpaired.filter((end) => !onArcs.has(end))) };
}

/** The rim ends beside a thin structure on one side (one per structure, the strongest first). */
function stubsOf(level: Level, ends: RimEnd[]): Stub[] {
  const stubs: Stub[] = [];
  const seen = new Set<string>();
  for (const end of [...ends].sort((a, b) => b.strength - a.strength)) {
    const inward = { dx: end.inX, dy: end.inY };
    const left = structureWidth(level, end, inward, 1);
    const right = structureWidth(level, end, inward, -1);
    // Thin on exactly one side: a structure's edge. Thin on both, it lies between two structures.
    if ((left === Number.POSITIVE_INFINITY) === (right === Number.POSITIVE_INFINITY)) continue;
    const side = left === Number.POSITIVE_INFINITY ? -1 : 1;
    const width = side === 1 ? left : right;
    if (width < MIN_STUB_WIDTH) continue;
    // A post's two edges, and each edge found on two or three rows, are one stub.
    const cx = end.x - inward.dy * side * (width / 2);
    const cy = end.y + inward.dx * side * (width / 2);
    const key = `${Math.round(cx / 4)},${Math.round(cy / 4)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const across = profile(level, end, inward, -1, width + STUB_PAD, 1);
    if (!boundedBothSides(across, side, width)) continue;
    stubs.push({ x: end.x, y: end.y, dx: inward.dx, dy: inward.dy, strength: end.strength, side, width, across });
    if (stubs.length === MAX_STUBS) break;
  }
  return stubs;
}

/**
 * The strongest segments whose strips together cover at most the hole's area. Structure is a few
 * lines; a picture of fine stripes is texture, which the patch fill continues well, and drawing
 * thousands of strips over one another would cost seconds.
 */
function withinBudget(segments: Segment[], level: Level): Segment[] {
  let budget = 0;
  for (let p = 0; p < level.hole.length; p++) budget += level.hole[p];
  const strength = (segment: Segment) => Math.min(segment.from.strength, segment.to.strength);
  const kept: Segment[] = [];
  for (const segment of [...segments].sort((a, b) => strength(b) - strength(a))) {
    budget -= Math.hypot(segment.to.x - segment.from.x, segment.to.y - segment.from.y) * (segment.left + segment.right + 1);
    if (budget < 0) break;
    kept.push(segment);
  }
  return kept;
}

/**
 * Draws each segment over the level's hole pixels: each pixel is blended from the structure's
 * texture beyond its two ends, at the same offset across the line (or arc), by where it lies along
 * it. Answers which pixels it drew (indices into the level).
 */
export function drawStructure(level: Level, segments: Segment[]): number[] {
  if (segments.length === 0) return [];
  // Which strip drew each pixel (its rank, see drawSegment), over the box the strips can reach.
  let x0 = level.width;
  let y0 = level.height;
  let x1 = 0;
  let y1 = 0;
  for (const { from, to, left, right, turn } of segments) {
    // An arc bulges out of its ends' box by at most its sagitta.
    const reach = Math.max(left, right) + 1 + (turn ? (Math.hypot(to.x - from.x, to.y - from.y) / 2) * Math.tan(Math.abs(turn) / 4) + 1 : 0);
    x0 = Math.min(x0, Math.floor(Math.min(from.x, to.x) - reach));
    y0 = Math.min(y0, Math.floor(Math.min(from.y, to.y) - reach));
    x1 = Math.max(x1, Math.ceil(Math.max(from.x, to.x) + reach) + 1);
    y1 = Math.max(y1, Math.ceil(Math.max(from.y, to.y) + reach) + 1);
  }
  const box = { x0: Math.max(0, x0), y0: Math.max(0, y0), x1: Math.min(level.width, x1), y1: Math.min(level.height, y1) };
  const ranks = new Uint8Array((box.x1 - box.x0) * (box.y1 - box.y0)).fill(UNDRAWN);
  for (const segment of segments) {
    if (segment.turn !== 0) drawArc(level, segment, box, ranks);
    else drawSegment(level, segment, box, ranks);
  }
  const drawn: number[] = [];
  const boxWidth = box.x1 - box.x0;
  for (let r = 0; r < ranks.length; r++) if (ranks[r] !== UNDRAWN) drawn.push((box.y0 + Math.floor(r / boxWidth)) * level.width + box.x0 + (r % boxWidth));
  return drawn;
}

/** Edges on known pixels within REACH of the hole, tile by tile where the hole has a border. */
function rimEdges(level: Level): Edge[] {
  const { width, height } = level;
  const edges: Edge[] = [];
  for (let y = 0; y < height; y += TILE) {
    for (let x = 0; x < width; x += TILE) edgesInTile(level, x, y, Math.min(width, x + TILE), Math.min(height, y + TILE), edges);
  }
  return edges;
}

/** The edges whose pixel lies in the tile [cx0, cx1) x [cy0, cy1); what they need around them is read from a margin. */
function edgesInTile(level: Level, cx0: number, cy0: number, cx1: number, cy1: number, edges: Edge[]): void {
  const { width, height, rgb, hole } = level;
  if (!holeBorderNear(level, cx0, cy0, cx1, cy1)) return;
  const x0 = Math.max(0, cx0 - MARGIN);
  const y0 = Math.max(0, cy0 - MARGIN);
  const w = Math.min(width, cx1 + MARGIN) - x0;
  const h = Math.min(height, cy1 + MARGIN) - y0;
  // The tile's own copies: which pixels are hole, and each colour channel, twice smoothed.
  const holes = new Uint8Array(w * h);
  for (let ty = 0; ty < h; ty++) holes.set(hole.subarray((y0 + ty) * width + x0, (y0 + ty) * width + x0 + w), ty * w);
  // Only pixels within MARGIN of the hole are read: along a long brush stroke most of a tile is
  // hole or far from it. (Those at the zone's edge come out wrong, and no edge looks at them.)
  const zone = nearHole(w, h, holes, MARGIN);
  // Per pixel, the colour gradient's tensor (Di Zenzo: the channels' Sobel products summed); NaN
  // where the 3x3 is not all known picture.
  const txx = new Float32Array(w * h).fill(Number.NaN);
  const txy = new Float32Array(w * h);
  const tyy = new Float32Array(w * h);
  const channel = new Float32Array(w * h);
  for (let c = 0; c < 3; c++) {
    for (let ty = 0; ty < h; ty++) {
      for (let tx = 0; tx < w; tx++) if (zone[ty * w + tx]) channel[ty * w + tx] = rgb[((y0 + ty) * width + x0 + tx) * 3 + c];
    }
    const smoothed = blur(blur(channel, w, h, zone), w, h, zone);
    for (let ty = 1; ty < h - 1; ty++) {
      for (let tx = 1; tx < w - 1; tx++) {
        const q = ty * w + tx;
        if (!zone[q]) continue;
        const up = q - w;
        const down = q + w;
        if (holes[up - 1] | holes[up] | holes[up + 1] | holes[q - 1] | holes[q] | holes[q + 1] | holes[down - 1] | holes[down] | holes[down + 1]) continue;
        const a = smoothed[up - 1], b = smoothed[up], e = smoothed[up + 1];
        const d = smoothed[q - 1], f = smoothed[q + 1];
        const g = smoothed[down - 1], k = smoothed[down], l = smoothed[down + 1];
        const gx = e + 2 * f + l - a - 2 * d - g;
        const gy = g + 2 * k + l - a - 2 * b - e;
        if (c === 0) txx[q] = 0;
        txx[q] += gx * gx;
        txy[q] += gx * gy;
        tyy[q] += gy * gy;
      }
    }
  }
  /** The larger eigenvalue's square root: how strongly the colour changes across the edge. */
  const strengthAt = (q: number) => Math.sqrt((txx[q] + tyy[q] + Math.sqrt((txx[q] - tyy[q]) ** 2 + 4 * txy[q] * txy[q])) / 2);
  const magnitude = (tx: number, ty: number) => {
    if (tx < 0 || ty < 0 || tx >= w || ty >= h) return 0;
    const q = ty * w + tx;
    return Number.isNaN(txx[q]) ? 0 : strengthAt(q);
  };
  const near = nearHole(w, h, holes, REACH);

  for (let ty = cy0 - y0; ty < cy1 - y0; ty++) {
    for (let tx = cx0 - x0; tx < cx1 - x0; tx++) {
      const q = ty * w + tx;
      if (!near[q] || Number.isNaN(txx[q])) continue;
      const strength = strengthAt(q);
      if (strength < MIN_STRENGTH) continue;
      // The strongest across the edge: one pixel per edge, not its whole blurred width.
      const across = 0.5 * Math.atan2(2 * txy[q], txx[q] - tyy[q]);
      const ux = Math.round(Math.cos(across));
      const uy = Math.round(Math.sin(across));
      const ahead = magnitude(tx + ux, ty + uy);
      const behind = magnitude(tx - ux, ty - uy);
      if (ahead > strength || behind > strength) continue;
      // Where between the pixels the edge really is (the peak of a parabola through the three):
      // its two ends must be measured from the same place across it, or the drawn strip shears.
      const curvature = behind - 2 * strength + ahead;
      const shift = curvature < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (behind - ahead)) / curvature)) : 0;
      let jxx = 0;
      let jxy = 0;
      let jyy = 0;
      for (let wy = Math.max(0, ty - WINDOW); wy <= Math.min(h - 1, ty + WINDOW); wy++) {
        for (let wx = Math.max(0, tx - WINDOW); wx <= Math.min(w - 1, tx + WINDOW); wx++) {
          const r = wy * w + wx;
          if (Number.isNaN(txx[r])) continue;
          jxx += txx[r];
          jxy += txy[r];
          jyy += tyy[r];
        }
      }
      const coherence = (Math.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy) / (jxx + jyy)) ** 2;
      if (!(coherence >= MIN_COHERENCE)) continue;
      // The window's dominant gradient direction; the edge runs across it.
      const angle = 0.5 * Math.atan2(2 * jxy, jxx - jyy);
      edges.push({ x: x0 + tx + shift * ux, y: y0 + ty + shift * uy, dx: -Math.sin(angle), dy: Math.cos(angle), strength });
    }
  }
}

/** Whether the tile, grown by REACH, holds both hole and known picture: only then can an edge of it be beside the hole. */
function holeBorderNear({ width, height, hole }: Level, cx0: number, cy0: number, cx1: number, cy1: number): boolean {
  let holes = 0;
  let total = 0;
  for (let y = Math.max(0, cy0 - REACH); y < Math.min(height, cy1 + REACH); y++) {
    for (let x = Math.max(0, cx0 - REACH); x < Math.min(width, cx1 + REACH); x++) holes += hole[y * width + x];
    total += Math.min(width, cx1 + REACH) - Math.max(0, cx0 - REACH);
  }
  return holes > 0 && holes < total;
}

/** 1 at known pixels with a hole pixel within `radius` (chessboard): the hole dilated, a row pass then a column pass. */
function nearHole(w: number, h: number, holes: Uint8Array, radius: number): Uint8Array {
  const rows = new Uint8Array(w * h);
  for (let ty = 0; ty < h; ty++) {
    let last = -radius - 1;
    for (let tx = 0; tx < w + radius; tx++) {
      if (tx < w && holes[ty * w + tx]) last = tx;
      const at = tx - radius; // the pixel whose window [at - radius, at + radius] ends here
      if (at >= 0 && tx - last <= 2 * radius) rows[ty * w + at] = 1;
    }
  }
  const near = new Uint8Array(w * h);
  for (let tx = 0; tx < w; tx++) {
    let last = -radius - 1;
    for (let ty = 0; ty < h + radius; ty++) {
      if (ty < h && rows[ty * w + tx]) last = ty;
      const at = ty - radius;
      if (at >= 0 && ty - last <= 2 * radius && !holes[at * w + tx]) near[at * w + tx] = 1;
    }
  }
  return near;
}

/** A 3x3 mean over the zone's pixels only (the hole's pixels are not picture). */
function blur(values: Float32Array, w: number, h: number, zone: Uint8Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let ty = 0; ty < h; ty++) {
    for (let tx = 0; tx < w; tx++) {
      if (!zone[ty * w + tx]) continue;
      let total = 0;
      let n = 0;
      for (let yy = Math.max(0, ty - 1); yy <= Math.min(h - 1, ty + 1); yy++) {
        for (let xx = Math.max(0, tx - 1); xx <= Math.min(w - 1, tx + 1); xx++) {
          if (!zone[yy * w + xx]) continue;
          total += values[yy * w + xx];
          n++;
        }
      }
      out[ty * w + tx] = total / n;
    }
  }
  return out;
}

/** Edges bucketed by position, so that finding the one beside a point does not scan them all. */
class EdgeGrid {
  static readonly CELL = 16;
  private readonly cells = new Map<number, Edge[]>();

  constructor(edges: Edge[]) {
    for (const edge of edges) {
      const key = this.key(Math.floor(edge.x / EdgeGrid.CELL), Math.floor(edge.y / EdgeGrid.CELL));
      const cell = this.cells.get(key);
      if (cell) cell.push(edge);
      else this.cells.set(key, [edge]);
    }
  }

  /** Every edge within `radius` (chessboard) of (x, y). */
  near(x: number, y: number, radius: number): Edge[] {
    const c = EdgeGrid.CELL;
    const found: Edge[] = [];
    for (let cy = Math.floor((y - radius) / c); cy <= Math.floor((y + radius) / c); cy++) {
      for (let cx = Math.floor((x - radius) / c); cx <= Math.floor((x + radius) / c); cx++) {
        for (const edge of this.cells.get(this.key(cx, cy)) ?? []) {
          if (Math.abs(edge.x - x) <= radius && Math.abs(edge.y - y) <= radius) found.push(edge);
        }
      }
    }
    return found;
  }

  private key(cx: number, cy: number): number {
    return cy * 1_000_003 + cx;
  }
}

/** Whether walking from an edge along (dx, dy) enters the hole within a few pixels. */
function entersHole(level: Level, from: Edge, dx: number, dy: number): boolean {
  for (let s = 1; s <= REACH + 2; s++) {
    const x = Math.round(from.x + dx * s);
    const y = Math.round(from.y + dy * s);
    if (x < 0 || y < 0 || x >= level.width || y >= level.height) return false;
    if (level.hole[y * level.width + x]) return true;
  }
  return false;
}

/** Arcs are looked for only among at most this many edges that found no straight partner. */
const MAX_ARC_EDGES = 3000;
/** An arc turns by at most this between its ends, and at least MAX_ANGLE (less is a straight line). */
const MAX_TURN = Math.PI / 3;
/** The far end's direction agrees with the arc's there within this. */
const ARC_ANGLE = (8 * Math.PI) / 180;
/** The cosines of the least and the most two ends' directions may differ by, for the arc's turn to fit. */
const MOST_PARALLEL = Math.cos(2 * MAX_ANGLE - ARC_ANGLE);
const LEAST_PARALLEL = Math.cos(Math.min(Math.PI / 2, MAX_TURN + ARC_ANGLE));
/** Arcs are looked for between ends at most this far apart (px). */
const MAX_CHORD = 600;

/** An edge beside the hole that found no straight partner, and which way it points into the hole, with its colours across (the start of an arc). */
interface RimEnd extends Edge {
  inX: number;
  inY: number;
  /** The mean colour every ARC_STEP px across the edge (on the side of (-inY, inX) first), over PROFILE_RUN px outside the hole. */
  across: Float64Array;
}

/** Every how many px across an arc's ends their colours are compared, and how many steps each side. */
const ARC_STEP = 0.5;
const ARC_STEPS = HALF_WIDTH / ARC_STEP;

function rimEnd(level: Level, edge: Edge, direction: 1 | -1): RimEnd {
  const inward = { dx: edge.dx * direction, dy: edge.dy * direction };
  return { x: edge.x, y: edge.y, dx: edge.dx, dy: edge.dy, strength: edge.strength, inX: inward.dx, inY: inward.dy, across: profile(level, edge, inward, -1, ARC_STEPS, ARC_STEP) };
}

/** Rim ends with their positions and directions in flat arrays, for the quick tests of every pair. */
class RimEnds {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly inX: Float64Array;
  readonly inY: Float64Array;

  readonly all: RimEnd[];

  constructor(all: RimEnd[]) {
    this.all = all;
    this.x = Float64Array.from(all, (end) => end.x);
    this.y = Float64Array.from(all, (end) => end.y);
    this.inX = Float64Array.from(all, (end) => end.inX);
    this.inY = Float64Array.from(all, (end) => end.inY);
  }
}

/**
 * A circular arc from an edge that found no straight partner, tangent to it, through the hole to
 * another such edge whose direction is the arc's there and whose colours across match all along
 * the strip (an edge between two regions: a saucer's rim, a cheek's outline).
 */
function arcPartner(level: Level, ends: RimEnds, start: RimEnd): Segment | undefined {
  const { inX: dx, inY: dy } = start;
  let best: Segment | undefined;
  let bestScore = MAX_PROFILE_DIFFERENCE;
  for (let j = 0; j < ends.all.length; j++) {
    // First the cheap tests: the two directions differ by about as much as an arc may turn, and
    // the ends are neither too close nor too far apart.
    const parallel = Math.abs(dx * ends.inX[j] + dy * ends.inY[j]);
    if (parallel > MOST_PARALLEL || parallel < LEAST_PARALLEL) continue;
    const cx = ends.x[j] - start.x;
    const cy = ends.y[j] - start.y;
    const chord = Math.sqrt(cx * cx + cy * cy);
    if (chord < 4 * REACH || chord > MAX_CHORD) continue;
    const to = ends.all[j];
    const half = Math.atan2(dx * cy - dy * cx, dx * cx + dy * cy); // from the tangent to the chord
    if (Math.abs(half) <= MAX_ANGLE || Math.abs(half) > MAX_TURN / 2) continue;
    const turn = 2 * half;
    // The arc leaves the hole there the way `to` points into it.
    const there = rotate({ dx, dy }, turn);
    if (Math.acos(Math.max(-1, Math.min(1, -(there.dx * to.inX + there.dy * to.inY)))) > ARC_ANGLE) continue;
    const difference = acrossDifference(start, profile(level, to, there, 1, ARC_STEPS, ARC_STEP));
    if (difference >= bestScore) continue;
    if (!arcInHole(level, start, { dx, dy }, chord, turn)) continue;
    bestScore = difference;
    best = { from: start, to, left: HALF_WIDTH, right: HALF_WIDTH, turn };
  }
  return best;
}

/**
 * How unlike an arc's two ends look across it (mean squared RGB distance), `far` measured along the
 * arc's direction there; infinite when under half of it is known picture.
 */
function acrossDifference(start: RimEnd, far: Float64Array): number {
  let difference = 0;
  let n = 0;
  for (let a = 0; a < far.length; a += 3) {
    if (Number.isNaN(start.across[a]) || Number.isNaN(far[a])) continue;
    difference += (start.across[a] - far[a]) ** 2 + (start.across[a + 1] - far[a + 1]) ** 2 + (start.across[a + 2] - far[a + 2]) ** 2;
    n++;
  }
  return n > ARC_STEPS ? difference / n : Number.POSITIVE_INFINITY;
}

/** Whether the arc runs through the hole between its ends: every pixel on it more than a few px from both ends is hole. */
function arcInHole(level: Level, from: Edge, tangent: { dx: number; dy: number }, chord: number, turn: number): boolean {
  const radius = chord / (2 * Math.sin(Math.abs(turn) / 2));
  const side = Math.sign(turn);
  const centreX = from.x - tangent.dy * radius * side;
  const centreY = from.y + tangent.dx * radius * side;
  const start = Math.atan2(from.y - centreY, from.x - centreX);
  const length = radius * Math.abs(turn);
  const margin = REACH + 2;
  for (let s = margin; s <= length - margin; s++) {
    const angle = start + (side * s) / radius;
    const x = Math.round(centreX + radius * Math.cos(angle));
    const y = Math.round(centreY + radius * Math.sin(angle));
    if (x < 0 || y < 0 || x >= level.width || y >= level.height || !level.hole[y * level.width + x]) return false;
  }
  return true;
}

/** Walking from an edge along (dx, dy): where the walk is back on known picture after crossing the hole, if it enters the hole soon. */
function crossHole(level: Level, from: Edge, dx: number, dy: number): { x: number; y: number; length: number } | undefined {
  const { width, height, hole } = level;
  const at = (s: number) => {
    const x = Math.round(from.x + dx * s);
    const y = Math.round(from.y + dy * s);
    return x < 0 || y < 0 || x >= width || y >= height ? -1 : y * width + x;
  };
  let s = 1;
  for (; ; s++) {
    if (s > REACH + 2) return undefined;
    const p = at(s);
    if (p < 0) return undefined;
    if (hole[p]) break;
  }
  for (; ; s++) {
    const p = at(s);
    if (p < 0) return undefined;
    if (!hole[p]) return { x: from.x + dx * s, y: from.y + dy * s, length: s };
  }
}

/** The edge on the far side that continues `from` (near where the walk came out, alike in direction, strength and colour), as a segment to draw. */
function partner(grid: EdgeGrid, from: Edge, exit: { x: number; y: number; length: number }, level: Level): Segment | undefined {
  let best: Segment | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  // A direction a few degrees off drifts over a long walk; the angle checks decide.
  const slack = REACH + 2 + exit.length * Math.sin(MAX_ANGLE);
  for (const to of grid.near(exit.x, exit.y, slack)) {
    const lx = to.x - from.x;
    const ly = to.y - from.y;
    const length = Math.hypot(lx, ly);
    if (length === 0) continue;
    const line = { dx: lx / length, dy: ly / length };
    if (angleBetween(from, to) > MAX_ANGLE || angleBetween(from, line) > MAX_ANGLE || angleBetween(to, line) > MAX_ANGLE) continue;
    const left = sideDifference(level, from, to, line, 1);
    const right = sideDifference(level, from, to, line, -1);
    if (Math.min(left, right) > MAX_SIDE_DIFFERENCE) continue;
    const both = left <= MAX_SIDE_DIFFERENCE && right <= MAX_SIDE_DIFFERENCE;
    // The more alike, and the closer to where the walk along `from` came out (two alike posts
    // side by side are both within reach).
    const aside = Math.abs(-(to.x - exit.x) * from.dy + (to.y - exit.y) * from.dx);
    const score = (both ? Math.max(left, right) : Math.min(left, right)) + ASIDE_PENALTY * aside;
    if (score >= bestScore) continue;
    if (both) {
      // Alike on both sides: an edge between two regions (a horizon), drawn a few pixels each way.
      best = { from, to, left: HALF_WIDTH, right: HALF_WIDTH, turn: 0 };
    } else {
      // Alike on one side: a thin structure in front of a changing background (a post against
      // sky, then grass), drawn across its width. Alike on a wide region's side only is no
      // structure: two different things end there.
      const side = left <= MAX_SIDE_DIFFERENCE ? 1 : -1;
      const width = Math.min(structureWidth(level, from, line, side), structureWidth(level, to, line, side));
      if (width === Number.POSITIVE_INFINITY) continue;
      best = { from, to, left: side === 1 ? width : 0, right: side === 1 ? 0 : width, turn: 0 };
    }
    bestScore = score;
  }
  return best;
}

/** How far across the line a far end may be moved to line its profile up with the near end's (px), and in what steps. */
const MAX_SHIFT = 1.5;
const SHIFT_STEP = 0.125;
/** How far outside the hole an end's profile across the line is averaged (px). */
const PROFILE_RUN = 6;
/** Two ends whose strips differ more than this across the line, wherever the far one is moved, are not one structure (mean squared RGB distance). */
export const MAX_PROFILE_DIFFERENCE = 3 * 30 ** 2;

/**
 * The segment with its far end moved across the line (by up to MAX_SHIFT, between pixels) to where
 * the colours across the strip, outside the hole, line up best with the near end's; undefined when
 * they line up nowhere. Each end's edge is placed to a fraction of a pixel, and two strips of one
 * structure placed differently drew a 1 px wire twice, faintly, side by side; a strip pairing one
 * side of a wire with its other side drew it a few pixels off.
 */
function aligned(level: Level, segment: Segment): Segment | undefined {
  const { from, to, left, right } = segment;
  const length = Math.hypot(to.x - from.x, to.y - from.y);
  const line = { dx: (to.x - from.x) / length, dy: (to.y - from.y) / length };
  const steps = Math.round((Math.max(left, right) + 2 + MAX_SHIFT) / SHIFT_STEP);
  const near = profile(level, from, line, -1, steps);
  const far = profile(level, to, line, 1, steps);
  // Only what the strip draws is compared, from half a pixel inside a thin structure's edge: the
  // background beside a post may change along it.
  const lowest = Math.round((right === 0 ? 0.5 : -right) / SHIFT_STEP);
  const highest = Math.round((left === 0 ? -0.5 : left) / SHIFT_STEP);
  let best = 0;
  let bestDifference = Number.POSITIVE_INFINITY;
  // Nearest first, so that a tie keeps the smaller move.
  for (let step = 0; step <= 2 * (MAX_SHIFT / SHIFT_STEP); step++) {
    const shift = step % 2 === 0 ? step / 2 : -(step + 1) / 2;
    let difference = 0;
    let n = 0;
    for (let k = lowest; k <= highest; k++) {
      const a = (steps + k) * 3;
      const b = (steps + k + shift) * 3;
      if (Number.isNaN(near[a]) || Number.isNaN(far[b])) continue;
      difference += (near[a] - far[b]) ** 2 + (near[a + 1] - far[b + 1]) ** 2 + (near[a + 2] - far[b + 2]) ** 2;
      n++;
    }
    // At least half the strip must be seen at both ends.
    if (2 * n < highest - lowest || difference / n >= bestDifference) continue;
    bestDifference = difference / n;
    best = shift * SHIFT_STEP;
  }
  if (!(bestDifference <= MAX_PROFILE_DIFFERENCE)) return undefined;
  return best === 0 ? segment : { ...segment, to: { ...to, x: to.x - line.dy * best, y: to.y + line.dx * best } };
}

/** The mean colour at each offset across the line (every `step` px, index `steps` on the line) over PROFILE_RUN px beyond the end; NaN where no pixel was known. */
function profile(level: Level, end: Edge, line: { dx: number; dy: number }, outward: 1 | -1, steps: number, step = SHIFT_STEP): Float64Array {
  const out = new Float64Array((2 * steps + 1) * 3);
  const sample = new Float64Array(3);
  for (let k = -steps; k <= steps; k++) {
    const off = k * step;
    let n = 0;
    for (let s = 1; s <= PROFILE_RUN; s++) {
      const x = end.x - line.dy * off + line.dx * outward * s;
      const y = end.y + line.dx * off + line.dy * outward * s;
      if (!bilinear(level, x, y, sample, 0)) continue;
      for (let c = 0; c < 3; c++) out[(k + steps) * 3 + c] += sample[c];
      n++;
    }
    for (let c = 0; c < 3; c++) out[(k + steps) * 3 + c] = n === 0 ? Number.NaN : out[(k + steps) * 3 + c] / n;
  }
  return out;
}

/** A direction turned by `angle` (radians; positive from x towards y). */
function rotate({ dx, dy }: { dx: number; dy: number }, angle: number): { dx: number; dy: number } {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return { dx: dx * cos - dy * sin, dy: dx * sin + dy * cos };
}

/** Angle between two undirected lines. */
function angleBetween(a: { dx: number; dy: number }, b: { dx: number; dy: number }): number {
  return Math.acos(Math.min(1, Math.abs(a.dx * b.dx + a.dy * b.dy)));
}

/** How different the two ends look on one side of their line, SIDE_OFFSET px across it (RGB distance; infinite where either is not known picture). */
function sideDifference(level: Level, from: Edge, to: Edge, line: { dx: number; dy: number }, side: 1 | -1): number {
  const colours = new Float64Array(6);
  if (!bilinear(level, from.x - line.dy * SIDE_OFFSET * side, from.y + line.dx * SIDE_OFFSET * side, colours, 0)) return Number.POSITIVE_INFINITY;
  if (!bilinear(level, to.x - line.dy * SIDE_OFFSET * side, to.y + line.dx * SIDE_OFFSET * side, colours, 3)) return Number.POSITIVE_INFINITY;
  return Math.hypot(colours[0] - colours[3], colours[1] - colours[4], colours[2] - colours[5]);
}

/** How far across the line (on `side`) the colour just inside the edge goes on: a thin structure's width, or infinite for a wide region. */
function structureWidth(level: Level, edge: Edge, line: { dx: number; dy: number }, side: 1 | -1): number {
  const inside = known(level, edge.x - line.dy * SIDE_OFFSET * side, edge.y + line.dx * SIDE_OFFSET * side);
  if (inside < 0) return Number.POSITIVE_INFINITY;
  for (let offset = SIDE_OFFSET + 1; offset <= MAX_STRUCTURE_WIDTH; offset++) {
    const here = known(level, edge.x - line.dy * offset * side, edge.y + line.dx * offset * side);
    if (here < 0 || distance(level.rgb, here, inside) > STRUCTURE_TOLERANCE) return offset - 1;
  }
  return Number.POSITIVE_INFINITY;
}

/** The pixel nearest (x, y) when it is known picture, else -1. */
function known(level: Level, x: number, y: number): number {
  const px = Math.round(x);
  const py = Math.round(y);
  if (px < 0 || py < 0 || px >= level.width || py >= level.height) return -1;
  const p = py * level.width + px;
  return level.hole[p] ? -1 : p;
}

function distance(rgb: Uint8Array, a: number, b: number): number {
  const r = rgb[a * 3] - rgb[b * 3];
  const g = rgb[a * 3 + 1] - rgb[b * 3 + 1];
  const b_ = rgb[a * 3 + 2] - rgb[b * 3 + 2];
  return Math.sqrt(r * r + g * g + b_ * b_);
}

/**
 * The structure's own texture for a pixel `s` px into the hole from this end, `off` px across the
 * line, into `out`: a known pixel of the structure outside the hole, walking `outward` from the end
 * (repeating every TEXTURE_RUN px), so that the drawn strip has grain and not streaks of one
 * colour; the end's own pixel when that one no longer looks like the structure. False when the
 * end's pixel is not known picture.
 */
function beyond(level: Level, end: Edge, line: { dx: number; dy: number }, outward: 1 | -1, s: number, off: number, out: Float64Array): boolean {
  const x = end.x - line.dy * off;
  const y = end.y + line.dx * off;
  if (!sharp(level, x, y, out, 0)) return false;
  const step = 1 + (Math.floor(s) % TEXTURE_RUN);
  if (!sharp(level, x + line.dx * outward * step, y + line.dy * outward * step, out, 3)) return true;
  const r = out[3] - out[0];
  const g = out[4] - out[1];
  const b = out[5] - out[2];
  if (Math.sqrt(r * r + g * g + b * b) <= STRUCTURE_TOLERANCE) out.copyWithin(0, 3, 6);
  return true;
}

/**
 * The colour at (x, y) between pixels, as bilinear gives it but interpolated with Catmull-Rom
 * over the 4x4 pixels around it where those are all known picture: a line 1 px wide, sampled
 * half a pixel off, keeps most of its darkness instead of being spread over two pixels.
 */
function sharp(level: Level, x: number, y: number, out: Float64Array, at: number): boolean {
  const { width, height, hole, rgb } = level;
  const left = Math.floor(x) - 1;
  const top = Math.floor(y) - 1;
  if (left < 0 || top < 0 || left + 3 >= width || top + 3 >= height) return bilinear(level, x, y, out, at);
  for (let j = 0; j < 4; j++) {
    const row = (top + j) * width + left;
    if (hole[row] | hole[row + 1] | hole[row + 2] | hole[row + 3]) return bilinear(level, x, y, out, at);
  }
  const wx = catmullRom(x - left - 1, CUBIC_X);
  const wy = catmullRom(y - top - 1, CUBIC_Y);
  for (let c = 0; c < 3; c++) {
    let total = 0;
    for (let j = 0; j < 4; j++) {
      const row = (top + j) * width + left;
      total += wy[j] * (wx[0] * rgb[row * 3 + c] + wx[1] * rgb[(row + 1) * 3 + c] + wx[2] * rgb[(row + 2) * 3 + c] + wx[3] * rgb[(row + 3) * 3 + c]);
    }
    out[at + c] = Math.max(0, Math.min(255, total));
  }
  return true;
}

const CUBIC_X = new Float64Array(4);
const CUBIC_Y = new Float64Array(4);

/** Catmull-Rom weights of the four pixels around a point `t` (0..1) past the second. */
function catmullRom(t: number, weights: Float64Array): Float64Array {
  const t2 = t * t;
  const t3 = t2 * t;
  weights[0] = 0.5 * (-t3 + 2 * t2 - t);
  weights[1] = 0.5 * (3 * t3 - 5 * t2 + 2);
  weights[2] = 0.5 * (-3 * t3 + 4 * t2 + t);
  weights[3] = 0.5 * (t3 - t2);
  return weights;
}

/** The colour at (x, y) between pixels into out[at..at + 2], when all four pixels around it are known picture. */
function bilinear(level: Level, x: number, y: number, out: Float64Array, at: number): boolean {
  const { width, hole } = level;
  const p = Math.floor(y) * width + Math.floor(x);
  if (!inside(level, x, y) || hole[p] | hole[p + 1] | hole[p + width] | hole[p + width + 1]) return false;
  interpolate(level, x, y, out, at);
  return true;
}

/** Whether the four pixels around (x, y) lie in the level. */
function inside({ width, height }: Level, x: number, y: number): boolean {
  return x >= 0 && y >= 0 && Math.floor(x) + 1 < width && Math.floor(y) + 1 < height;
}

/**
 * The colour at (x, y) between pixels into out[at..at + 2], known picture or fill alike; false
 * outside the level.
 */
export function interpolate(level: Level, x: number, y: number, out: Float64Array, at = 0): boolean {
  if (!inside(level, x, y)) return false;
  const { width, rgb } = level;
  const left = Math.floor(x);
  const top = Math.floor(y);
  const p = top * width + left;
  const fx = x - left;
  const fy = y - top;
  for (let c = 0; c < 3; c++) {
    const above = rgb[p * 3 + c] * (1 - fx) + rgb[(p + 1) * 3 + c] * fx;
    const below = rgb[(p + width) * 3 + c] * (1 - fx) + rgb[(p + width + 1) * 3 + c] * fx;
    out[at + c] = above * (1 - fy) + below * fy;
  }
  return true;
}

/**
 * A drawn pixel's rank: a structure in front (alike on one side only: a post) before an edge
 * between regions (a horizon behind it), then by distance from the line, in thirds of a pixel.
 */
const BEHIND = 128;
const UNDRAWN = 255;

/** Draws one segment's strip into the level's hole pixels that no better-ranked strip drew, row by row over the pixels the strip covers. */
function drawSegment(level: Level, { from, to, left, right }: Segment, box: { x0: number; y0: number; x1: number }, ranks: Uint8Array): void {
  const { width, height, hole, rgb } = level;
  const lx = to.x - from.x;
  const ly = to.y - from.y;
  const length = Math.hypot(lx, ly);
  const ux = lx / length;
  const uy = ly / length;
  const line = { dx: ux, dy: uy };
  const inFront = left === 0 || right === 0;
  // A thin structure's strip starts half a pixel beyond its edge's line on its other side.
  const lowest = right === 0 ? -0.5 : -right;
  const highest = left === 0 ? 0.5 : left;
  const boxWidth = box.x1 - box.x0;
  const reach = Math.max(left, right) + 1;
  const a = new Float64Array(6);
  const b = new Float64Array(6);
  const top = Math.max(0, Math.floor(Math.min(from.y, to.y) - reach));
  const bottom = Math.min(height - 1, Math.ceil(Math.max(from.y, to.y) + reach));
  for (let y = top; y <= bottom; y++) {
    // Along the row, `off` (across the line) and `along` change linearly with x: the strip is one run.
    let lo = Math.max(0, Math.floor(Math.min(from.x, to.x) - reach));
    let hi = Math.min(width - 1, Math.ceil(Math.max(from.x, to.x) + reach));
    [lo, hi] = clip(lo, hi, -uy, (y - from.y) * ux + from.x * uy, lowest, highest);
    [lo, hi] = clip(lo, hi, ux, (y - from.y) * uy - from.x * ux, 0, length);
    for (let x = lo; x <= hi; x++) {
      const p = y * width + x;
      if (!hole[p]) continue;
      const along = ((x - from.x) * ux + (y - from.y) * uy) / length;
      const off = -(x - from.x) * uy + (y - from.y) * ux;
      if (along <= 0 || along >= 1 || off < lowest || off > highest) continue;
      // Where strips overlap, the better rank draws: each strip is true to its own edge, and
      // averaging two would blur.
      const rank = (inFront ? 0 : BEHIND) + Math.round(Math.abs(off) * 3);
      const r = (y - box.y0) * boxWidth + (x - box.x0);
      if (ranks[r] <= rank) continue;
      if (!beyond(level, from, line, -1, along * length, off, a) || !beyond(level, to, line, 1, (1 - along) * length, off, b)) continue;
      ranks[r] = rank;
      for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(a[c] * (1 - along) + b[c] * along);
    }
  }
}

/** Draws an arc's strip (HALF_WIDTH each side) into the level's hole pixels no better-ranked strip drew, row by row over the ring it lies on. */
function drawArc(level: Level, { from, to, left, turn }: Segment, box: { x0: number; y0: number; x1: number }, ranks: Uint8Array): void {
  const { width, height, hole, rgb } = level;
  const chord = Math.hypot(to.x - from.x, to.y - from.y);
  const radius = chord / (2 * Math.sin(Math.abs(turn) / 2));
  const side = Math.sign(turn);
  // The arc's direction at each end: the chord's, turned back (at `from`) or on (at `to`) by half the turn.
  const t1 = rotate({ dx: (to.x - from.x) / chord, dy: (to.y - from.y) / chord }, -turn / 2);
  const t2 = rotate(t1, turn);
  const centreX = from.x - t1.dy * radius * side;
  const centreY = from.y + t1.dx * radius * side;
  const start = Math.atan2(from.y - centreY, from.x - centreX);
  const length = radius * Math.abs(turn);
  const boxWidth = box.x1 - box.x0;
  const inner = Math.max(0, radius - left - 1);
  const outer = radius + left + 1;
  const a = new Float64Array(6);
  const b = new Float64Array(6);
  const y0 = Math.max(0, Math.floor(centreY - outer));
  const y1 = Math.min(height - 1, Math.ceil(centreY + outer));
  for (let y = y0; y <= y1; y++) {
    const ry = y - centreY;
    const far = Math.sqrt(Math.max(0, outer * outer - ry * ry));
    const near = Math.sqrt(Math.max(0, inner * inner - ry * ry));
    for (const sign of [-1, 1]) {
      const lo = Math.max(0, Math.ceil(sign < 0 ? centreX - far : centreX + near));
      const hi = Math.min(width - 1, Math.floor(sign < 0 ? centreX - near : centreX + far));
      for (let x = lo; x <= hi; x++) {
        const p = y * width + x;
        if (!hole[p]) continue;
        const r = Math.hypot(x - centreX, ry);
        // Positive towards the centre, as (-dy, dx) of the tangent is where it turns.
        const off = (radius - r) * side;
        if (Math.abs(off) > left) continue;
        let swept = (Math.atan2(ry, x - centreX) - start) * side;
        swept -= 2 * Math.PI * Math.floor(swept / (2 * Math.PI));
        const along = swept / Math.abs(turn);
        if (along <= 0 || along >= 1) continue;
        const rank = BEHIND + Math.round(Math.abs(off) * 3);
        const q = (y - box.y0) * boxWidth + (x - box.x0);
        if (ranks[q] <= rank) continue;
        if (!beyond(level, from, t1, -1, along * length, off, a) || !beyond(level, to, t2, 1, (1 - along) * length, off, b)) continue;
        ranks[q] = rank;
        for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(a[c] * (1 - along) + b[c] * along);
      }
    }
  }
}

/** The x in [lo, hi] (whole pixels) where slope * x + intercept lies in [min, max]. */
function clip(lo: number, hi: number, slope: number, intercept: number, min: number, max: number): [number, number] {
  if (Math.abs(slope) < 1e-9) return intercept >= min && intercept <= max ? [lo, hi] : [1, 0];
  const a = (min - intercept) / slope;
  const b = (max - intercept) / slope;
  return [Math.max(lo, Math.ceil(Math.min(a, b) - 1e-9)), Math.min(hi, Math.floor(Math.max(a, b) + 1e-9))];
}
