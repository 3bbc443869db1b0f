// How the embedded fill's time and memory grow with the picture and with the hole: the
// synthetic scene at 512..4096 px with a square hole of the same share (1600 px at 4096), and
// 1024 px with holes from 100 to 600 px. Every measurement runs in a fresh process, so its
// peak resident memory is its own. Prints a table and writes bench/engine-scaling.md.
//
//   npm run bench:scaling        BENCH_RUNS=3 processes per case (median)

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import { contentAwareFill } from "../src/engine/index.ts";
import { makeScene, squareMask } from "../test/support/scene.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const RESULTS = new URL("./engine-scaling.md", import.meta.url).pathname;
const SHARE = 1600 / 4096;

interface Measure {
  ms: number;
  /** Resident memory just before the fill, and the process's peak (MB). */
  rssBeforeMb: number;
  peakMb: number;
}

/** In the child: after a small warm-up fill, one fill of `size` px with a `hole` px square on the scene's object; prints a Measure. */
function child(size: number, hole: number, structure: boolean): void {
  // Warm the JIT on a small fill first, as a gateway's long-lived engine threads are.
  const small = makeScene({ width: 256, height: 256 });
  contentAwareFill({ width: 256, height: 256, rgb: small.rgb, mask: squareMask(256, 256, small.disc.cx, small.disc.cy, 64) }, { seed: 1 });
  const scene = makeScene({ width: size, height: size });
  const mask = squareMask(size, size, scene.disc.cx, scene.disc.cy, hole);
  const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
  const started = performance.now();
  contentAwareFill({ width: size, height: size, rgb: scene.rgb, mask }, { seed: 1, structure });
  const ms = performance.now() - started;
  const measure: Measure = { ms, rssBeforeMb, peakMb: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(JSON.stringify(measure));
}

/** Medians over RUNS processes each of the fill with and without the structure pass, alternating. */
function measure(size: number, hole: number): { full: Measure; plain: Measure } {
  const runs = { full: [] as Measure[], plain: [] as Measure[] };
  for (let i = 0; i < RUNS; i++) {
    for (const kind of ["full", "plain"] as const) {
      const args = ["--import", "tsx", new URL(import.meta.url).pathname, "--child", String(size), String(hole), kind];
      runs[kind].push(JSON.parse(execFileSync(process.execPath, args, { encoding: "utf8" })) as Measure);
    }
  }
  const median = (list: Measure[], pick: (m: Measure) => number) => list.map(pick).sort((a, b) => a - b)[list.length >> 1];
  const summary = (list: Measure[]) => ({ ms: median(list, (m) => m.ms), rssBeforeMb: median(list, (m) => m.rssBeforeMb), peakMb: median(list, (m) => m.peakMb) });
  return { full: summary(runs.full), plain: summary(runs.plain) };
}

function main(): void {
  const cases = [
    ...[512, 1024, 2048, 4096].map((size) => ({ size, hole: Math.round(size * SHARE) })),
    ...[100, 200, 600].map((hole) => ({ size: 1024, hole })),
  ];
  const rows: string[] = [];
  for (const { size, hole } of cases) {
    const { full: m, plain } = measure(size, hole);
    const row = `| ${size}x${size} | ${hole}x${hole} | ${((hole * hole * 100) / (size * size)).toFixed(1)}% | ${m.ms.toFixed(0)} | ${plain.ms.toFixed(0)} | ${m.rssBeforeMb.toFixed(0)} | ${m.peakMb.toFixed(0)} | ${(m.peakMb - m.rssBeforeMb).toFixed(0)} | ${plain.peakMb.toFixed(0)} |`;
    console.log(row);
    rows.push(row);
  }
  const machine = `${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ${os.availableParallelism()} cores, Node ${process.version}`;
  const report = [
    "# How the fill grows with the picture and the hole",
    "",
    `Written by \`npm run bench:scaling\` (bench/engine-scaling.bench.ts) on ${machine}, ${new Date().toISOString().slice(0, 10)}.`,
    `The synthetic scene (test/support/scene.ts), a square hole on its object, one fill on 1 thread per process after a 256 px warm-up fill; median of ${RUNS} processes each, the fill with and without its structure pass (src/engine/structure.ts) alternating.`,
    "",
    "| picture | hole | hole share | fill ms | fill ms without the structure pass | RSS before MB | peak RSS MB | peak - before MB | peak RSS MB without the structure pass |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
    "RSS before: the process with the picture and mask in memory (Node, tsx, the scene). Peak: the process's maximum resident set (`process.resourceUsage().maxRSS`), which includes making the scene and the warm-up.",
    "",
  ].join("\n");
  writeFileSync(RESULTS, report);
  console.log(`wrote ${RESULTS}`);
}

if (process.argv[2] === "--child") child(Number(process.argv[3]), Number(process.argv[4]), process.argv[5] !== "plain");
else main();
