// Reading a Solana payment: identity from the message only, and the fee it asks of the fee payer.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  appendTransactionMessageInstructions,
  compileTransaction,
  createTransactionMessage,
  generateKeyPairSigner,
  getBase64EncodedWireTransaction,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type Blockhash,
  type Instruction,
} from "@solana/kit";
import { feeLamports, feeRefusal, readSolanaPayment, SolanaTransactionError } from "./solana-transaction.ts";

const COMPUTE_BUDGET = "ComputeBudget111111111111111111111111111111";
const MEMO = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";

function limit(units: number): Instruction {
  const data = new Uint8Array(5);
  data[0] = 2;
  new DataView(data.buffer).setUint32(1, units, true);
  return { programAddress: COMPUTE_BUDGET as never, data };
}

function price(microLamports: bigint): Instruction {
  const data = new Uint8Array(9);
  data[0] = 3;
  new DataView(data.buffer).setBigUint64(1, microLamports, true);
  return { programAddress: COMPUTE_BUDGET as never, data };
}

const memo: Instruction = { programAddress: MEMO as never, data: new TextEncoder().encode("x402") };

async function wire(instructions: Instruction[]): Promise<string> {
  const feePayer = await generateKeyPairSigner();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(feePayer.address, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi" as Blockhash, lastValidBlockHeight: 100n }, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  return getBase64EncodedWireTransaction(compileTransaction(message));
}

test("the fee is 5000 lamports per signature plus units x price, rounded up", async () => {
  const payment = readSolanaPayment(await wire([limit(20_000), price(1n), memo]));
  assert.equal(payment.signatures, 1);
  assert.equal(payment.computeUnitLimit, 20_000);
  assert.equal(payment.computeUnitPrice, 1n);
  assert.equal(feeLamports(payment), 5_001n);
  assert.equal(feeLamports({ ...payment, computeUnitLimit: 1_400_000, computeUnitPrice: 5_000_000n }), 5_000n + 7_000_000n);
});

test("without a limit instruction the runtime's 200,000 units per instruction count; without a price, no priority fee", async () => {
  const payment = readSolanaPayment(await wire([memo, memo]));
  assert.equal(payment.computeUnitLimit, 400_000);
  assert.equal(payment.computeUnitPrice, 0n);
  assert.equal(feeLamports(payment), 5_000n);
});

test("feeRefusal names what was asked and what is paid for; at the caps it is silent", async () => {
  const limits = { maxComputeUnits: 200_000, maxPriorityFeeMicroLamports: 50_000 };
  assert.equal(feeRefusal(readSolanaPayment(await wire([limit(200_000), price(50_000n), memo])), limits), undefined);
  assert.match(
    feeRefusal(readSolanaPayment(await wire([limit(200_001), price(1n), memo])), limits)!,
    /asks the fee payer for 200001 compute units at 1 micro-lamports each .*at most 200000 units at 50000 micro-lamports/,
  );
  assert.match(feeRefusal(readSolanaPayment(await wire([limit(1_000), price(50_001n), memo])), limits)!, /50001 micro-lamports/);
});

test("the identity is the message: the same message with other signature bytes has the same hash", async () => {
  const base64 = await wire([limit(20_000), price(1n), memo]);
  const bytes = Buffer.from(base64, "base64");
  bytes.fill(7, 1, 65); // the fee payer's signature slot
  assert.equal(readSolanaPayment(bytes.toString("base64")).messageHash, readSolanaPayment(base64).messageHash);
  assert.notEqual(readSolanaPayment(await wire([limit(20_001), price(1n), memo])).messageHash, readSolanaPayment(base64).messageHash);
});

test("garbage is a SolanaTransactionError, never a crash", () => {
  for (const bad of ["", "AAAA", Buffer.from("not a transaction at all").toString("base64")]) {
    assert.throws(() => readSolanaPayment(bad), SolanaTransactionError, bad);
  }
});

test("a v1 message (kit can build one; x402 payments are v0) is refused by name, not read as something it is not", async () => {
  const feePayer = await generateKeyPairSigner();
  const message = pipe(
    createTransactionMessage({ version: 1 }),
    (m) => setTransactionMessageFeePayer(feePayer.address, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi" as Blockhash, lastValidBlockHeight: 100n }, m),
    (m) => appendTransactionMessageInstructions([memo], m),
  );
  const v1 = getBase64EncodedWireTransaction(compileTransaction(message));
  assert.throws(() => readSolanaPayment(v1), (error: unknown) => error instanceof SolanaTransactionError && error.message === "only legacy and v0 Solana transactions are accepted");
});

/**
 * `base64` with its message header claiming `signers` signers, sent with `slots` signature slots.
 * The wire format: a one-byte count of slots (under 128), 64 bytes each, then the message, whose
 * first bytes are the v0 prefix (0x80) and the number of accounts that must sign.
 */
function withSigners(base64: string, slots: number, signers: number): string {
  const bytes = Buffer.from(base64, "base64");
  const message = Buffer.from(bytes.subarray(1 + 64 * bytes[0]));
  message[1] = signers;
  return Buffer.concat([Buffer.from([slots]), Buffer.alloc(64 * slots, 1), message]).toString("base64");
}

test("a transaction that names no signer, or more signers than accounts, is refused by name", async () => {
  const base64 = await wire([memo]); // accounts: the fee payer and the memo program
  const noSigner = (error: unknown) => error instanceof SolanaTransactionError && error.name === "SolanaTransactionError" && error.message === "the Solana transaction names no signer";
  assert.throws(() => readSolanaPayment(withSigners(base64, 0, 0)), noSigner);
  assert.throws(() => readSolanaPayment(withSigners(base64, 2, 3)), noSigner);
  // Every account a signer is odd but readable: the fee payer, then the rest.
  const allSign = readSolanaPayment(withSigners(base64, 2, 2));
  assert.deepEqual([allSign.signatures, allSign.signers], [2, [MEMO]]);
});

test("compute budget instructions too short to hold their value are not read (never a crash) and count as instructions", async () => {
  const short = (kind: number): Instruction => ({ programAddress: COMPUTE_BUDGET as never, data: Uint8Array.from([kind, 1, 2]) });
  const empty: Instruction = { programAddress: COMPUTE_BUDGET as never, data: new Uint8Array(0) };
  const payment = readSolanaPayment(await wire([short(2), short(3), empty, memo]));
  assert.equal(payment.computeUnitPrice, 0n);
  assert.equal(payment.computeUnitLimit, 4 * 200_000, "no limit was set, so each of the 4 instructions may use the default");
});

test("another compute budget instruction of price length (the deprecated RequestUnits) is not read as a price", async () => {
  const requestUnits = new Uint8Array(9);
  requestUnits[0] = 0;
  new DataView(requestUnits.buffer).setUint32(1, 1_000_000, true);
  new DataView(requestUnits.buffer).setUint32(5, 7, true);
  const payment = readSolanaPayment(await wire([limit(20_000), { programAddress: COMPUTE_BUDGET as never, data: requestUnits }, memo]));
  assert.equal(payment.computeUnitPrice, 0n);
  assert.equal(payment.computeUnitLimit, 20_000);
});

test("another program's instruction whose data looks like a limit or a price is not read as one", async () => {
  const lookalike = (instruction: Instruction): Instruction => ({ ...instruction, programAddress: MEMO as never });
  const payment = readSolanaPayment(await wire([lookalike(limit(1)), lookalike(price(9_999_999n)), memo]));
  assert.deepEqual([payment.computeUnitLimit, payment.computeUnitPrice], [3 * 200_000, 0n]);
});
