// Posts whose tops are hidden by the hole (the benchmark's fence scene with its 400 px hole): the
// patch fill continues them from copies of other posts, a few pixels to the side, in steps or at a
// slant, sometimes narrower or with rows left out; the straightening puts each back on its own
// columns, draws what was left out, and leaves the fill alone where nothing enters or the copy
// slides out of reach or wanders in jumps.

import assert from "node:assert/strict";
import { test } from "node:test";
import { isPostBrown, makeScene, postInFill, scenePosts, squareMask } from "../../test/support/scene.ts";
import { contentAwareFill } from "./fill.ts";
import { straighten } from "./straighten.ts";
import { findStructure } from "./structure.ts";

const SIZE = 1024;
const HOLE_SIDE = 400;
// The scene's posts (test/support/scene.ts at 1024 px): 14 px wide, from 60 px above the horizon
// (row 440) to 120 px below it. Three enter the hole (rows 400-800) from above and end inside it.
const { width: POST_WIDTH, bottom: POST_BOTTOM, lefts } = scenePosts(SIZE, SIZE);
const HOLE_TOP = 400 - 3; // the mask is grown by 3 px
const POSTS_IN_HOLE = lefts.slice(2, 5);

const scene = makeScene({ width: SIZE, height: SIZE });
const mask = squareMask(SIZE, SIZE, scene.disc.cx, scene.disc.cy, HOLE_SIDE);

const isBrown = (rgb: Uint8Array, x: number, y: number) => isPostBrown(rgb, SIZE, x, y);

/** For one post: brown pixels within 12 px of its columns down the hole, on its columns (±1 px) and off them, and the rows it reaches. */
const inFill = (rgb: Uint8Array, left: number) => postInFill(rgb, SIZE, left, HOLE_TOP, POST_BOTTOM + 40);

