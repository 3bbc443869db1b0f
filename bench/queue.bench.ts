// What the edit queue (REDIS_URL) costs local edits: edits per second in-process and with one and two
// `retouch worker`s, the gateway's CPU per edit on each path, and the latency the queue adds.
// Run: node --import tsx bench/queue.bench.ts [--runs 3] [--edits 80]   (Redis at 127.0.0.1:6379)
// --edits is the throughput phase (4 in flight); the latency phase sends half as many, one at a time.

import { execSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { sceneEdit } from "../test/support/edit-input.ts";
import { freePort, startRetouch, type RetouchProcess } from "../test/support/processes.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const EDIT_PATH = "/api/v1/images/image2image";
const SIZE = 256;
const WARM_UP_EDITS = 5;
const IN_FLIGHT = 4;
const READY_TIMEOUT_MS = 60_000;

const { values: flags } = parseArgs({ options: { runs: { type: "string", default: "3" }, edits: { type: "string", default: "80" } } });
const RUNS = positiveInteger("--runs", flags.runs);
const THROUGHPUT_EDITS = positiveInteger("--edits", flags.edits);
const LATENCY_EDITS = Math.max(1, Math.floor(THROUGHPUT_EDITS / 2));

interface Topology {
  label: string;
  /** `retouch worker` processes; 0 = no REDIS_URL, the gateway runs its edits itself. */
  workers: number;
}

const TOPOLOGIES: Topology[] = [
  { label: "in-process", workers: 0 },
  { label: "queue, 1 worker", workers: 1 },
  { label: "queue, 2 workers", workers: 2 },
];

/** One topology's figures in one run. */
interface Figures {
  p50Ms: number;
  p99Ms: number;
  editsPerSecond: number;
  gatewayCpuMsPerEdit: number;
  /** All worker processes together; 0 in-process. */
  workerCpuMsPerEdit: number;
  /** Each worker's part of the workers' CPU during the throughput phase. */
  workerCpuShares: number[];
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} takes a whole number of at least 1, got "${text}"`);
  return value;
}

// ---- the processes -----------------------------------------------------------------

interface Deployment {
  url: string;
  gateway: RetouchProcess;
  workers: RetouchProcess[];
  close(): Promise<void>;
}

/** Everything that would change the topology is set here, whatever this shell exports. */
function baseEnv(dataDir: string): Record<string, string> {
  return {
    HOST: "127.0.0.1",
    RETOUCH_DATA_DIR: dataDir,
    RETOUCH_PAYMENTS: "off",
    RETOUCH_LIMIT_QUOTES_PER_MIN: "0",
    RETOUCH_LIMIT_PAYER_CONCURRENCY: "0",
    RETOUCH_ENGINE_THREADS: "1",
    LOG_LEVEL: "warn",
    REDIS_URL: "",
    RETOUCH_WORKERS: "",
    S3_BUCKET: "",
    DATABASE_URL: "",
  };
}

/** Fresh processes on a fresh data folder (shared by the gateway and its workers: without S3_BUCKET the queue is per folder). */
async function deploy(topology: Topology): Promise<Deployment> {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-queue-bench-"));
  const prefix = `retouch-bench-${randomBytes(4).toString("hex")}:`;
  const queued = topology.workers > 0;
  const env = { ...baseEnv(dataDir), ...(queued ? { REDIS_URL, RETOUCH_REDIS_PREFIX: prefix, RETOUCH_WORKERS: "0" } : {}) };
  const port = await freePort();
  const started: RetouchProcess[] = [];
  const close = async () => {
    await Promise.all(started.map((child) => child.stop()));
    if (queued) await deleteRedisKeys(prefix);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const gateway = startRetouch(["serve"], { ...env, PORT: String(port) });
    started.push(gateway);
    const workers = Array.from({ length: topology.workers }, () => startRetouch(["worker"], env));
    started.push(...workers);
    const url = `http://127.0.0.1:${port}`;
    await Promise.all([untilReady(url, gateway), ...workers.map(untilWorkerReady)]);
    return { url, gateway, workers, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** LOG_LEVEL=warn hides the "listening" line, so the gateway is ready when /readyz (Redis included) says so. */
async function untilReady(url: string, gateway: RetouchProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gateway.child.exitCode !== null) throw new Error(`retouch serve exited (${gateway.child.exitCode}):\n${gateway.lines.join("\n")}`);
    const ready = await fetch(`${url}/readyz`).then((response) => response.ok, () => false);
    if (ready) return;
    await new Promise((wait) => setTimeout(wait, 100));
  }
  throw new Error(`retouch serve was not ready within ${READY_TIMEOUT_MS} ms:\n${gateway.lines.join("\n")}`);
}

