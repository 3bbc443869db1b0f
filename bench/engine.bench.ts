// Benchmark of the embedded content-aware fill on the 1024x1024 test scene against OpenCV Telea:
// time (direct and through the worker pool) and quality, and how the fence posts whose tops the
// 400 px hole hides come out over many seeds. Prints the tables and writes bench/README.md.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import sharp from "sharp";
import { contentAwareFill, createEnginePool, type FillInput } from "../src/engine/index.ts";
import { GROW_RADIUS } from "../src/engine/fill.ts";
import { binarizeMask, dilateMask } from "../src/engine/mask.ts";
import { holeSharpness, makeScene, postInFill, redPixelCount, scenePosts, squareMask } from "../test/support/scene.ts";
import { loadOpenCv, teleaInpaint } from "./opencv.ts";

const SIZE = 1024;
const HOLES = [200, 400];
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** Fills of the 400 px hole, seeds 1..SEEDS, whose posts are counted: one seed's posts say little. */
const SEEDS = Number(process.env.BENCH_SEEDS ?? 20);
const OUT = new URL("./out/", import.meta.url);
const README = new URL("./README.md", import.meta.url);

interface Timing {
  median: number;
  min: number;
  max: number;
}

interface Row {
  hole: number;
  method: string;
  time: Timing;
  sharpness: number;
  red: number;
}

async function timeRuns(run: () => unknown): Promise<Timing> {
  await run(); // warm-up: JIT, WASM instantiation, worker start
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1], min: times[0], max: times[times.length - 1] };
}

