// A gateway killed with SIGKILL in the middle of a settlement, at each point
// where a crash leaves different traces (before the facilitator is called;
// after the chain took the transfer but before the ledger recorded it; after
// the record), then started again on the same data folder: the restart
// finishes the settlement from the chain, the replay of the payment gets the
// result, and the buyer's balance moved exactly once. The facilitator runs in
// its own process (`retouch devchain`), as in production.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSolanaRpc } from "@solana/kit";
import type { PaymentRequired } from "@x402/core/types";
import { createPublicClient, http, type Hex } from "viem";
import { decodeHeader } from "./support/buyer.ts";
import { createTestDatabase } from "./support/postgres.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { liveGatewayEnv, rpcPayer, startDevchainProcess, startGatewayProcess, type DevchainProcess, type GatewayProcess } from "./support/processes.ts";

const EDIT = "/api/v1/images/image2image";
const PRICE = 1000n; // local/content-aware-fill: $0.001

let devchain: DevchainProcess;
before(async () => {
  devchain = await startDevchainProcess();
});
after(async () => {
  await devchain?.close();
});

interface PaidBody {
  data: { url: string }[];
  payment: { status: string; tx_hash: string };
}

/** The buyer's and seller's USDC on `network`. */
async function balances(network: "base" | "solana") {
  return { buyer: await devchain.usdc(network, devchain.buyer), seller: await devchain.usdc(network, devchain.seller) };
}

/** A payment signed by the devchain's buyer for `gateway`'s quote of `edit`, as the PAYMENT-SIGNATURE header. */
async function signedPayment(gateway: GatewayProcess, network: "base" | "solana", edit: unknown): Promise<string> {
  const quote = await fetch(gateway.url + EDIT, jsonInit(edit));
  assert.equal(quote.status, 402);
  const required = decodeHeader<PaymentRequired>(quote.headers.get("payment-required"));
  const payload = await rpcPayer(devchain, network).createPaymentPayload(required);
  return Buffer.from(JSON.stringify(payload)).toString("base64");
}

/** Whether the chain has `transaction` and it succeeded. */
async function landedOnChain(network: "base" | "solana", transaction: string): Promise<boolean> {
  if (network === "base") {
    const receipt = await createPublicClient({ transport: http(devchain.evmRpc) }).getTransactionReceipt({ hash: transaction as Hex });
    return receipt.status === "success";
  }
  const { value } = await createSolanaRpc(devchain.solanaRpc).getSignatureStatuses([transaction as never]).send();
  return value[0] !== null && value[0].err === null;
}

const CASES = [
  { point: "before-settle", network: "base", mode: "remote", chargedAtCrash: false },
  { point: "after-broadcast", network: "base", mode: "remote", chargedAtCrash: true },
  { point: "after-record", network: "base", mode: "remote", chargedAtCrash: true },
  { point: "after-broadcast", network: "solana", mode: "self", chargedAtCrash: true },
] as const;

/** Fails instead of hanging when an awaited line never comes. */
const BOUND = { timeout: 120_000 };

for (const { point, network, mode, chargedAtCrash } of CASES) {
  test(`killed ${point} (${network}, ${mode} mode): the restart finishes the settlement from the chain, the replay gets the result, charged once`, BOUND, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "retouch-crash-"));
    const env = { ...liveGatewayEnv(devchain, mode), RETOUCH_NETWORKS: network };
    // The pause point works only in a test environment, whatever started this test.
    let gateway = await startGatewayProcess({ ...env, NODE_ENV: "test", RETOUCH_TEST_PAUSE: point }, { dataDir }).catch(async (error: unknown) => {
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    });
    try {
      const edit = await sceneEdit(128);
      const header = await signedPayment(gateway, network, edit);
      const start = await balances(network);

      const cutOff = fetch(gateway.url + EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header })).then(
        (response) => response.status,
        () => "connection lost",
      );
      const paused = gateway.waitFor((line) => line.includes("paused for a crash test"));
      const first = await Promise.race([paused, cutOff.then((status) => `answered ${status} instead of pausing`)]);
      assert.match(first, /paused for a crash test/);
      await gateway.stop("SIGKILL");
      assert.equal(await cutOff, "connection lost", "the paying request never got an answer");
      const charged = chargedAtCrash ? PRICE : 0n;
      assert.deepEqual(await balances(network), { buyer: start.buyer - charged, seller: start.seller + charged }, "what the crash left on chain");

      gateway = await startGatewayProcess(env, { dataDir, port: gateway.port }); // the same URL as before the crash
      if (point !== "after-record") {
        const report = await gateway.waitFor((line) => line.includes('"msg":"settlement sweep'));
        assert.match(report, /"settled":1,"failed":0,"uncertain":0/, report);
      }
      assert.deepEqual(await balances(network), { buyer: start.buyer - PRICE, seller: start.seller + PRICE }, "charged once by the restart");

      const replay = await fetch(gateway.url + EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
      const body = (await replay.json()) as PaidBody;
      assert.equal(replay.status, 200, JSON.stringify(body));
      assert.equal(body.payment.status, "already_settled");
      assert.ok(await landedOnChain(network, body.payment.tx_hash), `the receipt ${body.payment.tx_hash} is a transfer on chain`);
      const image = await fetch(body.data[0].url);
      assert.equal(image.status, 200);
      assert.ok((await image.arrayBuffer()).byteLength > 1000, "the edited image itself");
      assert.deepEqual(await balances(network), { buyer: start.buyer - PRICE, seller: start.seller + PRICE }, "the replay moved nothing");
    } finally {
      await gateway.stop("SIGKILL");
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}

test("two gateways on one PostgreSQL: one is killed after broadcasting, the other's periodic sweep records the settlement, and the replay there gets the result", BOUND, async () => {
  const database = await createTestDatabase();
  const shared = {
    ...liveGatewayEnv(devchain, "remote"),
    RETOUCH_NETWORKS: "base",
    DATABASE_URL: database.url,
    // A row untouched for max(upstream, settle timeout) + one interval belongs to no live process: 1.5 s here.
    RETOUCH_UPSTREAM_TIMEOUT_MS: "1000",
    RETOUCH_SETTLE_TIMEOUT_MS: "1000",
    RETOUCH_SWEEP_INTERVAL_MS: "500",
  };
  const survivor = await startGatewayProcess(shared);
  const doomed = await startGatewayProcess({ ...shared, NODE_ENV: "test", RETOUCH_TEST_PAUSE: "after-broadcast" });
  try {
    const edit = await sceneEdit(128);
    const header = await signedPayment(doomed, "base", edit);
    const start = await balances("base");
    const cutOff = fetch(doomed.url + EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header })).catch(() => undefined);
    await doomed.waitFor((line) => line.includes("paused for a crash test"));
    await doomed.stop("SIGKILL");
    await cutOff;

    const report = await survivor.waitFor((line) => line.includes('"msg":"settlement sweep'));
    assert.match(report, /"settled":1,"failed":0,"uncertain":0/, report);
    const replay = await fetch(survivor.url + EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const body = (await replay.json()) as PaidBody;
    assert.equal(replay.status, 200, JSON.stringify(body));
    assert.equal(body.payment.status, "already_settled");
    assert.ok(await landedOnChain("base", body.payment.tx_hash));
    assert.deepEqual(await balances("base"), { buyer: start.buyer - PRICE, seller: start.seller + PRICE }, "charged once");
  } finally {
    await doomed.close();
    await survivor.close();
    await database.drop();
  }
});
