// Behaviour of contentAwareFill as a user sees it: the object is gone, the fill is as sharp as the
// picture around it, and nothing outside the grown mask changes by a single byte.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RetouchError } from "../errors.ts";
import { holeSharpness, makeScene, redPixelCount, squareMask } from "../../test/support/scene.ts";
import { SCHEDULE } from "./complete.ts";
import { contentAwareFill } from "./fill.ts";
import { firstGuess } from "./guess.ts";
import { binarizeMask, dilateMask } from "./mask.ts";
import { createRandom } from "./random.ts";

/** 255 wherever the engine may write: the mask grown by 3 px (computed here by brute force). */
function grownMask(mask: Uint8Array, width: number, height: number, radius = 3): Uint8Array {
  const grown = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (mask[y * width + x] < 128) continue;
      for (let yy = Math.max(0, y - radius); yy <= Math.min(height - 1, y + radius); yy++) {
        for (let xx = Math.max(0, x - radius); xx <= Math.min(width - 1, x + radius); xx++) grown[yy * width + xx] = 255;
      }
    }
  }
  return grown;
}

function assertUntouchedOutside(input: Uint8Array, output: Uint8Array, grown: Uint8Array): void {
  let changed = 0;
  for (let p = 0; p < grown.length; p++) {
    if (grown[p] !== 0) continue;
    for (let c = 0; c < 3; c++) if (input[p * 3 + c] !== output[p * 3 + c]) changed++;
  }
  assert.equal(changed, 0, "bytes outside the grown mask changed");
}

function changedPixels(input: Uint8Array, output: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < input.length; p += 3) {
    if (input[p] !== output[p] || input[p + 1] !== output[p + 1] || input[p + 2] !== output[p + 2]) n++;
  }
  return n;
}

