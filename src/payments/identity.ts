// A payment's identity, the key that makes "one payment, one edit" hold. It is
// built only from what the buyer signed, so nobody on the path can make a
// settled payment look new: on EVM the chain, payer and EIP-3009 nonce (the
// token itself refuses a second use); on Solana the hash of the transaction
// message (never a signature slot, which the client or facilitator fills).
// v1 and v2 payments of the same transfer get the same identity.

import type { ExactPayment } from "./exact-payload.ts";

export interface PaymentIdentity {
  /** Stable key of this payment in the ledger. */
  id: string;
  /** CAIP-2 id of the network it pays on. */
  network: string;
}

export function paymentIdentity(payment: ExactPayment): PaymentIdentity {
  const network = payment.network.caip2;
  if (payment.family === "evm") {
    const { from, nonce } = payment.authorization;
    return { id: `${network}:${from.toLowerCase()}:${nonce.toLowerCase()}`, network };
  }
  return { id: `${network}:message:${payment.solana.messageHash}`, network };
}
