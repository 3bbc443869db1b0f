// What x402 adds to a local edit, on the devchain: the median latency of a
// paid request against the same request with payments off (both gateways in
// this process, over HTTP), and paid edits per second under concurrency.
// Then the production picture, `retouch devchain` in its own process: verify
// and settle timed separately with the facilitator in this process (self
// mode's path, over the chains' RPCs) and through the devchain's facilitator
// service over HTTP (`retouch facilitator`'s code), and paid-edit throughput of
// one gateway process against two sharing that facilitator; and settlements/s from one gas wallet
// behind an RPC with network latency, nonce queue around the whole send against around the broadcast.
// Run: node --import tsx bench/payments.bench.ts   (BENCH_RUNS=50 by default;
//      BENCH_IN_PROCESS_ONLY=1 stops after the in-process latency and throughput tables)

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import { createWalletClient, defineChain, http, publicActions } from "viem";
import { writeContract } from "viem/actions";
import type { PrivateKeyAccount } from "viem/accounts";
import { serve } from "@hono/node-server";
import sharp from "sharp";
import { startTestGateway, dataUri, type TestGateway } from "../test/support/gateway.ts";
import { signV2, type TestNetwork } from "../test/support/buyer.ts";
import { squareMask } from "../test/support/scene.ts";
import { liveGatewayEnv, rpcPayer, startDevchainProcess, startGatewayProcess, type DevchainProcess } from "../test/support/processes.ts";
import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { BASE, SOLANA } from "../src/chains/index.ts";
import { rpcSignerClient, type EvmSignerClient } from "../src/chains/evm-signer.ts";
import { createMutex } from "../src/chains/mutex.ts";
import { chainX402Facilitator, connectFacilitator, localFacilitator, readFacilitatorKeys, rpcChainAccess } from "../src/payments/index.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const CONCURRENCY = 4;
const THROUGHPUT_REQUESTS = Number(process.env.BENCH_THROUGHPUT ?? 100);
const RPC_LATENCY_MS = Number(process.env.BENCH_RPC_LATENCY_MS ?? 40);
const WALLET_SETTLES = 40;
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
const p95 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)];
};

async function timed(url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}${EDIT}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const answer = await response.text();
  if (response.status !== 200) throw new Error(`status ${response.status}: ${answer.slice(0, 300)}`);
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

if (process.env.BENCH_IN_PROCESS_ONLY !== "1") await productionPicture();

/** Verify and settle, separately, in-process and over HTTP; then one gateway process against two on one facilitator. */
async function productionPicture(): Promise<void> {
  const devchain = await startDevchainProcess();
  try {
    const keys = await readFacilitatorKeys(devchain.facilitator.file);
    const rpcUrls = { base: devchain.evmRpc, solana: devchain.solanaRpc };
    const inProcess = localFacilitator(chainX402Facilitator(rpcChainAccess(keys, ["base", "solana"], rpcUrls)));
    const overHttp = await connectFacilitator({ kind: "url", url: devchain.facilitatorUrl, headers: {} }, { networks: ["base", "solana"] });
    const calls: string[] = [];
    for (const network of ["base", "solana"] as const) {
      for (const [where, facilitator] of [["in-process", inProcess], ["over HTTP", overHttp]] as const) {
        const verify: number[] = [];
        const settle: number[] = [];
        for (let i = 0; i < RUNS + 3; i++) {
          const { payload, accepted } = await devchainPayment(devchain, network);
          let started = performance.now();
          const verified = await facilitator.verify(payload, accepted);
          const verifyMs = performance.now() - started;
          started = performance.now();
          const settled = await facilitator.settle(payload, accepted);
          const settleMs = performance.now() - started;
          if (!verified.isValid || !settled.success) throw new Error(`${network} ${where}: ${JSON.stringify(verified)} ${JSON.stringify(settled)}`);
          if (i < 3) continue; // warm-up
          verify.push(verifyMs);
          settle.push(settleMs);
        }
        calls.push(`| ${network} | ${where} | ${median(verify).toFixed(1)} | ${p95(verify).toFixed(1)} | ${median(settle).toFixed(1)} | ${p95(settle).toFixed(1)} |`);
      }
    }
    console.log(`\nFacilitator calls against \`retouch devchain\` in another process, ${RUNS} payments each (ms):\n`);
    console.log("| network | facilitator | verify median | verify p95 | settle median | settle p95 |\n|---|---|---:|---:|---:|---:|");
    console.log(calls.join("\n"));

    await walletQueue(devchain, keys.evm);

    const body = await smallEdit();
    const env = { ...liveGatewayEnv(devchain, "remote"), RETOUCH_NETWORKS: "base" };
    const gateways = await Promise.all([0, 1].map(() => startGatewayProcess(env)));
    try {
      const fleet: string[] = [];
      for (const used of [gateways.slice(0, 1), gateways]) {
        const required = await quoteOf(gateways[0].url, body);
        const payer = rpcPayer(devchain, "base");
        const headers: string[] = [];
        for (let i = 0; i < THROUGHPUT_REQUESTS; i++) headers.push(Buffer.from(JSON.stringify(await payer.createPaymentPayload(required))).toString("base64"));
        const rate = await throughputAcross(used.map((g) => g.url), body, headers);
        fleet.push(`| ${used.length} gateway process${used.length > 1 ? "es" : ""} | ${rate.toFixed(1)} |`);
      }
      console.log(`\nPaid Base edits/s through \`retouch devchain\`'s facilitator, ${THROUGHPUT_REQUESTS} requests, ${CONCURRENCY} at a time (spread over the gateways):\n`);
      console.log("| gateways (remote mode, PGlite each) | edits/s |\n|---|---:|");
      console.log(fleet.join("\n"));
    } finally {
      await Promise.all(gateways.map((g) => g.close()));
    }
  } finally {
    await devchain.close();
  }
}

