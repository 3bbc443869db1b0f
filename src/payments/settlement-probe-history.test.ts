// The EVM settlement probe on a chain with a long history (Base mines ~43,000
// blocks a day; the devchain has a few dozen): a transfer is looked for in the
// last 50,000 blocks, and a spent authorization whose transfer is older than
// that is "cannot tell", never "cancelled, nothing was charged".

import { test } from "node:test";
import assert from "node:assert/strict";
import type { PublicClient } from "viem";
import { BASE } from "../chains/index.ts";
import { evmSettlementProbe } from "./settlement-probe.ts";

const FROM = "0x1111111111111111111111111111111111111111";
const NONCE = `0x${"ab".repeat(32)}`;

/** A stand-in Base node: `head` blocks, the transfer of (FROM, NONCE) mined at `transferAt` (if ever), the nonce spent or not. */
function chain(options: { head: bigint; transferAt?: bigint; spent: boolean; now?: bigint }): PublicClient {
  return {
    getBlockNumber: async () => options.head,
    readContract: async () => options.spent,
    getLogs: async ({ fromBlock, toBlock }: { fromBlock: bigint; toBlock: bigint }) => {
      // As a node does: there is no block before 0 or after the head.
      if (fromBlock < 0n || toBlock > options.head) throw new Error(`invalid block range ${fromBlock}..${toBlock}`);
      const found = options.transferAt !== undefined && options.transferAt >= fromBlock && options.transferAt <= toBlock;
      return found ? [{ transactionHash: `0x${"5e".repeat(32)}`, blockNumber: options.transferAt }] : [];
    },
    getBlock: async () => ({ timestamp: options.now ?? 1_000n }),
  } as unknown as PublicClient;
}

const payment = (validBefore = "2000") => ({ x402Version: 2, payload: { authorization: { from: FROM, nonce: NONCE, validBefore } } }) as never;
const check = (options: Parameters<typeof chain>[0], validBefore?: string) => evmSettlementProbe(chain(options), BASE.usdc.address).check(payment(validBefore));

test("a transfer within the last 50,000 blocks is found, at either end of the window", async () => {
  const landed = { state: "landed", transaction: `0x${"5e".repeat(32)}` };
  assert.deepEqual(await check({ head: 1_000_000n, transferAt: 999_999n, spent: true }), landed);
  assert.deepEqual(await check({ head: 1_000_000n, transferAt: 950_000n, spent: true }), landed);
  assert.deepEqual(await check({ head: 1_000_000n, transferAt: 1_000_000n, spent: true }), landed);
});

test("a spent authorization whose transfer is older than the window cannot be told from a cancelled one: unknown, naming the window", async () => {
  assert.deepEqual(await check({ head: 1_000_000n, transferAt: 949_999n, spent: true }), {
    state: "unknown",
    why: "the authorization is spent but its transfer is not in the last 50000 blocks",
  });
  assert.deepEqual(await check({ head: 50_001n, spent: true }), {
    state: "unknown",
    why: "the authorization is spent but its transfer is not in the last 50000 blocks",
  });
});

test("on a chain younger than the window every transfer is in it: spent without a transfer is cancelled, for sure", async () => {
  assert.deepEqual(await check({ head: 50_000n, spent: true }), { state: "absent", final: true });
  assert.deepEqual(await check({ head: 40n, transferAt: 0n, spent: true }), { state: "landed", transaction: `0x${"5e".repeat(32)}` });
});

test("an unspent authorization may still land until validBefore; from then on it never can", async () => {
  assert.deepEqual(await check({ head: 1_000_000n, spent: false, now: 1_999n }, "2000"), { state: "absent", final: false });
  assert.deepEqual(await check({ head: 1_000_000n, spent: false, now: 2_000n }, "2000"), { state: "absent", final: true });
  assert.deepEqual(await check({ head: 1_000_000n, spent: false, now: 2_001n }, "2000"), { state: "absent", final: true });
});
