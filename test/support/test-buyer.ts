// A buyer made for one test: a new wallet funded on the devchain, what it has
// paid (checked against what the seller received) and its rows in the ledger,
// so a test's balances and rows are its own whatever ran before it.

import assert from "node:assert/strict";
import type { Devchain, DevWallet } from "../../src/chains/index.ts";
import { fundedWallet, type TestNetwork } from "./buyer.ts";
import type { TestGateway } from "./gateway.ts";

export const TEST_BUYER_FUNDS = 1_000_000n; // 1 USDC on each network

export interface LedgerRow {
  status: string;
  tx_hash: string | null;
}

export interface TestBuyer {
  wallet: DevWallet;
  address(network: TestNetwork): string;
  /** USDC this buyer has paid on `network`, after checking that the gateway's payTo received exactly that. */
  paid(network: TestNetwork): Promise<bigint>;
  /** USDC this buyer has lost on `network`, without looking at the seller (for a test with several buyers). */
  lost(network: TestNetwork): Promise<bigint>;
  /** This buyer's rows in the gateway's ledger (status, tx_hash), oldest first. */
  rows(): Promise<LedgerRow[]>;
  /** The job ids of this buyer's rows, oldest first. */
  jobs(): Promise<string[]>;
}

/** A new buyer for payments to `gw`; payTo balances are taken now, so tests must not pay the same gateway at the same time. */
export async function testBuyer(gw: TestGateway, devchain: Devchain = gw.gateway.devchain!): Promise<TestBuyer> {
  const wallet = await fundedWallet(devchain, TEST_BUYER_FUNDS);
  const address = (network: TestNetwork) => (network === "base" ? wallet.evm.address : wallet.solana.address);
  const payTo = (network: TestNetwork) => gw.gateway.rail!.networks.find((n) => n.network.name === network)!.payTo;
  const sellerAtStart = {
    base: await devchain.usdcBalance("base", payTo("base")),
    solana: await devchain.usdcBalance("solana", payTo("solana")),
  };
  const mine = "FROM paid_edits WHERE lower(payer) IN (lower($1), lower($2)) ORDER BY created_at, job_id";
  const params = [address("base"), address("solana")];
  return {
    wallet,
    address,
    async paid(network) {
      const spent = TEST_BUYER_FUNDS - (await devchain.usdcBalance(network, address(network)));
      const received = (await devchain.usdcBalance(network, payTo(network))) - sellerAtStart[network];
      assert.equal(spent, received, `${network}: the buyer lost ${spent}, the seller got ${received}`);
      return spent;
    },
    lost: async (network) => TEST_BUYER_FUNDS - (await devchain.usdcBalance(network, address(network))),
    async rows() {
      const rows = await gw.gateway.ledger!.db.query<LedgerRow>(`SELECT status, tx_hash ${mine}`, params);
      return rows.map((row) => ({ status: row.status, tx_hash: row.tx_hash }));
    },
    async jobs() {
      const rows = await gw.gateway.ledger!.db.query<{ job_id: string }>(`SELECT job_id ${mine}`, params);
      return rows.map((row) => row.job_id);
    },
  };
}
