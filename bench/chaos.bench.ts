// Chaos: a gateway in remote mode on `retouch devchain`'s facilitator (its own
// process, as in production) takes paid Base edits at concurrency 4 and is
// killed with SIGKILL at random moments, KILLS times; after each kill it is
// started again on the same data folder and port. At the end every payment
// that never got its result is sent again (the buyer's retry), and each
// payment is checked on chain: was the buyer charged, was the result delivered.
// Target: 0 charged without a result, 0 results without a charge, 0 answers 500.
// Run: node --import tsx bench/chaos.bench.ts   (KILLS=30; DATABASE_URL for PostgreSQL)

import { cpus } from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PaymentRequired } from "@x402/core/types";
import { createPublicClient, http, parseAbiItem, type Hex } from "viem";
import { BASE } from "../src/chains/index.ts";
import { decodeHeader } from "../test/support/buyer.ts";
import { jsonInit, sceneEdit } from "../test/support/edit-input.ts";
import { freePort, liveGatewayEnv, rpcPayer, startDevchainProcess, startGatewayProcess, type GatewayProcess } from "../test/support/processes.ts";

const KILLS = Number(process.env.KILLS ?? 30);
const CONCURRENCY = 4;
/** How long the gateway takes load before each kill: uniformly random in this range (ms). */
const LOAD_MS = [300, 4_000] as const;
const EDIT = "/api/v1/images/image2image";
/** How long the final retries go on for payments not answered for good. */
const RETRY_PATIENCE_MS = 120_000;
const AUTHORIZATION_STATE = parseAbiItem("function authorizationState(address authorizer, bytes32 nonce) view returns (bool)");

interface Payment {
  header: string;
  nonce: Hex;
  payer: Hex;
  delivered: boolean;
  /** Every status it was answered with, in order ("lost" when the connection died). */
  answers: (number | string)[];
}

const devchain = await startDevchainProcess();
const dataDir = await mkdtemp(join(tmpdir(), "retouch-chaos-"));
const at = { dataDir, port: await freePort() };
const env = {
  ...liveGatewayEnv(devchain, "remote"),
  RETOUCH_NETWORKS: "base",
  // With PostgreSQL a restart cannot know the last process is gone: it leaves its rows to the sweep
  // until they are stale (max of these two timeouts + one interval), so the bench shortens them.
  ...(process.env.DATABASE_URL
    ? { DATABASE_URL: process.env.DATABASE_URL, RETOUCH_UPSTREAM_TIMEOUT_MS: "10000", RETOUCH_SETTLE_TIMEOUT_MS: "10000", RETOUCH_SWEEP_INTERVAL_MS: "2000" }
    : {}),
};
const chain = createPublicClient({ transport: http(devchain.evmRpc) });
const payer = rpcPayer(devchain, "base");
const edit = await sceneEdit(128);
const payments: Payment[] = [];
let gateway: GatewayProcess | undefined;
/** "503 settlement_unconfirmed" and the like, for every 5xx answer. */
const errorCodes: string[] = [];

async function send(payment: Payment): Promise<number | string> {
  const answer = await fetch(gateway!.url + EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": payment.header })).then(
    async (response) => {
      const text = await response.text();
      if (response.status >= 500) errorCodes.push(`${response.status} ${errorCode(text)}`);
      return response.status;
    },
    () => "lost",
  );
  payment.answers.push(answer);
  if (answer === 200) payment.delivered = true;
  return answer;
}

/** The `error.code` of an error answer (an edit's result is not JSON with one). */
function errorCode(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "?";
  } catch {
    return "?";
  }
}

async function newPayment(required: PaymentRequired): Promise<Payment> {
  const payload = await payer.createPaymentPayload(required);
  const { authorization } = payload.payload as { authorization: { nonce: Hex; from: Hex } };
  return { header: Buffer.from(JSON.stringify(payload)).toString("base64"), nonce: authorization.nonce, payer: authorization.from, delivered: false, answers: [] };
}

