// Two real gateway processes (`retouch serve`) sharing one PostgreSQL ledger
// and one facilitator on one devchain receive the same payment at the same
// moment: one edit, one settlement, whichever process each request reached.
// Needs the machine's PostgreSQL (TEST_POSTGRES_URL, default 127.0.0.1:5432).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { generateKeyPairSigner } from "@solana/kit";
import type { PaymentRequired } from "@x402/core/types";
import pg from "pg";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { DevWallet } from "../src/chains/index.ts";
import { startTestDevchain, type TestDevchain } from "../src/chains/devchain/testing.ts";
import { fundedWallet, x402ClientFor, type TestNetwork } from "./support/buyer.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { startTestFacilitator, type TestFacilitator } from "./support/facilitator.ts";

const SERVER_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const EDIT = "/api/v1/images/image2image";
const PRICE = 1000n; // local/content-aware-fill: $0.001
const FUNDS = 1_000_000n;
/** A stored result's file name (the blob store writes to a temp name, then renames to this). */
const RESULT_FILE = /^[A-Za-z0-9_-]{22}\.(png|jpg|webp)$/;

interface Gateway {
  child: ChildProcess;
  url: string;
  dataDir: string;
}

interface PaidBody {
  data: { url: string }[];
  payment: { status: string; tx_hash: string };
}

