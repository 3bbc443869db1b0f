// The `exact` scheme's payloads, read strictly before anyone acts on them: an
// EIP-3009 authorization and its signature on EVM, a partially signed
// transaction on Solana. A payload that is not one of these is the client's
// mistake, refused with a reason a client developer can act on, never handed to
// a facilitator to fail on with its own exception text.

import { findNetwork, type Network } from "../chains/index.ts";
import { MalformedPaymentError, type ClientPayment } from "./protocol.ts";
import { readSolanaPayment, SolanaTransactionError, type SolanaPayment } from "./solana-transaction.ts";

export interface EvmAuthorization {
  from: `0x${string}`;
  to: `0x${string}`;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: `0x${string}`;
}

export type ExactPayment =
  | { family: "evm"; network: Network; signature: `0x${string}`; authorization: EvmAuthorization }
  | { family: "svm"; network: Network; transaction: string; solana: SolanaPayment };

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
/** 65 bytes for a plain wallet; contract wallets (ERC-1271, ERC-6492) sign longer blobs. */
const SIGNATURE = /^0x(?:[0-9a-fA-F]{2}){65,4096}$/;
const UINT = /^\d{1,78}$/;
const UINT256_LIMIT = 2n ** 256n;

/** Reads a payment's `exact` payload for the network it names; throws MalformedPaymentError saying what is wrong. */
export function readExactPayment(payment: ClientPayment): ExactPayment {
  const scheme = payment.version === 2 ? payment.payload.accepted.scheme : payment.payload.scheme;
  if (scheme !== "exact") throw new MalformedPaymentError(`payment scheme "${String(scheme)}" is not supported; this server takes "exact"`);
  const networkName = payment.version === 2 ? payment.payload.accepted.network : payment.payload.network;
  const network = findNetwork(networkName);
  if (!network) throw new MalformedPaymentError(`payment is for unknown network "${networkName}"`);
  const body = payment.payload.payload;
  if (network.family === "evm") return { family: "evm", network, ...readEvm(body) };

  const transaction = body.transaction;
  if (typeof transaction !== "string") throw new MalformedPaymentError("Solana payment needs payload.transaction: a base64 transaction");
  try {
    return { family: "svm", network, transaction, solana: readSolanaPayment(transaction) };
  } catch (error) {
    if (error instanceof SolanaTransactionError) throw new MalformedPaymentError(`Solana payment: ${error.message}`);
    throw error;
  }
}

function readEvm(body: Record<string, unknown>): { signature: `0x${string}`; authorization: EvmAuthorization } {
  const { signature, authorization } = body;
  if (typeof signature !== "string" || !SIGNATURE.test(signature)) {
    throw new MalformedPaymentError("EVM payment needs payload.signature: a 0x-prefixed hex signature of at least 65 bytes");
  }
  if (typeof authorization !== "object" || authorization === null || Array.isArray(authorization)) {
    throw new MalformedPaymentError("EVM payment needs payload.authorization: the EIP-3009 transferWithAuthorization fields");
  }
  const fields = authorization as Record<string, unknown>;
  const address = (name: "from" | "to") => {
    const value = fields[name];
    if (typeof value !== "string" || !ADDRESS.test(value)) throw new MalformedPaymentError(`payload.authorization.${name} must be a 0x-prefixed 20-byte address`);
    return value as `0x${string}`;
  };
  const uint = (name: "value" | "validAfter" | "validBefore") => {
    const value = fields[name];
    if (typeof value !== "string" || !UINT.test(value) || BigInt(value) >= UINT256_LIMIT) {
      throw new MalformedPaymentError(`payload.authorization.${name} must be a decimal string of a uint256 (got ${describe(value)})`);
    }
    return BigInt(value);
  };
  const nonce = fields.nonce;
  if (typeof nonce !== "string" || !BYTES32.test(nonce)) throw new MalformedPaymentError("payload.authorization.nonce must be 32 bytes of 0x-prefixed hex");
  return {
    signature: signature as `0x${string}`,
    authorization: {
      from: address("from"),
      to: address("to"),
      value: uint("value"),
      validAfter: uint("validAfter"),
      validBefore: uint("validBefore"),
      nonce: nonce as `0x${string}`,
    },
  };
}

/** A short, safe description of a JSON value (or none) a client sent where a number string belonged. */
function describe(value: unknown): string {
  if (typeof value === "string") return `"${value.slice(0, 24)}${value.length > 24 ? "…" : ""}"`;
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" && value !== null ? "an object" : String(value);
}