async function quote(): Promise<PaymentRequired> {
  const response = await fetch(gateway!.url + EDIT, jsonInit(edit));
  if (response.status !== 402) throw new Error(`expected a 402 quote, got ${response.status}`);
  return decodeHeader<PaymentRequired>(response.headers.get("payment-required"));
}

const started = performance.now();
const buyerBefore = await devchain.usdc("base", devchain.buyer);
try {
  gateway = await startGatewayProcess(env, at);
  const required = await quote();
  for (let kill = 1; kill <= KILLS; kill++) {
    let loading = true;
    const workers = Array.from({ length: CONCURRENCY }, async () => {
      while (loading) {
        const payment = await newPayment(required);
        payments.push(payment);
        await send(payment);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS[0] + Math.random() * (LOAD_MS[1] - LOAD_MS[0])));
    loading = false;
    await gateway.stop("SIGKILL");
    await Promise.all(workers);
    gateway = await startGatewayProcess(env, at);
    process.stdout.write(`kill ${kill}/${KILLS}: ${payments.length} payments so far\n`);
  }

  // The buyer's retries: the same request with the same payment, round after round, until each is
  // answered for good (with PostgreSQL a restart leaves a dead process's rows to the sweep until
  // they are stale: RETOUCH_UPSTREAM_TIMEOUT_MS / RETOUCH_SETTLE_TIMEOUT_MS + one sweep interval).
  const patience = Date.now() + RETRY_PATIENCE_MS;
  let pending = payments.filter((p) => !p.delivered);
  while (pending.length > 0 && Date.now() < patience) {
    const answers = await Promise.all(pending.map((payment) => send(payment)));
    pending = pending.filter((_, i) => answers[i] === 202 || answers[i] === 503 || answers[i] === "lost");
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
} finally {
  await gateway?.stop("SIGKILL");
}

let charged = 0;
let chargedWithoutResult = 0;
let resultWithoutCharge = 0;
for (const payment of payments) {
  const spent = await chain.readContract({ address: BASE.usdc.address, abi: [AUTHORIZATION_STATE], functionName: "authorizationState", args: [payment.payer, payment.nonce] });
  if (spent) charged++;
  if (spent && !payment.delivered) chargedWithoutResult++;
  if (!spent && payment.delivered) resultWithoutCharge++;
}
const buyerPaid = buyerBefore - (await devchain.usdc("base", devchain.buyer));
const answers = payments.flatMap((p) => p.answers);
const count = (status: number | string) => answers.filter((a) => a === status).length;
const chargedTwice = buyerPaid - BigInt(charged) * 1000n;

console.log(`\nchaos: ${KILLS} SIGKILLs of a remote-mode gateway (${process.env.DATABASE_URL ? "PostgreSQL" : "PGlite"}) under paid Base edits at concurrency ${CONCURRENCY}`);
console.log(`machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, Node ${process.version}; ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
console.log("| payments | delivered | charged | charged without a result | result without a charge | charged twice (USDC units) | answers 500 | answers 503 | connections lost |");
console.log("|---|---|---|---|---|---|---|---|---|");
console.log(
  `| ${payments.length} | ${payments.filter((p) => p.delivered).length} | ${charged} | ${chargedWithoutResult} | ${resultWithoutCharge} | ${chargedTwice} | ${count(500)} | ${count(503)} | ${count("lost")} |`,
);
if (errorCodes.length > 0) {
  const tally = new Map<string, number>();
  for (const code of errorCodes) tally.set(code, (tally.get(code) ?? 0) + 1);
  console.log(`\n5xx answers by code: ${[...tally].map(([code, n]) => `${code} ×${n}`).join(", ")}`);
}
const undelivered = payments.filter((p) => !p.delivered).slice(0, 5);
if (undelivered.length > 0) console.log("\nundelivered (first 5):", undelivered.map((p) => `${p.nonce.slice(0, 10)} ${p.answers.join(",")}`).join("; "));

await devchain.close();
await rm(dataDir, { recursive: true, force: true });
process.exitCode = chargedWithoutResult + resultWithoutCharge + count(500) === 0 && chargedTwice === 0n ? 0 : 1;