describe("contentAwareFill", () => {
  const scene = makeScene({ width: 320, height: 320 });
  const truth = makeScene({ width: 320, height: 320, withDisc: false });
  const mask = squareMask(320, 320, scene.disc.cx, scene.disc.cy, 70);
  const grown = grownMask(mask, 320, 320);
  const out = contentAwareFill({ width: 320, height: 320, rgb: scene.rgb, mask });

  test("removes the object: no disc-red pixel is left", () => {
    assert.ok(redPixelCount(scene.rgb, grown) > 1000, "the test picture has the disc under the mask");
    assert.equal(redPixelCount(out), 0);
  });

  test("leaves every pixel outside the mask grown by 3 px byte-identical, and does not touch the input", () => {
    assertUntouchedOutside(scene.rgb, out, grown);
    assert.notEqual(out, scene.rgb);
    assert.deepEqual(scene.rgb, makeScene({ width: 320, height: 320 }).rgb);
  });

  test("fills as sharply as the picture around the hole, unlike a smooth blend", () => {
    const ideal = holeSharpness(truth.rgb, 320, 320, grown);
    const filled = holeSharpness(out, 320, 320, grown);
    assert.ok(filled > 0.7 * ideal && filled < 1.4 * ideal, `sharpness ${filled.toFixed(2)} vs ideal ${ideal.toFixed(2)}`);

    // The same measure rejects a blur, so the assertion above can fail.
    const blurred = { width: 320, height: 320, rgb: scene.rgb.slice(), hole: dilateMask(binarizeMask(mask), 320, 320, 3) };
    firstGuess(blurred);
    assert.ok(holeSharpness(blurred.rgb, 320, 320, grown) < 0.5 * ideal);
  });

  test("continues the texture: the fill's colours match the grass that was under the disc", () => {
    let diff = 0;
    let n = 0;
    for (let p = 0; p < grown.length; p++) {
      if (grown[p] === 0) continue;
      diff += out[p * 3 + 1] - truth.rgb[p * 3 + 1];
      n++;
    }
    assert.ok(Math.abs(diff / n) < 8, `mean green off by ${(diff / n).toFixed(1)}`);
  });

  test("is deterministic for a seed, and the seed matters", () => {
    const small = makeScene({ width: 128, height: 128 });
    const m = squareMask(128, 128, small.disc.cx, small.disc.cy, 36);
    const input = { width: 128, height: 128, rgb: small.rgb, mask: m };
    const a = contentAwareFill(input, { seed: 42 });
    assert.deepEqual(contentAwareFill(input, { seed: 42 }), a);
    assert.notDeepEqual(contentAwareFill(input, { seed: 43 }), a);
    assert.deepEqual(contentAwareFill(input), contentAwareFill(input));
  });

  test("a Node Buffer input (as sharp returns) is never written to", () => {
    const buffer = Buffer.from(scene.rgb);
    const filled = contentAwareFill({ width: 320, height: 320, rgb: buffer, mask: Buffer.from(mask) });
    assert.deepEqual(new Uint8Array(buffer), scene.rgb);
    assert.deepEqual(filled, out);
  });

  test("an empty mask returns an identical copy", () => {
    const empty = new Uint8Array(320 * 320).fill(127);
    const copy = contentAwareFill({ width: 320, height: 320, rgb: scene.rgb, mask: empty });
    assert.notEqual(copy, scene.rgb);
    assert.deepEqual(copy, scene.rgb);
  });

  test("a mask over (almost) everything is a 400 on the mask, saying what to do", () => {
    const all = new Uint8Array(64 * 48).fill(255);
    const rgb = makeScene({ width: 64, height: 48 }).rgb;
    assert.throws(
      () => contentAwareFill({ width: 64, height: 48, rgb, mask: all }),
      (error: unknown) =>
        error instanceof RetouchError && error.status === 400 && error.param === "mask" && /covers 100\.0%.*Paint only the object/.test(error.message),
    );
    // One unmasked row is still too little once the mask grows by 3 px.
    all.fill(0, 0, 64);
    assert.throws(() => contentAwareFill({ width: 64, height: 48, rgb, mask: all }), RetouchError);
  });

  test("malformed input is a 400 naming the field", () => {
    assert.throws(
      () => contentAwareFill({ width: 10, height: 10, rgb: new Uint8Array(299), mask: new Uint8Array(100) }),
      (error: unknown) => error instanceof RetouchError && error.param === "image" && /300 bytes/.test(error.message),
    );
    assert.throws(
      () => contentAwareFill({ width: 10, height: 10, rgb: new Uint8Array(300), mask: new Uint8Array(99) }),
      (error: unknown) => error instanceof RetouchError && error.param === "mask",
    );
  });

  test("a hole in a field of stones is filled with stones, not smeared flat", () => {
    // Gravel, grass and fur came out as grey mush when the coarse levels' matching preferred the
    // flattest sources; the texture term (TEXTURE_WEIGHT) keeps them. Without it: 0.33 here.
    const side = 768;
    const random = createRandom(7);
    const rgb = new Uint8Array(side * side * 3).fill(120);
    for (let k = 0; k < 9000; k++) {
      const cx = random.next() * side;
      const cy = random.next() * side;
      const r = 2 + random.next() * 5;
      const grey = 40 + random.next() * 180;
      for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(side, cy + r); y++) {
        for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(side, cx + r); x++) {
          if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) rgb.fill(grey, (y * side + x) * 3, (y * side + x) * 3 + 3);
        }
      }
    }
    const centre = side / 2;
    const stonesMask = squareMask(side, side, centre, centre, 200);
    const filled = contentAwareFill({ width: side, height: side, rgb, mask: stonesMask });
    // Mean squared gradient inside the hole (away from its border) against a ring outside it.
    const energy = (picture: Uint8Array, inside: (dx: number, dy: number) => boolean) => {
      let sum = 0;
      let count = 0;
      for (let y = 0; y < side - 1; y++) {
        for (let x = 0; x < side - 1; x++) {
          if (!inside(Math.abs(x - centre), Math.abs(y - centre))) continue;
          const q = (y * side + x) * 3;
          sum += (picture[q + 3] - picture[q]) ** 2 + (picture[q + side * 3] - picture[q]) ** 2;
          count++;
        }
      }
      return sum / count;
    };
    const ratio = energy(filled, (dx, dy) => dx < 96 && dy < 96) / energy(rgb, (dx, dy) => Math.max(dx, dy) >= 110 && Math.max(dx, dy) < 130);
    assert.ok(ratio >= 0.6, `the fill has ${ratio.toFixed(2)} of the surrounding stones' gradient energy (the stones under it: 0.93)`);
  });

  test("holes touching the border are filled, including one that carries the object", () => {
    // A wide, short picture whose disc sits low; the mask runs off the bottom edge.
    const wide = makeScene({ width: 400, height: 120 });
    const m = new Uint8Array(400 * 120);
    const { cx, cy, r } = wide.disc;
    for (let y = cy - r - 2; y < 120; y++) m.fill(255, y * 400 + cx - r - 2, y * 400 + cx + r + 3);
    for (let y = 0; y < 20; y++) m.fill(255, y * 400, y * 400 + 30); // top-left corner
    const filled = contentAwareFill({ width: 400, height: 120, rgb: wide.rgb, mask: m });
    assert.equal(redPixelCount(filled), 0);
    assertUntouchedOutside(wide.rgb, filled, grownMask(m, 400, 120));
    // The corner (sky) is filled with sky: blue stays the strongest channel.
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 30; x++) {
        const i = (y * 400 + x) * 3;
        assert.ok(filled[i + 2] > filled[i + 1] && filled[i + 1] > filled[i], `pixel ${x},${y} is not sky`);
      }
    }
  });

  test("several separate holes are all filled", () => {
    const m = squareMask(320, 320, scene.disc.cx, scene.disc.cy, 60);
    const second = squareMask(320, 320, 40, 280, 30);
    const third = squareMask(320, 320, 300, 60, 12);
    for (let p = 0; p < m.length; p++) m[p] |= second[p] | third[p];
    const filled = contentAwareFill({ width: 320, height: 320, rgb: scene.rgb, mask: m });
    assert.equal(redPixelCount(filled), 0);
    assertUntouchedOutside(scene.rgb, filled, grownMask(m, 320, 320));
    for (const [x, y] of [[40, 280], [300, 60]]) {
      const i = (y * 320 + x) * 3;
      assert.ok(Math.abs(filled[i + 1] - truth.rgb[i + 1]) < 60, `hole at ${x},${y} holds an implausible colour`);
    }
    // Bigger than 3 and 1/4 of the square hole: all three holes were written.
    assert.ok(changedPixels(scene.rgb, filled) > 0.5 * (66 * 66 + 36 * 36 + 18 * 18));
  });

  test("odd and tiny sizes work", () => {
    for (const [w, h, side] of [[16, 16, 4], [16, 16, 8], [33, 17, 5], [97, 203, 30], [1, 1, 0]] as const) {
      const s = makeScene({ width: w, height: h });
      const m = squareMask(w, h, w >> 1, h >> 1, side);
      const filled = contentAwareFill({ width: w, height: h, rgb: s.rgb, mask: m });
      assert.equal(filled.length, w * h * 3);
      assertUntouchedOutside(s.rgb, filled, grownMask(m, w, h));
    }
  });
});

