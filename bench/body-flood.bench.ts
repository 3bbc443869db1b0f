// How a gateway copes with bodies built to stall it: 600,000 tiny multipart
// parts (46 MB, with and without Content-Length) and a JSON array of 1.2
// million items. The gateway runs as its own process (`retouch serve`, payments
// off); this process sends each flood while a worker thread polls /healthz
// every 10 ms (for 1 s at least), and prints /healthz latency under flood
// against a baseline without one, the server's own time to refuse (its request
// log) and the CPU time the server process used meanwhile.
// Run: node --import tsx bench/body-flood.bench.ts   (BENCH_RUNS=5 by default)
// BENCH_GATEWAY=/path/to/another/checkout measures that checkout's gateway instead.

import { execSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { Agent, request as httpRequest } from "node:http";
import { cpus } from "node:os";
import { Worker } from "node:worker_threads";
import { BENCH_ROOT, startBenchGateway, type BenchGateway } from "./gateway-process.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** Polling lasts this long at least, from the start of a flood (or of nothing, for the baseline). */
const WINDOW_MS = 1000;
const BOUNDARY = "----f";

interface Flood {
  name: string;
  path: string;
  contentType: string;
  body: Buffer;
  /** Without Content-Length: the body-limit middleware then reads it all before the route. */
  chunked?: boolean;
}

const part = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image[]"; filename="a"\r\n\r\nx\r\n`;
const multipart = Buffer.from(`${part.repeat(600_000)}--${BOUNDARY}--\r\n`);
const FLOODS: Flood[] = [
  { name: "600,000 multipart parts", path: "/v1/images/edits", contentType: `multipart/form-data; boundary=${BOUNDARY}`, body: multipart },
  { name: "600,000 multipart parts, chunked", path: "/v1/images/edits", contentType: `multipart/form-data; boundary=${BOUNDARY}`, body: multipart, chunked: true },
  { name: "JSON array of 1.2M items", path: "/api/v1/images/image2image", contentType: "application/json", body: Buffer.from(`{"prompt":"p","image":[${'"x",'.repeat(1_200_000)}"x"]}`) },
];

// ---- the gateway --------------------------------------------------------------

interface Gateway extends BenchGateway {
  /** The server's request log lines so far ({route, status, ms}). */
  requests: { route: string; status: number; ms: number }[];
}

async function startGateway(): Promise<Gateway> {
  const requests: Gateway["requests"] = [];
  const gateway = await startBenchGateway({ RETOUCH_PAYMENTS: "off", RETOUCH_ENGINE_THREADS: "1" }, (entry) => {
    if (entry.msg === "request") requests.push({ route: entry.route as string, status: entry.status as number, ms: entry.ms as number });
  });
  return { ...gateway, requests };
}

const TICKS_PER_SECOND = Number(execSync("getconf CLK_TCK").toString().trim()) || 100;

/** User + system CPU time of a process and all its threads, in ms (10 ms steps on most Linux). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

// ---- /healthz, polled from its own thread so that sending a flood does not delay it ----

const POLLER = `
const { parentPort, workerData } = require("node:worker_threads");
let polling = true;
parentPort.once("message", () => (polling = false));
(async () => {
  const latencies = [];
  let warm = false;
  let failures = 0;
  while (polling) {
    const started = performance.now();
    // A keep-alive connection the server closed while its loop was blocked fails once: counted, not fatal.
    const ok = await fetch(workerData + "/healthz").then((response) => response.arrayBuffer().then(() => response.ok), () => false);
    if (warm && !ok) failures++;
    if (warm) latencies.push(performance.now() - started);
    else parentPort.postMessage("ready"); // the first fetch of a thread loads the client: not counted
    warm = true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  parentPort.postMessage({ latencies, failures });
})();
`;

interface Polls {
  /** Of every poll, answered or failed, in ms. */
  latencies: number[];
  failures: number;
}

/** Polls /healthz while `work` runs, and for at least WINDOW_MS from its start. */
async function pollHealthzDuring(url: string, work: () => Promise<void>): Promise<Polls> {
  const worker = new Worker(POLLER, { eval: true, workerData: url });
  await new Promise((ready) => worker.once("message", ready));
  await Promise.all([work(), new Promise((elapsed) => setTimeout(elapsed, WINDOW_MS))]);
  const polls = new Promise<Polls>((done) => worker.once("message", done));
  worker.postMessage("stop");
  const result = await polls;
  await worker.terminate();
  return result;
}

// ---- one flood ----------------------------------------------------------------