let chain: TestDevchain;
let facilitator: TestFacilitator;
let database: string;
let databaseUrl: string;
let ledger: pg.Client;
let seller: { base: string; solana: string };
let gateways: Gateway[] = [];

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** `retouch serve` in remote mode on the shared facilitator and database; resolves once it listens. */
async function startGateway(): Promise<Gateway> {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-pg2-"));
  const child = spawn(process.execPath, ["bin/retouch.js", "serve"], {
    env: {
      ...process.env,
      RETOUCH_DATA_DIR: dataDir,
      PORT: "0",
      RETOUCH_PAYMENTS: "remote",
      FACILITATOR_URL: facilitator.url,
      RETOUCH_NETWORKS: "base,solana",
      RETOUCH_PAY_TO_EVM: seller.base,
      RETOUCH_PAY_TO_SOLANA: seller.solana,
      DATABASE_URL: databaseUrl,
      RETOUCH_ENGINE_THREADS: "1",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg: string; address?: string };
    if (entry.msg.startsWith("retouch listening")) {
      child.stdout!.resume();
      return { child, url: entry.address!, dataDir };
    }
  }
  throw new Error("retouch serve exited before listening");
}

async function stopGateway(gateway: Gateway): Promise<void> {
  if (gateway.child.exitCode === null && gateway.child.signalCode === null) {
    const exited = new Promise((resolve) => gateway.child.once("exit", resolve));
    gateway.child.kill("SIGTERM");
    await exited;
  }
  await rm(gateway.dataDir, { recursive: true, force: true });
}

before(async () => {
  database = `retouch_test_${randomBytes(6).toString("hex")}`;
  await admin((client) => client.query(`CREATE DATABASE ${database}`));
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  databaseUrl = url.toString();
  chain = await startTestDevchain();
  facilitator = await startTestFacilitator(chain.devchain);
  seller = { base: privateKeyToAccount(generatePrivateKey()).address, solana: (await generateKeyPairSigner()).address };
  await chain.devchain.fundUsdc("solana", seller.solana, 0n);
  // One after the other: the first creates the ledger's table, so the second does not race it.
  gateways.push(await startGateway());
  gateways.push(await startGateway());
  ledger = new pg.Client({ connectionString: databaseUrl });
  await ledger.connect();
});

after(async () => {
  await ledger?.end();
  await Promise.all(gateways.map(stopGateway));
  gateways = [];
  await facilitator?.close();
  await chain?.dispose();
  if (database) await admin((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
});

/** A payment header signed by `wallet` for the 402 the first gateway answers to this body. */
async function sign(wallet: DevWallet, network: TestNetwork, body: unknown): Promise<string> {
  const challenge = await fetch(`${gateways[0].url}${EDIT}`, jsonInit(body));
  assert.equal(challenge.status, 402, await challenge.text());
  const required = JSON.parse(Buffer.from(challenge.headers.get("payment-required")!, "base64").toString()) as PaymentRequired;
  const payload = await x402ClientFor(chain.devchain, network, wallet).createPaymentPayload(required);
  return Buffer.from(JSON.stringify(payload)).toString("base64");
}

async function resultFiles(): Promise<number> {
  const counts = await Promise.all(
    gateways.map(async ({ dataDir }) => (await readdir(join(dataDir, "files")).catch(() => [])).filter((name) => RESULT_FILE.test(name)).length),
  );
  return counts.reduce((a, b) => a + b, 0);
}

const address = (wallet: DevWallet, network: TestNetwork) => (network === "base" ? wallet.evm.address : wallet.solana.address);

/** This buyer's paid USDC, checked against what the seller received since `sellerBefore`. */
async function paid(wallet: DevWallet, network: TestNetwork, sellerBefore: bigint): Promise<bigint> {
  const spent = FUNDS - (await chain.devchain.usdcBalance(network, address(wallet, network)));
  const received = (await chain.devchain.usdcBalance(network, seller[network])) - sellerBefore;
  assert.equal(spent, received, `${network}: the buyer lost ${spent}, the seller got ${received}`);
  return spent;
}

async function rowsOf(wallet: DevWallet) {
  const { rows } = await ledger.query<{ status: string; tx_hash: string | null }>(
    "SELECT status, tx_hash FROM paid_edits WHERE lower(payer) IN (lower($1), lower($2))",
    [wallet.evm.address, wallet.solana.address],
  );
  return rows;
}

for (const network of ["base", "solana"] as const) {
  test(`${network}: the same payment and body at both processes at once: one edit, one settlement, the same answer`, async () => {
    const wallet = await fundedWallet(chain.devchain, FUNDS);
    const sellerBefore = await chain.devchain.usdcBalance(network, seller[network]);
    const filesBefore = await resultFiles();
    const edit = await sceneEdit(128, `remove the ball for ${address(wallet, network)}`);
    const header = await sign(wallet, network, edit);

    const responses = await Promise.all(gateways.map((g) => fetch(`${g.url}${EDIT}`, jsonInit(edit, { "PAYMENT-SIGNATURE": header }))));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as PaidBody[];
    assert.deepEqual(responses.map((r) => r.status), [200, 200], JSON.stringify(bodies));
    assert.deepEqual(bodies.map((b) => b.payment.status).sort(), ["already_settled", "settled"]);
    assert.equal(bodies[0].payment.tx_hash, bodies[1].payment.tx_hash, "one settlement");
    assert.deepEqual(bodies[0].data, bodies[1].data, "one result");

    assert.equal(await paid(wallet, network, sellerBefore), PRICE);
    assert.deepEqual(await rowsOf(wallet), [{ status: "settled", tx_hash: bodies[0].payment.tx_hash }]);
    assert.equal((await resultFiles()) - filesBefore, 1, "one edit ran, in one of the processes");
    assert.equal((await fetch(bodies[0].data[0].url)).status, 200);
  });
}

test("base: the same payment with different bodies at both processes at once: one 200, one 402 already used, one edit", async () => {
  const wallet = await fundedWallet(chain.devchain, FUNDS);
  const sellerBefore = await chain.devchain.usdcBalance("base", seller.base);
  const filesBefore = await resultFiles();
  const edits = [await sceneEdit(128, `first edit for ${wallet.evm.address}`), await sceneEdit(128, `second edit for ${wallet.evm.address}`)];
  const header = await sign(wallet, "base", edits[0]);

  const responses = await Promise.all(
    gateways.map((g, i) => fetch(`${g.url}${EDIT}`, jsonInit(edits[i], { "PAYMENT-SIGNATURE": header }))),
  );
  const bodies = (await Promise.all(responses.map((r) => r.json()))) as (PaidBody & { error?: string })[];
  assert.deepEqual(responses.map((r) => r.status).sort(), [200, 402], JSON.stringify(bodies));
  const winner = bodies[responses.findIndex((r) => r.status === 200)];
  const loser = bodies[responses.findIndex((r) => r.status === 402)];
  assert.equal(winner.payment.status, "settled");
  assert.match(loser.error!, /this payment was already used for job job_/);

  assert.equal(await paid(wallet, "base", sellerBefore), PRICE);
  assert.deepEqual(await rowsOf(wallet), [{ status: "settled", tx_hash: winner.payment.tx_hash }]);
  assert.equal((await resultFiles()) - filesBefore, 1, "the refused request ran no edit");
});