test("posts that end inside the hole come out on their own columns, whole, not beside them, in all but one of 36 fills", () => {
  // A post is judged in one fill; another seed is another random stream through the same engine.
  // Over seeds 1-60, no post of 180 comes out crooked (1, a copy that narrows to half the post,
  // before such rows were followed); before leaning copies were followed and the pixels left out
  // of a post's width or beside it drawn, 11 of 180, and 4 of these 36. So the test counts over 12
  // fills and allows one; the patch fill alone leaves about two posts in three crooked.
  let crooked = 0;
  let crookedAlone = 0;
  const failures: string[] = [];
  const seeds = [undefined, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  for (const seed of seeds) {
    const straightened = contentAwareFill({ width: SIZE, height: SIZE, rgb: scene.rgb, mask }, { seed });
    const patchOnly = contentAwareFill({ width: SIZE, height: SIZE, rgb: scene.rgb, mask }, { seed, structure: false });
    for (const left of POSTS_IN_HOLE) {
      const after = inFill(straightened, left);
      const before = inFill(patchOnly, left);
      // Still as long as the fill made it (the real one reaches 163 rows into the hole), on its own
      // columns, and whole in all but 10 rows (a row where the copy is a few px narrower counts too).
      const faults = [
        after.rows >= 0.8 * before.rows && after.rows >= 64 ? "" : `reaches ${after.rows} rows in (the fill alone: ${before.rows})`,
        after.off <= 0.03 * (after.on + after.off) ? "" : `${after.off} brown pixels beside its columns, ${after.on} on them`,
        after.missing <= 10 ? "" : `${after.missing} rows without the whole post`,
      ].filter(Boolean);
      if (faults.length > 0) {
        crooked++;
        failures.push(`seed ${seed ?? "default"}, the post at x=${left}: ${faults.join(", ")}`);
      }
      if (before.off > 0.03 * (before.on + before.off) || before.missing > 10) crookedAlone++;
    }
  }
  const posts = seeds.length * POSTS_IN_HOLE.length;
  assert.ok(crooked <= 1, `${crooked} of ${posts} posts crooked or short:\n${failures.join("\n")}`);
  // The scene does show what is fixed: the fill alone puts posts beside their columns or leaves rows out.
  assert.ok(crookedAlone >= posts / 2, `the patch fill alone left ${crookedAlone} of ${posts} posts crooked`);
});

/**
 * A stand-in for a fill: the picture without the disc, with the middle post (columns 464-477)
 * redrawn in the hole `offset(y)` px to the side, down to `bottom`, but for the rows `left out`
 * and, in each row, its `narrower(y)` rightmost columns (less than 0: that many more columns of
 * post). Answers the level and its stubs.
 */
function fillWithPostAt(offset: (y: number) => number, bottom = POST_BOTTOM, leftOut: (y: number) => boolean = () => false, narrower: (y: number) => number = () => 0) {
  const truth = makeScene({ width: SIZE, height: SIZE, withDisc: false });
  const hole = new Uint8Array(SIZE * SIZE);
  for (let p = 0; p < mask.length; p++) hole[p] = mask[p] ? 1 : 0;
  const { stubs } = findStructure({ width: SIZE, height: SIZE, rgb: scene.rgb, hole });
  const rgb = new Uint8Array(truth.rgb);
  const left = POSTS_IN_HOLE[1];
  for (let y = 400; y < 800; y++) {
    // The background from 40 px to the left (no post there), then the post where the "fill" put it.
    for (let x = left - 14; x < left + POST_WIDTH + 14; x++) rgb.copyWithin((y * SIZE + x) * 3, (y * SIZE + x - 40) * 3, (y * SIZE + x - 39) * 3);
    if (y >= bottom || leftOut(y)) continue;
    for (let x = left; x < left + POST_WIDTH - narrower(y); x++) {
      const from = y * SIZE + Math.min(x, left + POST_WIDTH - 1); // wider (narrower < 0): its last column again
      rgb.set(truth.rgb.subarray(from * 3, from * 3 + 3), (y * SIZE + x + offset(y)) * 3);
    }
  }
  return { level: { width: SIZE, height: SIZE, rgb, hole }, stubs, truth, left };
}

/** Which pixels differ between two pictures, as a list of [x, y]. */
function changed(a: Uint8Array, b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (let p = 0; p < a.length / 3; p++) {
    if (a[p * 3] !== b[p * 3] || a[p * 3 + 1] !== b[p * 3 + 1] || a[p * 3 + 2] !== b[p * 3 + 2]) out.push([p % SIZE, Math.floor(p / SIZE)]);
  }
  return out;
}

test("a post the fill bent 5 px aside, stepped 6 px aside at once, leaned 12 px over its length or swayed goes back on its columns; nothing outside the hole or past its end moves", () => {
  const cases = {
    bent: (y: number) => -Math.max(0, Math.min(5, Math.round((y - 420) / 2))),
    stepped: (y: number) => (y < 430 ? 0 : -6),
    // 1 px in 13 rows: 12 px aside at the post's end (row 560).
    leaning: (y: number) => -Math.round((y - 400) / 13),
    swaying: (y: number) => Math.round(5 * Math.sin((y - 400) / 25)),
  };
  for (const [name, offset] of Object.entries(cases)) {
    const { level, stubs, left } = fillWithPostAt(offset);
    const before = new Uint8Array(level.rgb);
    straighten(level, stubs);
    const moved = changed(before, level.rgb);
    assert.ok(moved.length > 1000, `${name}: ${moved.length} pixels moved`);
    assert.ok(moved.every(([x, y]) => level.hole[y * SIZE + x]), `${name}: only hole pixels change`);
    // The shift fades out within 16 px past the post's end (as far as it may be moved, and 2 px); below that the fill is as it was.
    assert.ok(moved.every(([, y]) => y < POST_BOTTOM + 18), `${name}: a pixel moved at row ${Math.max(...moved.map(([, y]) => y))}`);
    const { on, off } = inFill(level.rgb, left);
    assert.ok(off <= 0.03 * (on + off), `${name}: ${off} brown pixels beside the post's columns, ${on} on them`);
  }
});

test("rows the fill left out of a post, 4 px aside, are drawn in on its columns from the rows above", () => {
  const { level, stubs, left } = fillWithPostAt(() => -4, POST_BOTTOM, (y) => y >= 470 && y < 480);
  straighten(level, stubs);
  for (let y = HOLE_TOP + 4; y < POST_BOTTOM; y++) {
    let brown = 0;
    for (let x = left; x < left + POST_WIDTH; x++) if (isBrown(level.rgb, x, y)) brown++;
    assert.ok(brown >= POST_WIDTH - 2, `row ${y}: ${brown} of the post's ${POST_WIDTH} columns brown`);
  }
  // A gap longer than 12 rows ends the post there: what the fill put below it is another thing.
  const long = fillWithPostAt(() => -4, POST_BOTTOM, (y) => y >= 470 && y < 490);
  straighten(long.level, long.stubs);
  let drawn = 0;
  for (let y = 470; y < 490; y++) for (let x = left; x < left + POST_WIDTH; x++) if (isBrown(long.level.rgb, x, y)) drawn++;
  assert.equal(drawn, 0, "rows of a long gap drawn");
  // Below a gap the copy is looked for where it was: one 8 px further over is another thing, left as the fill made it.
  const moved = fillWithPostAt((y) => (y < 480 ? -4 : 4), POST_BOTTOM, (y) => y >= 470 && y < 480);
  const before = new Uint8Array(moved.level.rgb);
  straighten(moved.level, moved.stubs);
  const below = changed(before, moved.level.rgb).filter(([, y]) => y >= 480 + 14);
  assert.deepEqual(below, [], "pixels moved below the gap");
});

test("a copy that slides out of reach, lies further aside than 14 px, wanders in jumps, or is short is not followed", () => {
  const cases = {
    sliding: fillWithPostAt((y) => -Math.round((y - 400) / 8)),
    far: fillWithPostAt(() => -16),
    // Slid to the edge of reach and kept there: as likely a thing further off as this post.
    edge: fillWithPostAt((y) => -Math.min(14, Math.round((y - 400) / 4))),
    // 4 px at a time, one way then the other, never long at one place: the brick photo's bricks, followed course to course.
    jumping: fillWithPostAt((y) => [0, -4, -8, -4, 0, 4, 8][Math.min(6, Math.floor((y - 400) / 23))]),
    short: fillWithPostAt((y) => -Math.max(0, Math.min(5, Math.round((y - 410) / 2))), 450),
  };
  for (const [name, { level, stubs, left }] of Object.entries(cases)) {
    const before = new Uint8Array(level.rgb);
    // The two other posts, on their lines, are answered; nothing of this one.
    const placed = straighten(level, stubs).filter((p) => Math.abs((p % SIZE) - left) < 40);
    assert.deepEqual(placed, [], name);
    assert.equal(changed(before, level.rgb).length, 0, name);
  }
});

test("a fill that has the posts on their lines already is left as it is, and answers their pixels for strips to pass behind", () => {
  const { level, stubs } = fillWithPostAt(() => 0);
  assert.ok(stubs.length >= 3, `${stubs.length} stubs found`);
  const before = new Uint8Array(level.rgb);
  const placed = straighten(level, stubs);
  assert.deepEqual(changed(before, level.rgb), []);
  // The three posts' columns down to their ends (163 rows in), in front of the horizon drawn next.
  assert.ok(placed.length >= 3 * (POST_WIDTH - 2) * 150, `${placed.length} pixels answered`);
  // The edges' blended pixels aside.
  const brown = placed.filter((p) => isBrown(level.rgb, p % SIZE, Math.floor(p / SIZE))).length;
  assert.ok(brown >= 0.9 * placed.length, `${placed.length - brown} of ${placed.length} pixels answered are not the post's`);
});

test("pixels the fill left out of a post's width, up to half of it, are drawn in from the post above the hole, on its line or moved onto it", () => {
  // Rows 450-479 without the post's 3 or 7 rightmost columns: the copy narrower there, a quarter
  // or half of it missing; not a gap, which would end the post after 12 rows.
  for (const [offset, narrower] of [
    [0, 3],
    [-4, 3],
    [0, 7],
    [-4, 7],
  ]) {
    const { level, stubs, truth, left } = fillWithPostAt(() => offset, POST_BOTTOM, () => false, (y) => (y >= 450 && y < 480 ? narrower : 0));
    const brownIn = (rgb: Uint8Array, y: number) => {
      let brown = 0;
      for (let x = left; x < left + POST_WIDTH; x++) if (isBrown(rgb, x, y)) brown++;
      return brown;
    };
    assert.ok(brownIn(level.rgb, 460) <= POST_WIDTH - narrower + Math.abs(offset), "the stand-in is narrower there");
    straighten(level, stubs);
    let unlike = 0;
    for (let y = HOLE_TOP + 4; y < POST_BOTTOM; y++) {
      // All but the edges' columns: the copy moved onto the line may lie a px off where it is narrower.
      assert.ok(brownIn(level.rgb, y) >= POST_WIDTH - 2, `offset ${offset}, ${narrower} px narrower, row ${y}: ${brownIn(level.rgb, y)} of the post's ${POST_WIDTH} columns brown`);
      // The drawn pixels have the post's colours, not one flat brown: close to the real post's, pixel
      // by pixel, or its neighbour's (the line's direction, measured over a few px outside the
      // hole, may put the post a px over by its end).
      for (let x = left + 1; x < left + POST_WIDTH - 1; x++) {
        const p = (y * SIZE + x) * 3;
        const difference = (q: number) => Math.abs(level.rgb[p] - truth.rgb[q]) + Math.abs(level.rgb[p + 1] - truth.rgb[q + 1]) + Math.abs(level.rgb[p + 2] - truth.rgb[q + 2]);
        if (Math.min(difference(p - 3), difference(p), difference(p + 3)) > 60) unlike++;
      }
    }
    assert.ok(unlike <= 20, `offset ${offset}, ${narrower} px narrower: ${unlike} pixels of the post unlike the real post's`);
  }
});

test("where the copy is wider than the post, on its line or moved onto it, the background comes back beside it", () => {
  for (const offset of [0, -4]) {
    // Rows 450-519 with 3 more columns of post on the right: 2 of them more than 1 px beside its columns.
    const { level, stubs, left } = fillWithPostAt(() => offset, POST_BOTTOM, () => false, (y) => (y >= 450 && y < 520 ? -3 : 0));
    assert.ok(inFill(level.rgb, left + offset).off >= 140, "the stand-in is wider there");
    straighten(level, stubs);
    // At most one column's worth is left: the line's direction, measured over a few px outside the
    // hole, may lean a px by the post's end, and a px just beside the line is left as the fill made it.
    const { on, off } = inFill(level.rgb, left);
    assert.ok(off <= 70, `offset ${offset}: ${off} brown pixels beside the post's columns, ${on} on them`);
  }
});
