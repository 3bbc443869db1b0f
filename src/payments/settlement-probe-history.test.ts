// The settlement probe against nodes that behave as mainnet ones do, where the
// devchain cannot. Base mines ~43,000 blocks a day (the devchain has a few
// dozen): a transfer is looked for in the last 50,000 blocks, and a spent
// authorization whose transfer is older than that is "cannot tell", never
// "cancelled, nothing was charged". A Solana node answers for a signature older
// than its short status cache only when asked to search history, knows a new
// blockhash at `processed` before it is finalized, and keeps failed transactions.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  appendTransactionMessageInstruction,
  compileTransaction,
  createTransactionMessage,
  generateKeyPairSigner,
  getBase58Decoder,
  getBase64EncodedWireTransaction,
  partiallySignTransaction,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  signBytes,
  AccountRole,
  type Blockhash,
  type KeyPairSigner,
} from "@solana/kit";
import type { PublicClient } from "viem";
import { BASE } from "../chains/index.ts";
import { evmSettlementProbe, svmSettlementProbe } from "./settlement-probe.ts";
import { readSolanaPayment } from "./solana-transaction.ts";

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

const BLOCKHASH = "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi";

/** A buyer's payment whose fee payer is `feePayer`, and the id the transaction gets once the fee payer co-signs. */
async function solanaPayment(feePayer: KeyPairSigner) {
  const buyer = await generateKeyPairSigner();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(feePayer.address, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: BLOCKHASH as Blockhash, lastValidBlockHeight: 100n }, m),
    (m) =>
      appendTransactionMessageInstruction(
        { programAddress: "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr" as never, accounts: [{ address: buyer.address, role: AccountRole.READONLY_SIGNER }], data: new Uint8Array([1]) },
        m,
      ),
  );
  const transaction = getBase64EncodedWireTransaction(await partiallySignTransaction([buyer.keyPair], compileTransaction(message)));
  const id = getBase58Decoder().decode(await signBytes(feePayer.keyPair.privateKey, readSolanaPayment(transaction).messageBytes));
  return { payload: { x402Version: 2, payload: { transaction } } as never, id };
}

/**
 * A stand-in Solana node. `landed` maps transaction ids to their error (null for success); `recent` says whether
 * a landed one is still in the node's status cache. The blockhash is `processed` but not yet `finalized` unless `finalized`.
 */
function solanaNode(options: { landed?: Record<string, unknown>; recent?: boolean; blockhashValid?: boolean; finalized?: boolean }) {
  const call = <T>(value: T) => ({ send: async () => ({ context: { slot: 1n }, value }) });
  return {
    getSignatureStatuses: (ids: string[], config?: { searchTransactionHistory?: boolean }) =>
      call(
        ids.map((id) => {
          if (!options.landed || !(id in options.landed)) return null;
          if (!options.recent && !config?.searchTransactionHistory) return null;
          return { slot: 1n, confirmations: null, err: options.landed[id], confirmationStatus: "finalized" };
        }),
      ),
    isBlockhashValid: (blockhash: string, config?: { commitment?: string }) => {
      const known = blockhash === BLOCKHASH && (options.blockhashValid ?? true);
      return call(known && (config?.commitment === "processed" || config?.commitment === "confirmed" || options.finalized === true));
    },
  } as never;
}

test("Solana: a transaction that landed long ago is found in the node's history, under the fee payer's signature", async () => {
  const feePayer = await generateKeyPairSigner();
  const { payload, id } = await solanaPayment(feePayer);
  const verdict = await svmSettlementProbe(solanaNode({ landed: { [id]: null }, recent: false }), [feePayer]).check(payload);
  assert.deepEqual(verdict, { state: "landed", transaction: id });
});

test("Solana: with several fee payer keys, the one the transaction names is the one that signs its id", async () => {
  const [other, feePayer] = [await generateKeyPairSigner(), await generateKeyPairSigner()];
  const { payload, id } = await solanaPayment(feePayer);
  const verdict = await svmSettlementProbe(solanaNode({ landed: { [id]: null }, recent: true }), [other, feePayer]).check(payload);
  assert.deepEqual(verdict, { state: "landed", transaction: id });
});

test("Solana: a transaction that landed and failed moved no USDC and can never land again", async () => {
  const feePayer = await generateKeyPairSigner();
  const { payload, id } = await solanaPayment(feePayer);
  const failed = { InstructionError: [0, { Custom: 1 }] };
  const verdict = await svmSettlementProbe(solanaNode({ landed: { [id]: failed }, recent: true }), [feePayer]).check(payload);
  assert.deepEqual(verdict, { state: "absent", final: true });
});

test("Solana: an unsent transaction on a blockhash the node has processed but not finalized can still land", async () => {
  const feePayer = await generateKeyPairSigner();
  const { payload } = await solanaPayment(feePayer);
  assert.deepEqual(await svmSettlementProbe(solanaNode({ finalized: false }), [feePayer]).check(payload), { state: "absent", final: false });
  assert.deepEqual(await svmSettlementProbe(solanaNode({ blockhashValid: false }), [feePayer]).check(payload), { state: "absent", final: true });
});

test("Solana: a fee payer this server has no key for cannot be checked, and the answer names it", async () => {
  const feePayer = await generateKeyPairSigner();
  const { payload } = await solanaPayment(feePayer);
  assert.deepEqual(await svmSettlementProbe(solanaNode({}), []).check(payload), {
    state: "unknown",
    why: `fee payer ${feePayer.address} is not a key this server holds`,
  });
});
