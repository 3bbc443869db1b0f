// What the gateway's CPU pays for one OpenAI edit with a mask, against the least
// an OpenAI-compatible gateway can do. Both run as their own processes in front
// of one stand-in for OpenAI's POST /v1/images/edits (in this process, answering
// a 1024x1024 PNG as b64_json):
// - passthrough (bench/openai-passthrough.ts): forwards the caller's multipart
//   unchanged, decodes the answer, stores it, answers a URL;
// - retouch (`retouch serve`, payments off): the whole path, the mask (white =
//   edit) converted to OpenAI's alpha PNG, the inputs checked to their last
//   byte, the result proven an image, stored, a URL.
// The same multipart body (a 1024x1024 PNG photo, its 1024x1024 mask) goes to
// both, one at a time; each server's user + system CPU time (/proc) is divided
// by the edits. Runs alternate between the two; the table shows medians.
// Run: node --import tsx bench/openai-mask.bench.ts   (BENCH_RUNS=5, BENCH_EDITS=40; BENCH_BEFORE=/path/to/checkout
// adds that checkout's gateway to the same runs)

import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { execSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import sharp from "sharp";
import { toOpenAiMask } from "../src/providers/openai/mask.ts";
import { startBenchGateway, type BenchGateway } from "./gateway-process.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const EDITS = Number(process.env.BENCH_EDITS ?? 40);
const WARM_UP = 5;
const SIDE = 1024;
const TICKS_PER_SECOND = Number(execSync("getconf CLK_TCK").toString().trim()) || 100;

async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** The stand-in upstream: reads the whole request, answers the same result every time. */
async function startUpstream(result: Buffer): Promise<{ url: string; server: Server; masks: number }> {
  const answer = JSON.stringify({ created: 1_760_000_000, output_format: "png", size: "1024x1024", data: [{ b64_json: result.toString("base64") }] });
  const state = { masks: 0 };
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += (chunk as Buffer).toString("latin1");
    if (body.includes('name="mask"')) state.masks++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    server,
    get masks() {
      return state.masks;
    },
  };
}

interface Server_ {
  url: string;
  pid: number;
  close(): Promise<void>;
}

