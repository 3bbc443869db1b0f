// A payment's identity, the key that makes "one payment, one edit" hold. It is
// built only from what the buyer signed, so nobody on the path can make a
// settled payment look new: on EVM the chain, payer and EIP-3009 nonce (the
// token itself refuses a second use); on Solana the hash of the transaction
// message (never a signature slot, which the client or facilitator fills).
// v1 and v2 payments of the same transfer get the same identity.

import { findNetwork } from "../chains/index.ts";
import { MalformedPaymentError, type ClientPayment } from "./protocol.ts";
import { readSolanaPayment, SolanaTransactionError } from "./solana-transaction.ts";

export interface PaymentIdentity {
  /** Stable key of this payment in the ledger. */
  id: string;
  /** CAIP-2 id of the network it pays on. */
  network: string;
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
    if (typeof from !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(from) || typeof nonce !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(nonce)) {
      throw new MalformedPaymentError("EVM payment needs payload.authorization.from (an address) and a 32-byte payload.authorization.nonce");
    }
    return { id: `${network.caip2}:${from.toLowerCase()}:${nonce.toLowerCase()}`, network: network.caip2 };
  }
  const transaction = body.transaction;
  if (typeof transaction !== "string") throw new MalformedPaymentError("Solana payment needs payload.transaction (base64)");
  try {
    return { id: `${network.caip2}:message:${readSolanaPayment(transaction).messageHash}`, network: network.caip2 };
  } catch (error) {
    if (error instanceof SolanaTransactionError) throw new MalformedPaymentError(`Solana payment: ${error.message}`);
    throw error;
  }
}
