// What it costs to prove an input image decodes to its end before a quote, and
// which damage each candidate check catches. Prints two markdown tables.
// Run: node --import tsx bench/input-check.bench.ts   (BENCH_RUNS=7 by default)

import { cpus } from "node:os";
import { createInflate } from "node:zlib";
import sharp from "sharp";
import { decodeFailure, findDamage, sniffImageFormat, type ImageFormat } from "../src/edits/index.ts";
import {
  corruptIdatKeepingCrc,
  cutJpegWithEoi,
  cutPngReframed,
  cutWebpResized,
  dropLast,
  flipPngCrc,
  overwriteMiddle,
  pngChunks,
  stripJpegEoi,
  truncateAt,
  withUnknownAdobeTransform,
} from "../test/support/damage.ts";
import { makeScene } from "../test/support/scene.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);

/** A check answers true when it refuses the file. */
type Check = (bytes: Buffer, format: ImageFormat) => Promise<boolean>;

const refuses = (work: Promise<unknown>) => work.then(() => false, () => true);

async function pixels(bytes: Buffer): Promise<number> {
  const { width = 0, height = 0 } = await sharp(bytes).metadata();
  return width * height;
}

const CHECKS: Record<string, Check> = {
  "header only: sharp metadata() (before)": (bytes) => refuses(sharp(bytes).metadata()),
  "sharp decode, failOn truncated, sequential, stats()": (bytes) =>
    refuses(sharp(bytes, { failOn: "truncated", sequentialRead: true }).stats()),
  "sharp decode, failOn error, sequential, stats()": (bytes) =>
    refuses(sharp(bytes, { failOn: "error", sequentialRead: true }).stats()),
  "sharp decode, failOn error, sequential, raw toBuffer()": (bytes) =>
    refuses(sharp(bytes, { failOn: "error", sequentialRead: true }).raw().toBuffer()),
  "sharp decode, failOn warning, sequential, band 0 raw": (bytes) =>
    refuses(sharp(bytes, { failOn: "warning", sequentialRead: true }).extractChannel(0).raw().toBuffer()),
  "libvips band 0 raw, failOn error: decodeFailure() for PNG until 2026-12-06": (bytes) =>
    refuses(sharp(bytes, { failOn: "error", sequentialRead: true }).extractChannel(0).raw().toBuffer()),
  "decodeFailure() (PNG: png-pixels.ts; JPEG: scan warnings too)": async (bytes, format) =>
    (await decodeFailure(bytes, format, await pixels(bytes))) !== undefined,
  "structure walk (PNG CRCs, JPEG markers, WebP RIFF)": async (bytes, format) => findDamage(bytes, format) !== undefined,
  "structure walk + PNG inflate to end": async (bytes, format) =>
    findDamage(bytes, format) !== undefined || (format === "png" && !(await inflatesToEnd(bytes))),
  "structure walk + decodeFailure() (chosen)": async (bytes, format) =>
    findDamage(bytes, format) !== undefined || (await decodeFailure(bytes, format, await pixels(bytes))) !== undefined,
};

/** Inflates the IDAT stream without keeping it; true when it ends exactly where IHDR says it should. */
async function inflatesToEnd(png: Buffer): Promise<boolean> {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const [depth, colour, , , interlace] = png.subarray(24, 29);
  const samples = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colour as 0 | 2 | 3 | 4 | 6] ?? 0;
  const rowBytes = (w: number) => (w === 0 ? 0 : 1 + Math.ceil((w * samples * depth) / 8));
  let expected = height * rowBytes(width);
  if (interlace === 1) {
    const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
    expected = passes.reduce((sum, [x0, y0, dx, dy]) => {
      const w = Math.ceil((width - x0) / dx);
      const h = Math.ceil((height - y0) / dy);
      return sum + (w > 0 && h > 0 ? h * rowBytes(w) : 0);
    }, 0);
  }
  const inflate = createInflate({ chunkSize: 256 * 1024 });
  let produced = 0;
  inflate.on("data", (chunk: Buffer) => (produced += chunk.length));
  const done = new Promise<boolean>((resolve) => {
    inflate.on("end", () => resolve(produced === expected));
    inflate.on("error", () => resolve(false));
  });
  for (const chunk of pngChunks(png)) {
    if (chunk.type === "IDAT") inflate.write(png.subarray(chunk.offset + 8, chunk.offset + 8 + chunk.length));
  }
  inflate.end();
  return done;
}

// ---- inputs -------------------------------------------------------------------

function noise(seed: number): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
}

/** 4096x4096 gradients plus per-pixel noise: compresses about as badly as a large photo. */
function noisyRgb(amplitude: number, perChannel: boolean): Uint8Array {
  const side = 4096;
  const random = noise(1);
  const rgb = new Uint8Array(side * side * 3);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  const jitter = () => (random() % amplitude) - (amplitude >> 1);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 3;
      const n = jitter();
      rgb[i] = clamp((x >> 4) + n);
      rgb[i + 1] = clamp((y >> 4) + (perChannel ? jitter() : n));
      rgb[i + 2] = clamp(128 + (((x + y) >> 6) % 64) + (perChannel ? jitter() : n));
    }
  }
  return rgb;
}

