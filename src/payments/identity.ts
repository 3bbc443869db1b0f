// A payment's identity, the key that makes "never twice" hold: on EVM the
// chain, payer and EIP-3009 nonce (the token itself refuses a second use);
// on Solana the payer's signature of the transaction (unique per transaction).

import { getBase58Decoder, getBase64Encoder, getTransactionDecoder } from "@solana/kit";
import { findNetwork } from "../chains/index.ts";
import { MalformedPaymentError, type ClientPayment } from "./protocol.ts";

export interface PaymentIdentity {
  /** Stable key of this payment in the ledger. */
  id: string;
  /** CAIP-2 id of the network it pays on. */
  network: string;
  /** The payer's address as the payment claims it (the facilitator confirms it). */
  claimedPayer: string | undefined;
}

export function paymentIdentity(payment: ClientPayment): PaymentIdentity {
  const networkName = payment.version === 2 ? payment.payload.accepted.network : payment.payload.network;
  const network = findNetwork(networkName);
  if (!network) throw new MalformedPaymentError(`payment is for unknown network "${networkName}"`);
  const body = payment.payload.payload;
  if (network.family === "evm") {
    const authorization = body.authorization as { from?: unknown; nonce?: unknown } | undefined;
    const from = authorization?.from;
    const nonce = authorization?.nonce;
    if (typeof from !== "string" || typeof nonce !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(nonce)) {
      throw new MalformedPaymentError("EVM payment needs payload.authorization.from and a 32-byte payload.authorization.nonce");
    }
    return { id: `${network.caip2}:${from.toLowerCase()}:${nonce.toLowerCase()}`, network: network.caip2, claimedPayer: from };
  }
  const transaction = body.transaction;
  if (typeof transaction !== "string") throw new MalformedPaymentError("Solana payment needs payload.transaction (base64)");
  let signatures: [string, Uint8Array | null][];
  try {
    const decoded = getTransactionDecoder().decode(getBase64Encoder().encode(transaction));
    signatures = Object.entries(decoded.signatures) as [string, Uint8Array | null][];
  } catch {
    throw new MalformedPaymentError("Solana payment's transaction could not be decoded");
  }
  const signed = signatures.find(([, signature]) => signature !== null && signature.some((byte) => byte !== 0));
  if (!signed) throw new MalformedPaymentError("Solana payment's transaction carries no signature");
  return { id: `${network.caip2}:${getBase58Decoder().decode(signed[1]!)}`, network: network.caip2, claimedPayer: signed[0] };
}
