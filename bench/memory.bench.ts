// How much memory a gateway holds under big uploads, and whether it gives it
// back: 16 edits of local/content-aware-fill at once, each a ~22 MB PNG
// (noise, so it does not compress) with a small hole, sent as multipart to
// `retouch serve` (payments off, its own process). The gateway's resident set
// (VmRSS, engine threads included) is sampled every 20 ms: idle after start,
// the peak under load, and one minute after the last answer. Also the idle
// figure of the default devchain gateway (payments on, local chains in-process).
// Each run measures glibc's allocator as it starts and with MALLOC_MMAP_THRESHOLD_
// fixed (docs/deploy.md), alternating, on fresh processes.
// Run: node --import tsx bench/memory.bench.ts   (BENCH_RUNS=3, BENCH_SETTLE_MS=60000)
// BENCH_GATEWAY=/path/to/another/checkout measures that checkout's gateway instead.

import { randomFillSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import sharp from "sharp";
import { startBenchGateway } from "./gateway-process.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 60_000);
const CONCURRENT = 16;
/** 2720 x 2720 RGB noise: 22.2 MB of pixels, and about as many bytes of PNG. */
const SIDE = 2720;
const HOLE = 240;
const MiB = 1024 * 1024;

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** The highest RSS seen while `work` runs, sampled every 20 ms. */
async function peakWhile(pid: number, work: Promise<unknown>): Promise<number> {
  let peak = await rssOf(pid);
  let done = false;
  void work.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    peak = Math.max(peak, await rssOf(pid));
    await new Promise((wake) => setTimeout(wake, 20));
  }
  return Math.max(peak, await rssOf(pid));
}

async function inputs(): Promise<{ image: Buffer; mask: Buffer }> {
  const noise = randomFillSync(Buffer.alloc(SIDE * SIDE * 3));
  const image = await sharp(noise, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
  const hole = Buffer.alloc(SIDE * SIDE);
  const from = (SIDE - HOLE) / 2;
  for (let y = from; y < from + HOLE; y++) hole.fill(255, y * SIDE + from, y * SIDE + from + HOLE);
  const mask = await sharp(hole, { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toBuffer();
  return { image, mask };
}

async function edit(url: string, image: Buffer, mask: Buffer, n: number): Promise<void> {
  const form = new FormData();
  form.set("model", "local/content-aware-fill");
  form.set("prompt", `memory bench #${n}`);
  form.set("image", new Blob([image], { type: "image/png" }), "photo.png");
  form.set("mask", new Blob([mask], { type: "image/png" }), "mask.png");
  const response = await fetch(`${url}/api/v1/images/image2image`, { method: "POST", body: form });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`edit #${n}: ${response.status} ${body.slice(0, 300)}`);
}

interface Run {
  idle: number;
  peak: number;
  settled: number;
  seconds: number;
}

/** glibc's allocator as started (its mmap threshold rises after big frees), and with the threshold fixed as docs/deploy.md sets it. */
const ALLOCATORS: { name: string; env: Record<string, string> }[] = [
  { name: "glibc defaults", env: {} },
  { name: "MALLOC_MMAP_THRESHOLD_=65536", env: { MALLOC_MMAP_THRESHOLD_: "65536" } },
];

async function measure(image: Buffer, mask: Buffer, run: number, allocator: Record<string, string>): Promise<Run> {
  const gateway = await startBenchGateway({ RETOUCH_PAYMENTS: "off", ...allocator });
  try {
    const pid = gateway.child.pid!;
    await new Promise((wake) => setTimeout(wake, 3000)); // start-up work (JIT, lazy imports) done
    const idle = await rssOf(pid);
    const started = performance.now();
    const load = Promise.all(Array.from({ length: CONCURRENT }, (_, i) => edit(gateway.url, image, mask, run * 100 + i)));
    const peak = await peakWhile(pid, load);
    await load;
    const seconds = (performance.now() - started) / 1000;
    await new Promise((wake) => setTimeout(wake, SETTLE_MS));
    return { idle, peak, settled: await rssOf(pid), seconds };
  } finally {
    await gateway.close();
  }
}

async function devchainIdle(): Promise<number> {
  const gateway = await startBenchGateway({ RETOUCH_PAYMENTS: "devchain" });
  try {
    // The chains go on setting up for a few seconds after the gateway listens.
    await new Promise((wake) => setTimeout(wake, 10_000));
    return await rssOf(gateway.child.pid!);
  } finally {
    await gateway.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mib = (bytes: number) => `${Math.round(bytes / MiB)} MiB`;

const { image, mask } = await inputs();
console.log(`machine: ${cpus()[0].model}, ${cpus().length} cores, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}, ${new Date().toISOString().slice(0, 10)}`);
console.log(`input: ${SIDE}x${SIDE} PNG of ${(image.length / 1e6).toFixed(1)} MB, a ${HOLE}x${HOLE} hole; ${CONCURRENT} at once; ${RUNS} runs; settled = ${SETTLE_MS / 1000} s after the last answer`);
const results = new Map<string, Run[]>();
for (let run = 1; run <= RUNS; run++) {
  // Alternating, so that a change in the machine's load touches both alike.
  for (const allocator of ALLOCATORS) {
    const result = await measure(image, mask, run, allocator.env);
    results.set(allocator.name, [...(results.get(allocator.name) ?? []), result]);
    const over = ((result.settled / result.idle - 1) * 100).toFixed(0);
    console.log(`run ${run}, ${allocator.name}: idle ${mib(result.idle)}, peak ${mib(result.peak)}, settled ${mib(result.settled)} (${over}% over idle), ${result.seconds.toFixed(1)} s for the ${CONCURRENT} edits`);
  }
}
const devchain: number[] = [];
for (let run = 1; run <= RUNS; run++) devchain.push(await devchainIdle());

console.log(`\n| allocator | idle | peak, ${CONCURRENT} edits of ${(image.length / 1e6).toFixed(0)} MB at once | ${SETTLE_MS / 1000} s after the last answer | over idle | wall time |`);
console.log("|---|---:|---:|---:|---:|---:|");
for (const [name, runs] of results) {
  const pick = (key: keyof Run) => median(runs.map((r) => r[key]));
  const over = (median(runs.map((r) => r.settled / r.idle)) - 1) * 100;
  console.log(`| ${name} | ${mib(pick("idle"))} | ${mib(pick("peak"))} | ${mib(pick("settled"))} | ${over.toFixed(0)}% | ${pick("seconds").toFixed(1)} s |`);
}
console.log(`\nidle, devchain gateway (payments on, local chains in-process), glibc defaults: ${mib(median(devchain))}`);