function savePng(rgb: Uint8Array, name: string): Promise<unknown> {
  return sharp(rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png({ compressionLevel: 3 }).toFile(new URL(name, OUT).pathname);
}

/** Side-by-side crops (original | engine | Telea) of the area around the hole, for eyes. */
async function saveComparison(side: number, images: Uint8Array[], cx: number, cy: number): Promise<void> {
  const crop = Math.min(SIZE, side + 160);
  const left = Math.max(0, Math.min(SIZE - crop, Math.round(cx - crop / 2)));
  const top = Math.max(0, Math.min(SIZE - crop, Math.round(cy - crop / 2)));
  const tiles = await Promise.all(
    images.map((rgb) => sharp(rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).extract({ left, top, width: crop, height: crop }).png().toBuffer()),
  );
  await sharp({ create: { width: crop * tiles.length, height: crop, channels: 3, background: "#000" } })
    .composite(tiles.map((input, i) => ({ input, left: i * crop, top: 0 })))
    .png()
    .toFile(new URL(`compare-${side}.png`, OUT).pathname);
}

interface PostCounts {
  /** Continued 64 rows or more into the hole, on their own columns, at most 5 rows missing. */
  straight: number;
  /** Stopped within 64 rows of the hole's edge (the fill did not continue them). */
  stopped: number;
  /** Continued, but beside their columns (over 3 % of their brown) or with more than 5 rows missing. */
  crooked: number;
}

/**
 * The posts that enter `hole` from above and end inside it (their columns within the hole's), in
 * fills with seeds 1..SEEDS: how many come out straight, stop early, or come out crooked.
 */
function countPosts(input: FillInput, hole: Uint8Array, structure: boolean): PostCounts {
  let [x0, x1, top] = [SIZE, 0, SIZE];
  for (let p = 0; p < hole.length; p++) {
    if (!hole[p]) continue;
    [x0, x1, top] = [Math.min(x0, p % SIZE), Math.max(x1, p % SIZE), Math.min(top, Math.floor(p / SIZE))];
  }
  const { lefts, width, bottom } = scenePosts(SIZE, SIZE);
  const posts = lefts.filter((left) => left - 12 >= x0 && left + width + 12 <= x1);
  const counts: PostCounts = { straight: 0, stopped: 0, crooked: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const rgb = contentAwareFill(input, { seed, structure });
    for (const left of posts) {
      const { on, off, rows, missing } = postInFill(rgb, SIZE, left, top, bottom + 40);
      if (rows < 64) counts.stopped++;
      else if (off > 0.03 * (on + off) || missing > 5) counts.crooked++;
      else counts.straight++;
    }
  }
  return counts;
}

function ms(t: number): string {
  return t >= 100 ? t.toFixed(0) : t.toFixed(1);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const scene = makeScene({ width: SIZE, height: SIZE });
  const truth = makeScene({ width: SIZE, height: SIZE, withDisc: false });
  const { cv } = await loadOpenCv();
  const pool = createEnginePool({ threads: 1 });
  const rows: Row[] = [];
  let posts: { fill: PostCounts; patchOnly: PostCounts } | undefined;

  for (const side of HOLES) {
    const mask = squareMask(SIZE, SIZE, scene.disc.cx, scene.disc.cy, side);
    const input: FillInput = { width: SIZE, height: SIZE, rgb: scene.rgb, mask };
    // Everyone fills the same pixels: the mask grown as the engine grows it (255 = fill).
    const hole = dilateMask(binarizeMask(mask), SIZE, SIZE, GROW_RADIUS).map((v) => v * 255);
    const quality = (rgb: Uint8Array) => ({ sharpness: holeSharpness(rgb, SIZE, SIZE, hole), red: redPixelCount(rgb, hole) });

    let filled: Uint8Array = new Uint8Array(0);
    const direct = await timeRuns(() => (filled = contentAwareFill(input)));
    rows.push({ hole: side, method: "contentAwareFill", time: direct, ...quality(filled) });

    const pooled = await timeRuns(() => pool.fill(input));
    rows.push({ hole: side, method: "pool.fill (1 worker, incl. transfer)", time: pooled, ...quality(await pool.fill(input)) });

    let telea: Uint8Array = new Uint8Array(0);
    const teleaTime = await timeRuns(() => (telea = teleaInpaint(cv, SIZE, SIZE, scene.rgb, hole)));
    rows.push({ hole: side, method: "OpenCV Telea r=3 (WASM)", time: teleaTime, ...quality(telea) });

    rows.push({ hole: side, method: "ideal (scene without the disc)", time: { median: NaN, min: NaN, max: NaN }, ...quality(truth.rgb) });

    if (side === 400) posts = { fill: countPosts(input, hole, true), patchOnly: countPosts(input, hole, false) };

    await Promise.all([savePng(filled, `fill-${side}.png`), savePng(telea, `telea-${side}.png`)]);
    await saveComparison(side, [scene.rgb, filled, telea], scene.disc.cx, scene.disc.cy);
  }
  await pool.close();
  await savePng(scene.rgb, "scene.png");

  const machine = `${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ${os.availableParallelism()} cores, Node ${process.version}, ${os.platform()} ${os.arch()}`;
  const table = [
    `Machine: ${machine}. ${RUNS} runs after 1 warm-up, ${new Date().toISOString().slice(0, 10)}.`,
    "",
    "| hole | method | median ms | min ms | max ms | sharpness | red px left |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...rows.map((r) =>
      Number.isNaN(r.time.median)
        ? `| ${r.hole}x${r.hole} | ${r.method} | – | – | – | ${r.sharpness.toFixed(2)} | ${r.red} |`
        : `| ${r.hole}x${r.hole} | ${r.method} | ${ms(r.time.median)} | ${ms(r.time.min)} | ${ms(r.time.max)} | ${r.sharpness.toFixed(2)} | ${r.red} |`,
    ),
    "",
    `The posts whose tops the 400 px hole hides, over ${SEEDS} fills (seeds 1-${SEEDS}), ${posts ? (posts.fill.straight + posts.fill.stopped + posts.fill.crooked) : 0} posts:`,
    "",
    "| fill | straight on their columns, 64+ rows in | stopped within 64 rows | crooked: beside their columns or rows missing |",
    "|---|---:|---:|---:|",
    ...(posts
      ? [
          `| content-aware fill | ${posts.fill.straight} | ${posts.fill.stopped} | ${posts.fill.crooked} |`,
          `| the patch fill alone (no structure pass) | ${posts.patchOnly.straight} | ${posts.patchOnly.stopped} | ${posts.patchOnly.crooked} |`,
        ]
      : []),
  ].join("\n");
  console.log(table);
  writeReadme(table);
}

/** Replaces the results section of bench/README.md, keeping the hand-written explanation. */
function writeReadme(table: string): void {
  const begin = "<!-- results:begin -->";
  const end = "<!-- results:end -->";
  let readme: string;
  try {
    readme = readFileSync(README, "utf8");
  } catch {
    readme = `# Benchmarks\n\n${begin}\n${end}\n`;
  }
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from < 0 || to < 0) readme = `${readme.trimEnd()}\n\n${begin}\n${end}\n`;
  const a = readme.indexOf(begin) + begin.length;
  const b = readme.indexOf(end);
  writeFileSync(README, `${readme.slice(0, a)}\n${table}\n${readme.slice(b)}`);
}

await main();
