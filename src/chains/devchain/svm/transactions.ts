// Simulates and executes wire transactions on LiteSVM and remembers each one's outcome, which
// LiteSVM alone does not do for failed ones: what getSignatureStatuses needs to answer like a cluster.
import {
  getBase58Decoder,
  getBase58Encoder,
  getTransactionDecoder,
  type Address,
  type Transaction,
  type TransactionMessageBytes,
} from "@solana/kit";
import type { FailedTransactionMetadata, LiteSVM, SimulatedTransactionInfo, TransactionMetadata } from "litesvm";
import { RpcError } from "../rpc-server.ts";
import { describeTransactionError, toRpcTransactionError, type RpcTransactionError } from "./errors.ts";

export interface TransactionStatus {
  slot: bigint;
  err: RpcTransactionError | null;
}

export interface SimulationValue {
  err: RpcTransactionError | null;
  logs: string[];
  accounts: null;
  unitsConsumed: bigint;
  returnData: { programId: string; data: [string, "base64"] } | null;
  innerInstructions?: unknown[];
  replacementBlockhash?: { blockhash: string; lastValidBlockHeight: bigint };
}

export interface SimulateOptions {
  sigVerify?: boolean;
  replaceRecentBlockhash?: boolean;
  innerInstructions?: boolean;
}

/** How many slots a blockhash stays valid on mainnet; reported as lastValidBlockHeight headroom. */
export const BLOCKHASH_VALIDITY_SLOTS = 150n;

// Errors a real cluster rejects at submission: the transaction never lands, so it has no status.
const UNLANDABLE = new Set([
  "SignatureFailure", "SanitizeFailure", "BlockhashNotFound", "AlreadyProcessed", "AccountNotFound",
  "InsufficientFundsForFee", "InvalidAccountForFee", "MissingSignatureForFee", "UnsupportedVersion",
]);

export class TransactionRunner {
  private readonly statuses = new Map<string, TransactionStatus>();
  private readonly svm: LiteSVM;

  constructor(svm: LiteSVM) {
    this.svm = svm;
  }

  simulate(wire: Uint8Array, options: SimulateOptions = {}): SimulationValue {
    if (options.sigVerify && options.replaceRecentBlockhash) {
      throw new RpcError(-32602, "Invalid params: sigVerify may not be used with replaceRecentBlockhash");
    }
    let tx = decodeTransaction(wire);
    const blockhash = this.svm.latestBlockhash();
    if (options.replaceRecentBlockhash) tx = { ...tx, messageBytes: withBlockhash(tx.messageBytes, blockhash) };
    // Real RPC skips signature checks unless asked; x402's facilitator simulates before co-signing.
    const sigVerify = options.sigVerify ?? false;
    if (!sigVerify) this.svm.withSigverify(false);
    let outcome: FailedTransactionMetadata | SimulatedTransactionInfo;
    try {
      outcome = this.svm.simulateTransaction(tx);
    } finally {
      if (!sigVerify) this.svm.withSigverify(true);
    }
    const meta = outcome.meta();
    const value: SimulationValue = {
      err: isFailure(outcome) ? toRpcTransactionError(outcome.err()) : null,
      logs: meta.logs(),
      accounts: null,
      unitsConsumed: meta.computeUnitsConsumed(),
      returnData: returnData(meta),
    };
    if (options.innerInstructions) value.innerInstructions = innerInstructions(meta);
    if (options.replaceRecentBlockhash) {
      value.replacementBlockhash = { blockhash, lastValidBlockHeight: this.slot() + BLOCKHASH_VALIDITY_SLOTS };
    }
    return value;
  }

  /** Executes the transaction; returns its signature, or throws the RPC error a cluster would answer with. */
  send(wire: Uint8Array, options: { skipPreflight?: boolean } = {}): string {
    const tx = decodeTransaction(wire);
    const signature = firstSignature(tx);
    if (!options.skipPreflight) {
      const preflight = this.simulate(wire, { sigVerify: true });
      if (preflight.err !== null && !(preflight.err === "AlreadyProcessed" && this.statuses.has(signature))) {
        throw new RpcError(-32002, `Transaction simulation failed: ${describeTransactionError(preflight.err)}`, preflight);
      }
    }
    const outcome = this.svm.sendTransaction(tx);
    if (!isFailure(outcome)) {
      this.statuses.set(signature, { slot: this.slot(), err: null });
      return signature;
    }
    const err = toRpcTransactionError(outcome.err());
    // A resend of a landed transaction is a no-op on a cluster: same signature, first outcome kept.
    if (err === "AlreadyProcessed" && this.statuses.has(signature)) return signature;
    if (typeof err === "string" && UNLANDABLE.has(err)) {
      throw new RpcError(-32002, `Transaction failed: ${describeTransactionError(err)}`, { err, logs: outcome.meta().logs() });
    }
    this.statuses.set(signature, { slot: this.slot(), err });
    return signature;
  }

  airdrop(to: Address, lamports: bigint): string {
    const outcome = this.svm.airdrop(to, lamports as Parameters<LiteSVM["airdrop"]>[1]);
    if (!outcome || isFailure(outcome)) throw new RpcError(-32603, `airdrop to ${to} failed`);
    const signature = getBase58Decoder().decode(outcome.signature());
    this.statuses.set(signature, { slot: this.slot(), err: null });
    return signature;
  }

  status(signature: string): TransactionStatus | undefined {
    return this.statuses.get(signature);
  }

  slot(): bigint {
    return this.svm.getClock().slot;
  }
}

export function decodeTransaction(wire: Uint8Array): Transaction {
  try {
    return getTransactionDecoder().decode(wire);
  } catch (error) {
    throw new RpcError(-32602, `Invalid params: failed to deserialize transaction (${(error as Error).message})`);
  }
}

function isFailure(outcome: unknown): outcome is FailedTransactionMetadata {
  return typeof (outcome as FailedTransactionMetadata).err === "function";
}

function firstSignature(tx: Transaction): string {
  const first = Object.values(tx.signatures)[0];
  if (!first) throw new RpcError(-32003, "Transaction signature verification failure: the fee payer did not sign");
  return getBase58Decoder().decode(first);
}

function returnData(meta: TransactionMetadata): SimulationValue["returnData"] {
  const data = meta.returnData();
  const bytes = data.data();
  if (bytes.length === 0) return null;
  return { programId: getBase58Decoder().decode(data.programId()), data: [Buffer.from(bytes).toString("base64"), "base64"] };
}

function innerInstructions(meta: TransactionMetadata): unknown[] {
  return meta
    .innerInstructions()
    .map((list, index) => ({
      index,
      instructions: list.map((inner) => {
        const ix = inner.instruction();
        return {
          programIdIndex: ix.programIdIndex(),
          accounts: Array.from(ix.accounts()),
          data: getBase58Decoder().decode(ix.data()),
          stackHeight: inner.stackHeight(),
        };
      }),
    }))
    .filter((entry) => entry.instructions.length > 0);
}

/** Rewrites the recent blockhash inside message bytes (legacy or v0 layout). */
function withBlockhash(message: TransactionMessageBytes, blockhash: string): TransactionMessageBytes {
  const bytes = new Uint8Array(message);
  let offset = bytes[0]! & 0x80 ? 1 : 0; // versioned messages start with a 0x80|version prefix
  offset += 3; // header: required signatures, readonly signed, readonly unsigned
  let count = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[offset++]!;
    count |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
  }
  offset += count * 32;
  bytes.set(getBase58Encoder().encode(blockhash), offset);
  return bytes as unknown as TransactionMessageBytes;
}