/**
 * At LOG_LEVEL=warn the info-level "retouch worker ready" line is not printed; the no-S3_BUCKET
 * warning is, right after the worker has started taking jobs. Either one will do.
 */
async function untilWorkerReady(worker: RetouchProcess): Promise<void> {
  await worker.waitFor((line) => line.includes("retouch worker ready") || line.includes("no S3_BUCKET"));
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    // SCAN rather than KEYS: the Redis may be shared with other engineers' fleets and tests.
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

const TICKS_PER_SECOND = Number(execSync("getconf CLK_TCK").toString().trim()) || 100;

/** User + system CPU time of a process and all its threads so far, in ms (10 ms steps on most Linux). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // After the command name in parentheses: field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

// ---- the edits -----------------------------------------------------------------------

let editsMade = 0;

/** Request bodies, each with a prompt never sent before so that nothing can be answered from a cache. */
async function editBodies(count: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < count; i++) bodies.push(JSON.stringify(await sceneEdit(SIZE, `bench #${++editsMade}`)));
  return bodies;
}

/** One edit, read to its last byte; its wall time in ms. Anything but 200 ends the bench. */
async function sendEdit(url: string, body: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}${EDIT_PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const answer = await response.text();
  if (response.status !== 200) throw new Error(`an edit answered ${response.status}, not 200: ${answer.slice(0, 500)}`);
  return performance.now() - started;
}

/** Sends every body, `inFlight` at a time; resolves with each edit's wall time in ms. */
async function sendEdits(url: string, bodies: string[], inFlight: number): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  const lane = async () => {
    while (next < bodies.length) times.push(await sendEdit(url, bodies[next++]));
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return times;
}

async function measure(topology: Topology): Promise<Figures> {
  const deployment = await deploy(topology);
  try {
    const { url, gateway, workers } = deployment;
    // Sent IN_FLIGHT at a time so that each worker runs a first edit (and starts its engine thread) before timing.
    await sendEdits(url, await editBodies(WARM_UP_EDITS), IN_FLIGHT);

    const latencies = await sendEdits(url, await editBodies(LATENCY_EDITS), 1);

    const bodies = await editBodies(THROUGHPUT_EDITS);
    const pids = [gateway.child.pid!, ...workers.map((worker) => worker.child.pid!)];
    const cpuBefore = await Promise.all(pids.map(cpuMs));
    const started = performance.now();
    await sendEdits(url, bodies, IN_FLIGHT);
    const seconds = (performance.now() - started) / 1000;
    const cpuUsed = (await Promise.all(pids.map(cpuMs))).map((after, i) => after - cpuBefore[i]);

    const [gatewayCpu, ...workerCpu] = cpuUsed;
    const workersTotal = workerCpu.reduce((sum, ms) => sum + ms, 0);
    return {
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      editsPerSecond: THROUGHPUT_EDITS / seconds,
      gatewayCpuMsPerEdit: gatewayCpu / THROUGHPUT_EDITS,
      workerCpuMsPerEdit: workersTotal / THROUGHPUT_EDITS,
      workerCpuShares: workerCpu.map((ms) => ms / (workersTotal || 1)),
    };
  } finally {
    await deployment.close();
  }
}

// ---- figures -------------------------------------------------------------------------

