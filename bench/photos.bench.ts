// The embedded fill on real photographs (bench/photos/, licences in LICENSES.md), against
// what was really under the hole and against peers run on the same pixels: OpenCV Telea
// and, where the `gmic` command is installed, G'MIC's patch-based inpainting. Each photo
// gets a rectangle (~5% of its area) and brush strokes (~10% painted), made from a seed, so every
// run sees the same cases. Prints a table, writes bench/photos-results.md and a contact
// sheet (bench/photos-sheet.jpg: original | mask | retouch | Telea | G'MIC, around the hole).
//
//   npm run bench:photos          BENCH_RUNS=3 (timed runs per case; G'MIC runs once)
//   BENCH_QUICK=1 npm run bench:photos   retouch alone, one run, prints the summary, writes nothing
//                                        (for trying a change to the engine)
//   BENCH_SEED=2 ...                     the fill's seed (1 unless set): judge a change over several

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { contentAwareFill } from "../src/engine/index.ts";
import { GROW_RADIUS } from "../src/engine/fill.ts";
import { binarizeMask, dilateMask } from "../src/engine/mask.ts";
import { prng } from "../test/support/scene.ts";
import { loadOpenCv, teleaInpaint } from "./opencv.ts";
import { edgeContinuity, holePsnr, holeSsim, ringOf, sharpnessRatio, type Picture } from "./photo-metrics.ts";

const PHOTOS = new URL("./photos/", import.meta.url).pathname;
const RESULTS = new URL("./photos-results.md", import.meta.url).pathname;
const SHEET = new URL("./photos-sheet.jpg", import.meta.url).pathname;
const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = QUICK ? 1 : Number(process.env.BENCH_RUNS ?? 3);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const TILE = 128;

type Shape = "rect" | "strokes";
type Method = "retouch" | "telea" | "gmic";

interface Result {
  psnr: number;
  ssim: number;
  /** Gradient energy in the hole over the ring around it: the fill's, and the original's. */
  sharpness: number;
  edges: number;
  ms: number;
  rgb: Uint8Array;
}

interface Case {
  photo: string;
  shape: Shape;
  area: number;
  original: Picture;
  hole: Uint8Array;
  originalSharpness: number;
  results: Partial<Record<Method, Result>>;
}

const seedOf = (text: string) => [...text].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261);

/** A filled rectangle of about `fraction` of the picture, aspect 0.6..1.6, away from the borders. */
function rectangleMask(width: number, height: number, fraction: number, next: () => number): Uint8Array {
  const aspect = 0.6 + next();
  const w = Math.round(Math.sqrt(width * height * fraction * aspect));
  const h = Math.round((width * height * fraction) / w);
  const left = 8 + Math.floor(next() * (width - w - 16));
  const top = 8 + Math.floor(next() * (height - h - 16));
  const mask = new Uint8Array(width * height);
  for (let y = top; y < top + h; y++) mask.fill(255, y * width + left, y * width + left + w);
  return mask;
}

/** Brush strokes: a wandering brush (radius ~2.5% of the short side) until `fraction` is painted. */
function strokeMask(width: number, height: number, fraction: number, next: () => number): Uint8Array {
  const mask = new Uint8Array(width * height);
  const radius = Math.max(4, Math.round(Math.min(width, height) * 0.025));
  let painted = 0;
  const dab = (cx: number, cy: number) => {
    for (let y = Math.max(0, Math.round(cy - radius)); y <= Math.min(height - 1, Math.round(cy + radius)); y++) {
      for (let x = Math.max(0, Math.round(cx - radius)); x <= Math.min(width - 1, Math.round(cx + radius)); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 <= radius * radius && mask[y * width + x] === 0) {
          mask[y * width + x] = 255;
          painted++;
        }
      }
    }
  };
  while (painted < width * height * fraction) {
    let x = width * (0.15 + 0.7 * next());
    let y = height * (0.15 + 0.7 * next());
    let angle = next() * 2 * Math.PI;
    for (let step = 0; step < 60 && painted < width * height * fraction; step++) {
      dab(x, y);
      angle += (next() - 0.5) * 0.6;
      x = Math.min(width - radius, Math.max(radius, x + Math.cos(angle) * radius * 0.5));
      y = Math.min(height - radius, Math.max(radius, y + Math.sin(angle) * radius * 0.5));
    }
  }
  return mask;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timed(run: () => Uint8Array, runs: number): { rgb: Uint8Array; ms: number } {
  let rgb = run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    rgb = run();
    times.push(performance.now() - started);
  }
  return { rgb, ms: median(times) };
}

function hasGmic(): boolean {
  return spawnSync("gmic", ["-v", "-1", "-version"], { stdio: "ignore" }).status === 0;
}