async function startPassthrough(upstream: string): Promise<Server_> {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-passthrough-"));
  const child = spawn(process.execPath, ["--import", "tsx", "bench/openai-passthrough.ts"], {
    env: { ...process.env, UPSTREAM: upstream, DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.once("exit", () => child.kill());
  const port = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the passthrough exited (${code})`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match) resolve(match[1]);
    });
  });
  return {
    url: `http://127.0.0.1:${port}/v1/images/edits`,
    pid: child.pid!,
    async close() {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function startGateway(upstream: string, root?: string): Promise<Server_> {
  const env = { RETOUCH_PAYMENTS: "off", OPENAI_API_KEY: "sk-bench", OPENAI_BASE_URL: upstream, RETOUCH_LOG_LEVEL: "warn" };
  const gateway: BenchGateway = await startBenchGateway(env, undefined, root);
  return { url: `${gateway.url}/v1/images/edits`, pid: gateway.child.pid!, close: () => gateway.close() };
}

function form(photo: Buffer, mask: Buffer): FormData {
  const body = new FormData();
  body.append("model", "openai/gpt-image-1");
  body.append("prompt", "a round window in the wall");
  body.append("size", "1024x1024");
  body.append("response_format", "url");
  body.append("image", new Blob([photo], { type: "image/png" }), "photo.png");
  body.append("mask", new Blob([mask], { type: "image/png" }), "mask.png");
  return body;
}

/** CPU ms the server spent per edit over `count` edits sent one at a time. */
async function measure(server: Server_, photo: Buffer, mask: Buffer, count: number): Promise<number> {
  const before = await cpuMs(server.pid);
  for (let i = 0; i < count; i++) {
    const response = await fetch(server.url, { method: "POST", body: form(photo, mask) });
    if (response.status !== 200) throw new Error(`${server.url}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  }
  return ((await cpuMs(server.pid)) - before) / count;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The mask conversion alone, in this process: the old sharp encoder against the one retouch uses now. */
async function conversionMs(grey: Uint8Array): Promise<{ sharp9: number; current: number; bytes: { sharp9: number; current: number } }> {
  const mask = { width: SIDE, height: SIDE, grey };
  const viaSharp = async () => {
    const rgba = Buffer.alloc(SIDE * SIDE * 4);
    for (let i = 0; i < grey.length; i++) rgba[i * 4 + 3] = 255 - grey[i];
    return sharp(rgba, { raw: { width: SIDE, height: SIDE, channels: 4 } }).png({ compressionLevel: 9 }).toBuffer();
  };
  const time = async (work: () => Promise<Uint8Array>) => {
    const samples: number[] = [];
    let size = 0;
    // 30 warm-ups first: in a serving process the encoder's JavaScript is long since optimised.
    for (let i = 0; i < 50; i++) {
      const start = process.cpuUsage();
      size = (await work()).length;
      const used = process.cpuUsage(start);
      if (i >= 30) samples.push((used.user + used.system) / 1000);
    }
    return { ms: median(samples), size };
  };
  const a = await time(viaSharp);
  const b = await time(() => toOpenAiMask(mask));
  return { sharp9: a.ms, current: b.ms, bytes: { sharp9: a.size, current: b.size } };
}

const photo = await sharp("examples/photo.png").resize(SIDE, SIDE).png().toBuffer();
const maskPng = await sharp("examples/mask.png").resize(SIDE, SIDE, { kernel: "nearest" }).greyscale().png().toBuffer();
const grey = new Uint8Array(await sharp(maskPng).extractChannel(0).raw().toBuffer());
const result = await sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: "#4a7" } }).png().toBuffer();
const upstream = await startUpstream(result);
// BENCH_BEFORE=/path/to/another/checkout adds that checkout's gateway to the same runs.
const servers: Record<string, Server_> = { passthrough: await startPassthrough(upstream.url), retouch: await startGateway(upstream.url) };
if (process.env.BENCH_BEFORE) servers.before = await startGateway(upstream.url, process.env.BENCH_BEFORE);
for (const server of Object.values(servers)) await measure(server, photo, maskPng, WARM_UP);

const names = Object.keys(servers);
const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
for (let run = 0; run < RUNS; run++) {
  // Rotate which goes first, so that none always meets a warmer or busier machine.
  const order = names.map((_, i) => names[(i + run) % names.length]);
  for (const name of order) samples[name].push(await measure(servers[name], photo, maskPng, EDITS));
}
const conversion = await conversionMs(grey);
for (const server of Object.values(servers)) await server.close();
upstream.server.close();
if (upstream.masks < (WARM_UP + RUNS * EDITS) * names.length) throw new Error(`the upstream saw ${upstream.masks} masks`);

const passthrough = median(samples.passthrough);
const retouch = median(samples.retouch);
console.log(
  `Machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}, linux ${process.arch}; ` +
    `${new Date().toISOString().slice(0, 10)}; load ${loadavg()[0].toFixed(2)}. ${RUNS} runs of ${EDITS} edits each, one at a time, after ${WARM_UP} warm-ups.`,
);
console.log("");
console.log("| server | CPU ms per 1024x1024 edit with a mask (median) | runs | × passthrough |");
console.log("|---|---:|---|---:|");
console.log(`| passthrough (forwards the multipart, stores the b64 answer) | ${passthrough.toFixed(1)} | ${samples.passthrough.map((v) => v.toFixed(1)).join(", ")} | 1.00 |`);
console.log(`| retouch /v1/images/edits | ${retouch.toFixed(1)} | ${samples.retouch.map((v) => v.toFixed(1)).join(", ")} | ${(retouch / passthrough).toFixed(2)} |`);
if (samples.before) {
  const before = median(samples.before);
  console.log(`| retouch at ${process.env.BENCH_BEFORE} | ${before.toFixed(1)} | ${samples.before.map((v) => v.toFixed(1)).join(", ")} | ${(before / passthrough).toFixed(2)} |`);
}
console.log("");
console.log("| the mask conversion alone (white = edit -> OpenAI's alpha PNG), this process | CPU ms (median of 20, after 30 warm-ups) | PNG bytes |");
console.log("|---|---:|---:|");
console.log(`| sharp, compression level 9 (before) | ${conversion.sharp9.toFixed(1)} | ${conversion.bytes.sharp9} |`);
console.log(`| retouch's encoder (src/providers/openai/mask.ts) | ${conversion.current.toFixed(1)} | ${conversion.bytes.current} |`);