describe("a hole too large for the half-resolution search (over 1000 px at full size)", () => {
  test("is still filled whole and sharp, with its previews, from matches carried up unchanged", () => {
    // The same path a 4096 px picture takes, on a small one: the half level's limit set to nothing.
    const limit = SCHEDULE.half.maxTargets;
    SCHEDULE.half.maxTargets = 0;
    try {
      const scene = makeScene({ width: 320, height: 320 });
      const truth = makeScene({ width: 320, height: 320, withDisc: false });
      const mask = squareMask(320, 320, scene.disc.cx, scene.disc.cy, 70);
      const grown = grownMask(mask, 320, 320);
      const previews: Uint8Array[] = [];
      const out = contentAwareFill({ width: 320, height: 320, rgb: scene.rgb, mask }, { previews: 3, onPreview: (rgb) => previews.push(rgb) });
      assert.equal(redPixelCount(out), 0);
      assertUntouchedOutside(scene.rgb, out, grown);
      const ideal = holeSharpness(truth.rgb, 320, 320, grown);
      const filled = holeSharpness(out, 320, 320, grown);
      assert.ok(filled > 0.7 * ideal && filled < 1.4 * ideal, `sharpness ${filled.toFixed(2)} vs ideal ${ideal.toFixed(2)}`);
      SCHEDULE.half.maxTargets = limit;
      const searched: Uint8Array[] = [];
      const usual = contentAwareFill({ width: 320, height: 320, rgb: scene.rgb, mask }, { previews: 3, onPreview: (rgb) => searched.push(rgb) });
      assert.equal(previews.length, searched.length, "the half level still shows its estimate");
      assert.notDeepEqual(out, usual, "the half level's search was skipped");
    } finally {
      SCHEDULE.half.maxTargets = limit;
    }
  });
});

describe("previews for a streamed edit", () => {
  test("coarse estimates of the fill, coarsest first, full size, nothing outside the hole changed; the result is the same as without them", () => {
    const scene = makeScene({ width: 256, height: 256 });
    const mask = squareMask(256, 256, scene.disc.cx, scene.disc.cy, 120);
    const input = { width: 256, height: 256, rgb: scene.rgb, mask };
    const previews: Uint8Array[] = [];
    const result = contentAwareFill(input, { previews: 3, onPreview: (rgb) => previews.push(rgb) });
    assert.ok(previews.length >= 2 && previews.length <= 3, `${previews.length} previews`);
    const grown = grownMask(mask, 256, 256);
    for (const preview of previews) {
      assert.equal(preview.length, scene.rgb.length);
      assertUntouchedOutside(scene.rgb, preview, grown);
    }
    // Each preview is a coarser picture of the same fill: the last is nearer the result than the first.
    const distance = (a: Uint8Array) => {
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - result[i]);
      return sum;
    };
    assert.ok(distance(previews.at(-1)!) < distance(previews[0]), "finer previews come closer to the result");
    assert.equal(redPixelCount(previews.at(-1)!), 0, "already without the object");
    assert.deepEqual(result, contentAwareFill(input), "asking for previews does not change the fill");
    const none: Uint8Array[] = [];
    contentAwareFill(input, { previews: 0, onPreview: (rgb) => none.push(rgb) });
    assert.equal(none.length, 0);
  });
});