/**
 * G'MIC's patch-based `inpaint` (patch 5, lookup 15, the parameters of its manual's example) as a
 * separate process; its time includes the process start and its PNG files.
 */
async function gmicInpaint(picture: Picture, hole: Uint8Array, dir: string): Promise<{ rgb: Uint8Array; ms: number }> {
  const [input, mask, output] = ["in.png", "mask.png", "out.png"].map((name) => join(dir, name));
  const raw = { width: picture.width, height: picture.height };
  await sharp(picture.rgb, { raw: { ...raw, channels: 3 } }).png().toFile(input);
  await sharp(hole, { raw: { ...raw, channels: 1 } }).png().toFile(mask);
  const started = performance.now();
  execFileSync("gmic", ["-v", "-1", input, mask, "inpaint[0]", "[1],5,15,0.5,1,9,0", "rm[1]", "o", output], { stdio: "ignore" });
  const ms = performance.now() - started;
  const rgb = await sharp(output).removeAlpha().raw().toBuffer();
  return { rgb: new Uint8Array(rgb), ms };
}

function score(original: Picture, hole: Uint8Array, ring: Uint8Array, rgb: Uint8Array, ms: number): Result {
  const filled = { ...original, rgb };
  return {
    psnr: holePsnr(original, filled, hole),
    ssim: holeSsim(original, filled, hole),
    sharpness: sharpnessRatio(filled, hole, ring),
    edges: edgeContinuity(original, filled, hole),
    ms,
    rgb,
  };
}

/** One row of the contact sheet: a square around the hole, from each picture, at TILE px. */
async function sheetRow(c: Case, methods: Method[]): Promise<Buffer[]> {
  const { width, height } = c.original;
  let [x0, y0, x1, y1] = [width, height, 0, 0];
  for (let i = 0; i < c.hole.length; i++) {
    if (!c.hole[i]) continue;
    const x = i % width;
    const y = (i / width) | 0;
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  const side = Math.min(width, height, Math.max(x1 - x0, y1 - y0) + 48);
  const left = Math.max(0, Math.min(width - side, Math.round((x0 + x1 - side) / 2)));
  const top = Math.max(0, Math.min(height - side, Math.round((y0 + y1 - side) / 2)));
  const overlay = new Uint8Array(c.original.rgb);
  for (let i = 0; i < c.hole.length; i++) if (c.hole[i]) overlay.set([255, 0, 255], i * 3);
  const pictures = [c.original.rgb, overlay, ...methods.map((m) => c.results[m]?.rgb ?? new Uint8Array(width * height * 3))];
  return Promise.all(
    pictures.map((rgb) =>
      sharp(rgb, { raw: { width, height, channels: 3 } }).extract({ left, top, width: side, height: side }).resize(TILE, TILE).png().toBuffer(),
    ),
  );
}

const f = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "∞");