/**
 * Sends the whole flood as fast as the socket takes it, over a keep-alive connection as fetch and
 * the OpenAI SDK do; resolves once the answer has come and the connection is closed or all sent.
 */
function send(url: string, flood: Flood): Promise<{ status: number | "reset"; answeredMs: number }> {
  return new Promise((done) => {
    const started = performance.now();
    const agent = new Agent({ keepAlive: true });
    let answer: { status: number; answeredMs: number } | undefined;
    let answered = false;
    let open = true;
    const finish = () => {
      if (!answer || open) return;
      agent.destroy();
      done(answer);
    };
    const headers: Record<string, string | number> = { "content-type": flood.contentType };
    if (!flood.chunked) headers["content-length"] = flood.body.length;
    const req = httpRequest(`${url}${flood.path}`, { method: "POST", agent, headers });
    req.on("error", () => answered || done({ status: "reset", answeredMs: performance.now() - started }));
    req.on("close", () => ((open = false), finish()));
    req.on("response", (res) => {
      answered = true;
      const answeredMs = performance.now() - started;
      res.resume();
      res.on("end", () => {
        answer = { status: res.statusCode!, answeredMs };
        if (sent >= flood.body.length) req.destroy();
        finish();
      });
    });
    let sent = 0;
    const more = () => {
      while (sent < flood.body.length) {
        const chunk = flood.body.subarray(sent, (sent += 1024 * 1024));
        if (!req.write(chunk)) return void req.once("drain", more);
      }
      req.end();
      if (answer) req.destroy();
    };
    more();
  });
}

interface Run extends Polls {
  status?: number | "reset";
  answeredMs?: number;
  serverMs?: number;
  cpuMs: number;
}

async function measure(gateway: Gateway, flood: Flood | undefined): Promise<Run> {
  const pid = gateway.child.pid!;
  const cpuBefore = await cpuMs(pid);
  const logged = gateway.requests.length;
  let sent: { status: number | "reset"; answeredMs: number } | undefined;
  const polls = await pollHealthzDuring(gateway.url, async () => {
    if (flood) sent = await send(gateway.url, flood);
  });
  const cpu = (await cpuMs(pid)) - cpuBefore;
  const entry = gateway.requests.slice(logged).find((request) => request.route !== "/healthz");
  return { ...polls, status: sent?.status, answeredMs: sent?.answeredMs, serverMs: entry?.ms, cpuMs: cpu };
}

// ---- report -------------------------------------------------------------------

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const fmt = (value: number | undefined, digits = 1) => (value === undefined ? "–" : value.toFixed(digits));

const gateway = await startGateway();
const rows: string[] = [];
try {
  for (const flood of [undefined, ...FLOODS]) {
    await measure(gateway, flood); // warm-up
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await measure(gateway, flood));
    const pick = (key: "answeredMs" | "serverMs" | "cpuMs") => {
      const values = runs.map((run) => run[key]).filter((value): value is number => value !== undefined);
      return values.length ? median(values) : undefined;
    };
    const statuses = [...new Set(runs.map((run) => run.status ?? "–"))].join("/");
    rows.push(
      `| ${flood ? `${flood.name} (${(flood.body.length / 1e6).toFixed(1)} MB)` : "no flood"} | ${statuses} | ` +
        `${fmt(pick("answeredMs"))} | ${fmt(pick("serverMs"), 0)} | ${fmt(pick("cpuMs"), 0)} | ` +
        `${fmt(median(runs.map((run) => median(run.latencies))), 2)} | ${fmt(median(runs.map((run) => Math.max(...run.latencies))))} | ` +
        `${fmt(Math.max(...runs.map((run) => Math.max(...run.latencies))))} | ${median(runs.map((run) => run.latencies.length))} | ${runs.reduce((sum, run) => sum + run.failures, 0)} |`,
    );
  }
} finally {
  await gateway.close();
}

console.log(`Machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}, linux ${process.arch}. Gateway: ${BENCH_ROOT}.`);
console.log(`Median of ${RUNS} runs after a warm-up. "answered" = from the first byte sent to the answer's head, at the client;`);
console.log(`"server" = the gateway's own request log (ms); CPU = user + system time of the gateway process over the polling window`);
console.log(`(${WINDOW_MS} ms, or the whole exchange if longer; /healthz polls every 10 ms included: see the no-flood row).\n`);
console.log("| body | status | answered ms | server ms | server CPU ms | /healthz median ms | /healthz max ms (median run) | /healthz max ms (worst run) | /healthz polls | /healthz failed (all runs) |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const row of rows) console.log(row);