/**
 * Settlements per second from one gas wallet when every RPC call is a network round trip away
 * (RPC_LATENCY_MS added by a relay in front of the devchain): the nonce queue around the whole send
 * (gas estimate, fees, nonce, broadcast: how retouch did it before) against the queue around only
 * nonce + broadcast (serializedSignerClient). Same payments, same chain, same process.
 */
async function walletQueue(devchain: DevchainProcess, account: PrivateKeyAccount): Promise<void> {
  const relay = await latencyRelay(devchain.evmRpc, RPC_LATENCY_MS);
  try {
    const rows: string[] = [];
    for (const [name, client] of [
      ["whole send in the queue (before)", wholeSendQueued(account, relay.url)],
      ["nonce + broadcast in the queue (now)", rpcSignerClient(account, BASE, relay.url)],
    ] as const) {
      const facilitator = localFacilitator(chainX402Facilitator({ evm: [{ network: BASE, client }], svm: [] }));
      const payments = await Promise.all(Array.from({ length: WALLET_SETTLES }, () => devchainPayment(devchain, "base")));
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < payments.length) {
            const { payload, accepted } = payments[next++];
            const settled = await facilitator.settle(payload, accepted);
            if (!settled.success) throw new Error(`settle: ${JSON.stringify(settled)}`);
          }
        }),
      );
      rows.push(`| ${name} | ${(payments.length / ((performance.now() - started) / 1000)).toFixed(1)} |`);
    }
    console.log(`\nSettlements/s from one gas wallet, ${WALLET_SETTLES} settles 8 at a time, ${RPC_LATENCY_MS} ms added to every RPC call:\n`);
    console.log("| nonce queue | settlements/s |\n|---|---:|");
    console.log(rows.join("\n"));
  } finally {
    relay.close();
  }
}

/** The signer client as it was: one queue around writeContract, estimate and fees included. */
function wholeSendQueued(account: PrivateKeyAccount, rpcUrl: string): EvmSignerClient {
  const chain = defineChain({ id: BASE.chainId, name: BASE.name, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
  const client = createWalletClient({ account, chain, transport: http(rpcUrl), pollingInterval: 1_000 }).extend(publicActions) as EvmSignerClient;
  const exclusive = createMutex();
  return client.extend((inner) => ({
    writeContract: ((args: Parameters<EvmSignerClient["writeContract"]>[0]) => exclusive(() => writeContract(inner, args))) as EvmSignerClient["writeContract"],
  })) as EvmSignerClient;
}

/** An HTTP relay that holds every request `delayMs` before passing it on: a remote RPC on loopback. */
async function latencyRelay(target: string, delayMs: number): Promise<{ url: string; close(): void }> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const answer = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) });
    response.writeHead(answer.status, { "content-type": "application/json" }).end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** A payment from the devchain's buyer to its seller, as a seller would quote it. */
async function devchainPayment(devchain: DevchainProcess, network: TestNetwork) {
  const accepted: PaymentRequirements =
    network === "base"
      ? { scheme: "exact", network: BASE.caip2, asset: BASE.usdc.address, amount: "1000", payTo: devchain.seller.evm.address, maxTimeoutSeconds: 120, extra: { name: "USD Coin", version: "2" } }
      : { scheme: "exact", network: SOLANA.caip2, asset: SOLANA.usdc.mint, amount: "1000", payTo: devchain.seller.solana.address, maxTimeoutSeconds: 120, extra: { feePayer: devchain.facilitator.solana.address } };
  const required: PaymentRequired = { x402Version: 2, resource: { url: "https://seller.example/edit", description: "", mimeType: "" }, accepts: [accepted] };
  return { payload: await rpcPayer(devchain, network).createPaymentPayload(required), accepted };
}

async function quoteOf(url: string, body: string): Promise<PaymentRequired> {
  const response = await fetch(`${url}${EDIT}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  if (response.status !== 402) throw new Error(`expected a 402 quote, got ${response.status}`);
  return JSON.parse(Buffer.from(response.headers.get("payment-required")!, "base64").toString()) as PaymentRequired;
}

/** Edits/s with CONCURRENCY workers, worker i sending to gateway i mod n. */
async function throughputAcross(urls: string[], body: string, headers: string[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (next < headers.length) await timed(urls[worker % urls.length], body, { "PAYMENT-SIGNATURE": headers[next++] });
    }),
  );
  return headers.length / ((performance.now() - started) / 1000);
}