async function main(): Promise<void> {
  const gmic = !QUICK && hasGmic();
  const methods: Method[] = QUICK ? ["retouch"] : gmic ? ["retouch", "telea", "gmic"] : ["retouch", "telea"];
  const { cv } = QUICK ? { cv: null } : await loadOpenCv();
  const scratch = mkdtempSync(join(os.tmpdir(), "retouch-photos-"));
  const cases: Case[] = [];
  try {
    for (const file of readdirSync(PHOTOS).filter((name) => name.endsWith(".jpg")).sort()) {
      const { data, info } = await sharp(join(PHOTOS, file)).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
      const original: Picture = { width: info.width, height: info.height, rgb: new Uint8Array(data) };
      for (const shape of ["rect", "strokes"] as Shape[]) {
        const next = prng(seedOf(`${file}:${shape}`));
        const painted = shape === "rect" ? rectangleMask(original.width, original.height, 0.05, next) : strokeMask(original.width, original.height, 0.1, next);
        // Everyone fills the same pixels: the mask grown as the engine grows it.
        const hole = dilateMask(binarizeMask(painted), original.width, original.height, GROW_RADIUS).map((v) => v * 255);
        const ring = ringOf(hole, original.width, original.height);
        const area = hole.reduce((sum, v) => sum + (v ? 1 : 0), 0) / hole.length;
        const c: Case = { photo: file.replace(/\.jpg$/, ""), shape, area, original, hole, originalSharpness: sharpnessRatio(original, hole, ring), results: {} };
        const input = { width: original.width, height: original.height, rgb: original.rgb, mask: painted };
        const ours = timed(() => contentAwareFill(input, { seed: SEED }), RUNS);
        c.results.retouch = score(original, hole, ring, ours.rgb, ours.ms);
        if (!QUICK) {
          const telea = timed(() => teleaInpaint(cv!, original.width, original.height, original.rgb, hole), RUNS);
          c.results.telea = score(original, hole, ring, telea.rgb, telea.ms);
        }
        if (gmic) {
          const theirs = await gmicInpaint(original, hole, scratch);
          c.results.gmic = score(original, hole, ring, theirs.rgb, theirs.ms);
        }
        cases.push(c);
        const line = methods.map((m) => `${m} ${f(c.results[m]!.psnr, 1)} dB ${f(c.results[m]!.sharpness)}× ${c.results[m]!.ms.toFixed(0)} ms`).join(" | ");
        console.log(`${c.photo.padEnd(10)} ${shape.padEnd(7)} ${(area * 100).toFixed(1)}%  original ${f(c.originalSharpness)}×  ${line}`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const names: Record<Method, string> = { retouch: "retouch", telea: "Telea", gmic: "G'MIC" };
  const perCase = [
    `| photo | mask | hole | original sharpness | ${methods.map((m) => `${names[m]}: PSNR dB / SSIM / sharpness / edges / ms`).join(" | ")} |`,
    `|---|---|---:|---:|${methods.map(() => "---:").join("|")}|`,
    ...cases.map(
      (c) =>
        `| ${c.photo} | ${c.shape} | ${(c.area * 100).toFixed(1)}% | ${f(c.originalSharpness)} | ` +
        methods.map((m) => { const r = c.results[m]!; return `${f(r.psnr, 1)} / ${f(r.ssim, 3)} / ${f(r.sharpness)} / ${f(r.edges)} / ${r.ms.toFixed(0)}`; }).join(" | ") +
        " |",
    ),
  ];
  const summary = [
    "| mask | method | PSNR dB | SSIM | sharpness relative to the original's | edge continuity | time ms |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...(["rect", "strokes"] as Shape[]).flatMap((shape) =>
      methods.map((m) => {
        const rows = cases.filter((c) => c.shape === shape);
        const med = (pick: (c: Case) => number) => median(rows.map(pick));
        return (
          `| ${shape} | ${names[m]} | ${f(med((c) => c.results[m]!.psnr), 1)} | ${f(med((c) => c.results[m]!.ssim), 3)} | ` +
          `${f(med((c) => c.results[m]!.sharpness / c.originalSharpness))} | ${f(med((c) => c.results[m]!.edges))} | ${med((c) => c.results[m]!.ms).toFixed(0)} |`
        );
      }),
    ),
  ];
  if (QUICK) {
    console.log(`\n${summary.join("\n")}`);
    return;
  }
  const machine = `${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}`;
  const report = [
    "# The embedded fill on real photographs",
    "",
    `Written by \`npm run bench:photos\` (bench/photos.bench.ts) on ${machine}; ${RUNS} timed runs per case (median), G'MIC once.`,
    ...(gmic ? [] : ["", "G'MIC is not installed here (`apt-get install gmic`), so it is not compared."]),
    "",
    "Medians over the photographs (bench/photos/, licences in LICENSES.md):",
    "",
    ...summary,
    "",
    "Every case:",
    "",
    ...perCase,
    "",
    "- **hole**: the painted mask grown by the engine's 3 px, as a share of the picture; every method fills exactly these pixels.",
    "- **PSNR, SSIM**: the fill against what was really there, over the hole only (SSIM on luma, 7x7 windows centred in the hole).",
    "- **sharpness**: mean squared luma gradient in the hole over the same in a 12 px ring around it. The original's own ratio is the target; the summary divides by it (1.0 = as sharp as the real content).",
    "- **edge continuity**: of the original's strong edges (Sobel magnitude in its top 15% around the hole) in the band 8 px inside the hole's border, where edges enter, the share the fill also has a strong edge within 2 px of.",
    "- **time**: the fill alone on 1 thread, decoded pixels in and out (G'MIC's includes starting its process and its PNG files).",
    "",
    "![contact sheet](photos-sheet.jpg)",
    "",
  ].join("\n");
  writeFileSync(RESULTS, report);

  const rows = await Promise.all(cases.map((c) => sheetRow(c, methods)));
  const columns = 2 + methods.length;
  await sharp({ create: { width: TILE * columns, height: TILE * rows.length, channels: 3, background: "#000" } })
    .composite(rows.flatMap((tiles, r) => tiles.map((input, i) => ({ input, left: i * TILE, top: r * TILE }))))
    .jpeg({ quality: 80, mozjpeg: true })
    .toFile(SHEET);
  console.log(`\n${summary.join("\n")}\n\nwrote ${RESULTS} and ${SHEET} (columns: original | mask | ${methods.map((m) => names[m]).join(" | ")})`);
}

await main();
