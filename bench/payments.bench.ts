// What x402 adds to a local edit, on the devchain: the median latency of a
// paid request against the same request with payments off (both gateways in
// this process, over HTTP), and paid edits per second under concurrency.
// Run: node --import tsx bench/payments.bench.ts   (BENCH_RUNS=50 by default)

import { cpus } from "node:os";
import { serve } from "@hono/node-server";
import sharp from "sharp";
import { startTestGateway, dataUri, type TestGateway } from "../test/support/gateway.ts";
import { signV2, type TestNetwork } from "../test/support/buyer.ts";
import { squareMask } from "../test/support/scene.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const CONCURRENCY = 4;
const THROUGHPUT_REQUESTS = Number(process.env.BENCH_THROUGHPUT ?? 100);
const EDIT = "/api/v1/images/image2image";

async function smallEdit(): Promise<string> {
  // A 64x64 picture with a 12 px hole: the edit itself takes a few ms, so payment costs stand out.
  const rgb = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 251;
  const image = await sharp(rgb, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
  const mask = await sharp(squareMask(64, 64, 32, 32, 12), { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer();
  return JSON.stringify({ model: "local/content-aware-fill", prompt: "p", image: dataUri(image), mask: dataUri(mask) });
}

async function listen(gw: TestGateway): Promise<{ url: string; close(): void }> {
  const server = serve({ fetch: gw.gateway.app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function timed(url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}${EDIT}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  return performance.now() - started;
}

async function signMany(gw: TestGateway, network: TestNetwork, body: string, count: number): Promise<string[]> {
  const init = { method: "POST", headers: { "content-type": "application/json" }, body };
  const headers: string[] = [];
  for (let i = 0; i < count; i++) headers.push((await signV2(gw, network, EDIT, init)).header);
  return headers;
}

async function throughput(url: string, body: string, headers: (string | undefined)[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < headers.length) {
        const header = headers[next++];
        await timed(url, body, header ? { "PAYMENT-SIGNATURE": header } : {});
      }
    }),
  );
  return headers.length / ((performance.now() - started) / 1000);
}

const body = await smallEdit();
const free = await startTestGateway({ RETOUCH_PAYMENTS: "off" });
const paid = await startTestGateway({ RETOUCH_PAYMENTS: "devchain" });
const freeHttp = await listen(free);
const paidHttp = await listen(paid);

try {
  for (let i = 0; i < 5; i++) await timed(freeHttp.url, body); // warm-up
  const rows: string[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < RUNS; i++) baseline.push(await timed(freeHttp.url, body));
  rows.push(`| payments off (baseline) | ${median(baseline).toFixed(1)} | – |`);
  const paidMedians: Record<string, number> = {};
  for (const network of ["base", "solana"] as const) {
    const headers = await signMany(paid, network, body, RUNS + 3);
    for (const header of headers.slice(0, 3)) await timed(paidHttp.url, body, { "PAYMENT-SIGNATURE": header }); // warm-up
    const times: number[] = [];
    for (const header of headers.slice(3)) times.push(await timed(paidHttp.url, body, { "PAYMENT-SIGNATURE": header }));
    paidMedians[network] = median(times);
    rows.push(`| paid on ${network} (verify + claim + settle) | ${median(times).toFixed(1)} | +${(median(times) - median(baseline)).toFixed(1)} |`);
  }

  const freeRate = await throughput(freeHttp.url, body, Array(THROUGHPUT_REQUESTS).fill(undefined));
  const rates: string[] = [`| payments off | ${freeRate.toFixed(1)} |`];
  for (const network of ["base", "solana"] as const) {
    const headers = await signMany(paid, network, body, THROUGHPUT_REQUESTS);
    rates.push(`| paid on ${network} | ${(await throughput(paidHttp.url, body, headers)).toFixed(1)} |`);
  }

  console.log(`Machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}. ${RUNS} requests each, over HTTP on loopback.\n`);
  console.log("| request | median ms | added by x402 |\n|---|---:|---:|");
  console.log(rows.join("\n"));
  console.log(`\nThroughput, ${THROUGHPUT_REQUESTS} requests, ${CONCURRENCY} at a time (64x64 local edit):\n`);
  console.log("| gateway | edits/s |\n|---|---:|");
  console.log(rates.join("\n"));
} finally {
  freeHttp.close();
  paidHttp.close();
  await free.close();
  await paid.close();
}
