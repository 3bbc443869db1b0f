// Reads what a buyer signed in a Solana x402 payment: the message (whose hash
// is the payment's identity: no signature slot anyone else fills can change
// it) and the fee the seller's fee payer would be asked to cover.

import { createHash } from "node:crypto";
import {
  getBase58Decoder,
  getBase64Encoder,
  getCompiledTransactionMessageDecoder,
  getTransactionDecoder,
  type ReadonlyUint8Array,
} from "@solana/kit";

const COMPUTE_BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111";
const SET_COMPUTE_UNIT_LIMIT = 2;
const SET_COMPUTE_UNIT_PRICE = 3;
/** What the runtime grants each instruction when the transaction sets no limit, and the ceiling. */
const DEFAULT_UNITS_PER_INSTRUCTION = 200_000;
const MAX_COMPUTE_UNITS = 1_400_000;
export const LAMPORTS_PER_SIGNATURE = 5_000n;

export interface SolanaPayment {
  /** sha256 of the message bytes, base58: the same whoever fills the signature slots. */
  messageHash: string;
  /** The bytes every signer signs. */
  messageBytes: Uint8Array;
  /** The recent blockhash it was built on: once that expires, it can never land. */
  blockhash: string;
  feePayer: string;
  /** The signers after the fee payer (the buyer's wallet is among them). */
  signers: string[];
  /** Each signer's signature as sent (null where the slot is still empty). */
  signatureOf: Record<string, Uint8Array | null>;
  signatures: number;
  computeUnitLimit: number;
  /** Micro-lamports per compute unit (0 when the transaction sets no price). */
  computeUnitPrice: bigint;
}

export class SolanaTransactionError extends Error {
  override name = "SolanaTransactionError";
}

export function readSolanaPayment(base64: string): SolanaPayment {
  let messageBytes: ReadonlyUint8Array;
  let signatureOf: Record<string, Uint8Array | null>;
  let message;
  try {
    ({ messageBytes, signatures: signatureOf } = getTransactionDecoder().decode(getBase64Encoder().encode(base64)) as {
      messageBytes: ReadonlyUint8Array;
      signatures: Record<string, Uint8Array | null>;
    });
    message = getCompiledTransactionMessageDecoder().decode(messageBytes);
  } catch {
    throw new SolanaTransactionError("the Solana transaction could not be decoded");
  }
  if (!("instructions" in message)) throw new SolanaTransactionError("only legacy and v0 Solana transactions are accepted");
  const accounts = message.staticAccounts.map(String);
  const signatures = message.header.numSignerAccounts;
  if (signatures < 1 || accounts.length < signatures) throw new SolanaTransactionError("the Solana transaction names no signer");

  let limit: number | undefined;
  let price = 0n;
  let otherInstructions = 0;
  // Every instruction that is not a well-formed limit or price may use the default units: the
  // runtime does not count other compute budget instructions, so this errs on the fee payer's side.
  for (const instruction of message.instructions) {
    const data = instruction.data ?? new Uint8Array(0);
    const budget = accounts[instruction.programAddressIndex] === COMPUTE_BUDGET_PROGRAM;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (budget && data[0] === SET_COMPUTE_UNIT_LIMIT && data.length >= 5) limit = view.getUint32(1, true);
    else if (budget && data[0] === SET_COMPUTE_UNIT_PRICE && data.length >= 9) price = view.getBigUint64(1, true);
    else otherInstructions++;
  }
  return {
    messageHash: getBase58Decoder().decode(createHash("sha256").update(messageBytes as Uint8Array).digest()),
    messageBytes: messageBytes as Uint8Array,
    blockhash: message.lifetimeToken,
    feePayer: accounts[0],
    signers: accounts.slice(1, signatures),
    signatureOf,
    signatures,
    computeUnitLimit: Math.min(limit ?? DEFAULT_UNITS_PER_INSTRUCTION * otherInstructions, MAX_COMPUTE_UNITS),
    computeUnitPrice: price,
  };
}

/** The lamports the fee payer spends to land this transaction: base fee per signature plus the priority fee. */
export function feeLamports(payment: SolanaPayment): bigint {
  const priority = (BigInt(payment.computeUnitLimit) * payment.computeUnitPrice + 999_999n) / 1_000_000n;
  return BigInt(payment.signatures) * LAMPORTS_PER_SIGNATURE + priority;
}

export interface SolanaFeeLimits {
  maxComputeUnits: number;
  maxPriorityFeeMicroLamports: number;
}

/** Why the fee payer should not co-sign this transaction, or undefined when its fees are within the limits. */
export function feeRefusal(payment: SolanaPayment, limits: SolanaFeeLimits): string | undefined {
  const asked = `${payment.computeUnitLimit} compute units at ${payment.computeUnitPrice} micro-lamports each (a fee of ${feeLamports(payment)} lamports)`;
  const allowed = `at most ${limits.maxComputeUnits} units at ${limits.maxPriorityFeeMicroLamports} micro-lamports`;
  if (payment.computeUnitLimit > limits.maxComputeUnits || payment.computeUnitPrice > BigInt(limits.maxPriorityFeeMicroLamports)) {
    return `the Solana transaction asks the fee payer for ${asked}; this server pays for ${allowed}. Build it with a lower compute unit limit and price`;
  }
  return undefined;
}