/** Nearest rank: with 40 samples, p99 is the slowest edit. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

type Figure = Exclude<keyof Figures, "workerCpuShares">;

function medianOf(runs: Figures[], figure: Figure): number {
  return median(runs.map((run) => run[figure]));
}

async function cpuModel(): Promise<string> {
  const cpuinfo = await readFile("/proc/cpuinfo", "utf8");
  return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim() ?? "unknown CPU";
}

const loadText = () =>
  loadavg()
    .map((load) => load.toFixed(2))
    .join(" ");

function printTables(byTopology: Map<Topology, Figures[]>): void {
  const [inProcess, oneWorker, twoWorkers] = TOPOLOGIES.map((topology) => byTopology.get(topology)!);
  const ms = (value: number) => value.toFixed(value < 10 ? 1 : 0);
  const ratio = (value: number) => `${value.toFixed(2)}x`;
  const added = (value: number) => `${value >= 0 ? "+" : "−"}${ms(Math.abs(value))} ms`;

  console.log("| topology | edits/s (4 in flight) | p50 ms (1 at a time) | p99 ms | gateway CPU ms/edit | workers' CPU ms/edit | total CPU ms/edit |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const topology of TOPOLOGIES) {
    const runs = byTopology.get(topology)!;
    const gateway = medianOf(runs, "gatewayCpuMsPerEdit");
    const workers = medianOf(runs, "workerCpuMsPerEdit");
    const total = median(runs.map((run) => run.gatewayCpuMsPerEdit + run.workerCpuMsPerEdit));
    console.log(
      `| ${topology.label} | ${medianOf(runs, "editsPerSecond").toFixed(2)} | ${ms(medianOf(runs, "p50Ms"))} | ${ms(medianOf(runs, "p99Ms"))} | ` +
        `${ms(gateway)} | ${topology.workers ? ms(workers) : "–"} | ${ms(total)} |`,
    );
  }

  const eps = (runs: Figures[]) => medianOf(runs, "editsPerSecond");
  const gatewayCpu = (runs: Figures[]) => medianOf(runs, "gatewayCpuMsPerEdit");
  console.log("\n| comparison (of the medians) | value |");
  console.log("|---|---:|");
  console.log(`| edits/s, queue with 1 worker / in-process | ${ratio(eps(oneWorker) / eps(inProcess))} |`);
  console.log(`| edits/s, queue with 2 workers / in-process | ${ratio(eps(twoWorkers) / eps(inProcess))} |`);
  console.log(`| edits/s, 2 workers / 1 worker | ${ratio(eps(twoWorkers) / eps(oneWorker))} |`);
  console.log(`| gateway CPU per edit, queue (1 worker) / in-process | ${ratio(gatewayCpu(oneWorker) / gatewayCpu(inProcess))} |`);
  console.log(`| gateway CPU per edit, queue (2 workers) / in-process | ${ratio(gatewayCpu(twoWorkers) / gatewayCpu(inProcess))} |`);
  console.log(`| latency added by the queue, p50 (1 worker − in-process) | ${added(medianOf(oneWorker, "p50Ms") - medianOf(inProcess, "p50Ms"))} |`);
  console.log(`| latency added by the queue, p99 (1 worker − in-process) | ${added(medianOf(oneWorker, "p99Ms") - medianOf(inProcess, "p99Ms"))} |`);
}

/** Every run's figures, to see the spread behind the medians (not for the README). */
function printRuns(byTopology: Map<Topology, Figures[]>): void {
  console.log("\nPer run: edits/s, p50/p99 ms, gateway/workers CPU ms per edit (workers' CPU split):");
  for (const [topology, runs] of byTopology) {
    const rows = runs.map(
      (run) =>
        `${run.editsPerSecond.toFixed(2)} e/s, ${run.p50Ms.toFixed(0)}/${run.p99Ms.toFixed(0)} ms, ${run.gatewayCpuMsPerEdit.toFixed(1)}/${run.workerCpuMsPerEdit.toFixed(1)} ms` +
        (run.workerCpuShares.length > 1 ? ` (${run.workerCpuShares.map((share) => `${Math.round(share * 100)}%`).join("/")})` : ""),
    );
    console.log(`  ${topology.label}: ${rows.join("; ")}`);
  }
}

// ---- main ----------------------------------------------------------------------------

const loadAtStart = loadText();
const byTopology = new Map<Topology, Figures[]>(TOPOLOGIES.map((topology) => [topology, []]));
for (let run = 0; run < RUNS; run++) {
  // Each run starts with another topology, so that a neighbour's load drifting over the bench does not favour one.
  const order = TOPOLOGIES.map((_, i) => TOPOLOGIES[(i + run) % TOPOLOGIES.length]);
  for (const topology of order) {
    const figures = await measure(topology);
    byTopology.get(topology)!.push(figures);
    console.error(`run ${run + 1}/${RUNS}, ${topology.label}: ${figures.editsPerSecond.toFixed(2)} edits/s, p50 ${figures.p50Ms.toFixed(0)} ms`);
  }
}

console.log(
  `\nMachine: ${await cpuModel()}, ${availableParallelism()} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ` +
    `load average ${loadAtStart} at the start, ${loadText()} at the end.`,
);
console.log(
  `Median of ${RUNS} run${RUNS === 1 ? "" : "s"}; each run starts every topology afresh (RETOUCH_ENGINE_THREADS=1, payments and limits off), ` +
    `warms it up with ${WARM_UP_EDITS} edits, sends ${LATENCY_EDITS} ${SIZE}x${SIZE} content-aware fills one at a time (latency) ` +
    `and ${THROUGHPUT_EDITS} with ${IN_FLIGHT} in flight (edits/s, CPU from /proc over that phase).\n`,
);
printTables(byTopology);
printRuns(byTopology);