const scene = makeScene();
const sceneRaw = { raw: { width: 1024, height: 1024, channels: 3 as const } };
const big = { raw: { width: 4096, height: 4096, channels: 3 as const } };
const inputs: Record<string, Buffer> = {
  "1024x1024 photo-like PNG": await sharp(scene.rgb, sceneRaw).png().toBuffer(),
  "1024x1024 photo-like JPEG q90": await sharp(scene.rgb, sceneRaw).jpeg({ quality: 90 }).toBuffer(),
  "1024x1024 photo-like WebP q80": await sharp(scene.rgb, sceneRaw).webp({ quality: 80 }).toBuffer(),
  "4096x4096 noisy PNG": await sharp(noisyRgb(6, false), big).png().toBuffer(),
  "4096x4096 noisy JPEG q100 4:4:4": await sharp(noisyRgb(12, true), big).jpeg({ quality: 100, chromaSubsampling: "4:4:4" }).toBuffer(),
};

// ---- cost ---------------------------------------------------------------------

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

/** CPU time of all threads (libvips and libuv's pool included) and wall time, in ms. */
async function measure(run: () => Promise<unknown>): Promise<{ cpu: number; wall: number }> {
  await run(); // warm-up
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const startedCpu = process.cpuUsage();
    const started = performance.now();
    await run();
    wall.push(performance.now() - started);
    const used = process.cpuUsage(startedCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  return { cpu: median(cpu), wall: median(wall) };
}

sharp.cache(false); // every run decodes from scratch
const names = Object.keys(inputs);
console.log(`Machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}).`);
console.log(`Median of ${RUNS} runs after a warm-up; CPU = user + system time of all threads.\n`);
console.log(`| check | ${names.map((name) => `${name} (${(inputs[name].length / 1e6).toFixed(1)} MB)`).join(" | ")} |`);
console.log(`|---|${names.map(() => "---:").join("|")}|`);
for (const [check, run] of Object.entries(CHECKS)) {
  const cells: string[] = [];
  for (const name of names) {
    const bytes = inputs[name];
    const format = sniffImageFormat(bytes)!;
    if (await run(bytes, format)) throw new Error(`${check} refuses the good ${name}`);
    const { cpu, wall } = await measure(() => run(bytes, format));
    cells.push(`${cpu.toFixed(1)} cpu / ${wall.toFixed(1)} wall`);
  }
  console.log(`| ${check} | ${cells.join(" | ")} |`);
}

// ---- what each check catches --------------------------------------------------

const png = inputs["1024x1024 photo-like PNG"];
const jpeg = inputs["1024x1024 photo-like JPEG q90"];
const webp = inputs["1024x1024 photo-like WebP q80"];
const webpLossless = await sharp(scene.rgb, sceneRaw).webp({ lossless: true }).toBuffer();
const good: Record<string, Buffer> = {
  "good: interlaced PNG with alpha": await sharp(scene.rgb, sceneRaw).ensureAlpha().png({ progressive: true }).toBuffer(),
  "good: progressive JPEG": await sharp(scene.rgb, sceneRaw).jpeg({ progressive: true }).toBuffer(),
  "good: JPEG with an unknown Adobe transform code (libjpeg warns)": withUnknownAdobeTransform(jpeg),
  "good: lossless WebP": webpLossless,
};
const damaged: Record<string, Buffer> = {};
for (const [label, bytes] of [["PNG", png], ["JPEG", jpeg], ["WebP", webp]] as const) {
  for (const fraction of [0.1, 0.5, 0.95]) damaged[`${label} cut at ${fraction * 100}%`] = truncateAt(bytes, fraction);
  damaged[`${label} minus its last byte`] = dropLast(bytes, 1);
  damaged[`${label} with 64 bytes overwritten in the middle`] = overwriteMiddle(bytes);
}
damaged["PNG without IEND"] = dropLast(png, 12);
damaged["PNG with a bad IDAT CRC"] = flipPngCrc(png);
damaged["PNG with IDAT data overwritten, CRC recomputed"] = corruptIdatKeepingCrc(png);
damaged["JPEG without EOI"] = stripJpegEoi(jpeg);
damaged["PNG cut at 95%, IDAT length and CRC fixed, IEND appended"] = cutPngReframed(png, 0.95);
damaged["JPEG cut at 50%, EOI appended"] = cutJpegWithEoi(jpeg, 0.5);
damaged["JPEG cut at 95%, EOI appended"] = cutJpegWithEoi(jpeg, 0.95);
damaged["WebP cut at 95%, RIFF and VP8 sizes rewritten"] = cutWebpResized(webp, 0.95);
damaged["lossless WebP cut at 95%"] = truncateAt(webpLossless, 0.95);
damaged["lossless WebP cut at 95%, RIFF and VP8L sizes rewritten"] = cutWebpResized(webpLossless, 0.95);
damaged["lossless WebP with 64 bytes overwritten in the middle"] = overwriteMiddle(webpLossless);

const shortNames = Object.keys(CHECKS).map((_, i) => `(${i + 1})`);
console.log(`\nWhat each check refuses (1024x1024 inputs; ✔ = refused, · = passed as good; good files must pass):\n`);
console.log(Object.keys(CHECKS).map((check, i) => `${shortNames[i]} ${check}`).join("  \n"));
console.log(`\n| damage | ${shortNames.join(" | ")} |`);
console.log(`|---|${shortNames.map(() => ":-:").join("|")}|`);
for (const [label, bytes] of Object.entries({ ...good, ...damaged })) {
  const format = sniffImageFormat(bytes)!;
  const cells: string[] = [];
  for (const check of Object.values(CHECKS)) cells.push((await check(bytes, format).catch(() => true)) ? "✔" : "·");
  console.log(`| ${label} | ${cells.join(" | ")} |`);
}
