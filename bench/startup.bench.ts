// How long `retouch` takes to start: a short command (--version, edit --help) to its end, and
// `retouch serve` until it logs "listening" (payments off, and on a devchain), each a new
// process as a user or a test starts it. The bundle in dist/ (`npm run build`) against the
// TypeScript sources through tsx (RETOUCH_FROM_SOURCE=1), and with BENCH_BEFORE=/path/to/checkout
// that checkout's bundle too, in alternating runs; the table shows medians.
// Run: npm run build && npm run bench:startup   (BENCH_RUNS=5)

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ROOT = join(import.meta.dirname, "..");

interface Variant {
  name: string;
  root: string;
  env: Record<string, string>;
}

const variants: Variant[] = [
  { name: "bundle", root: ROOT, env: {} },
  { name: "sources (tsx)", root: ROOT, env: { RETOUCH_FROM_SOURCE: "1" } },
];
if (process.env.BENCH_BEFORE) variants.push({ name: `bundle of ${process.env.BENCH_BEFORE}`, root: process.env.BENCH_BEFORE, env: {} });

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** Ends the measure at this line of stdout (the process is then stopped), else at its exit. */
  until?: string;
}

/** Milliseconds from spawn to the end the case names. */
async function once(variant: Variant, test: Case, dataDir: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(variant.root, "bin/retouch.js"), ...test.args], {
    cwd: variant.root,
    env: { ...process.env, ...variant.env, RETOUCH_DATA_DIR: dataDir, PORT: "0", ...test.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const done = new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (test.until && output.includes(test.until)) resolve(performance.now() - started);
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => {
      if (!test.until && code === 0) resolve(performance.now() - started);
      else reject(new Error(`${test.name} (${variant.name}) ended with ${code}:\n${output}`));
    });
  });
  const elapsed = await done;
  if (test.until) {
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  return elapsed;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const cases: Case[] = [
  { name: "retouch --version", args: ["--version"] },
  { name: "retouch edit --help", args: ["edit", "--help"] },
  { name: "retouch serve, payments off", args: ["serve"], env: { RETOUCH_PAYMENTS: "off" }, until: "retouch listening" },
  {
    name: "retouch serve, devchain",
    args: ["serve"],
    env: { RETOUCH_PAYMENTS: "devchain", RETOUCH_DEVCHAIN_EVM_PORT: "0", RETOUCH_DEVCHAIN_SOLANA_PORT: "0" },
    until: "retouch listening",
  },
];

console.log(`${cpus().length} x ${cpus()[0].model}, node ${process.version}; ${RUNS} runs each, alternating\n`);
const rows: string[] = [];
for (const test of cases) {
  const times = new Map(variants.map((variant) => [variant.name, [] as number[]]));
  // One data folder per variant, started once before the runs: every measured `serve` is a
  // restart (the database exists), as on a server.
  const dirs = await Promise.all(variants.map(() => mkdtemp(join(tmpdir(), "retouch-startup-"))));
  try {
    for (const [index, variant] of variants.entries()) await once(variant, test, dirs[index]);
    for (let run = 0; run < RUNS; run++) {
      for (const [index, variant] of variants.entries()) times.get(variant.name)!.push(await once(variant, test, dirs[index]));
    }
  } finally {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
  const cells = variants.map((variant) => `${(median(times.get(variant.name)!) / 1000).toFixed(2)} s`);
  rows.push(`| ${test.name} | ${cells.join(" | ")} |`);
  console.log(rows.at(-1));
}
console.log(`\n| command | ${variants.map((variant) => variant.name).join(" | ")} |\n|---|${variants.map(() => "---:").join("|")}|\n${rows.join("\n")}`);
