// A replayed payment gets the stored result only if it proves its payer: the
// same signature check a facilitator makes the first time, done offline (the
// authorization is spent by then, so a facilitator would refuse it). Anyone can
// copy a payer and a nonce from public chain data; only the payer's key signs.

import { getPublicKeyFromAddress, verifySignature, type Address, type SignatureBytes } from "@solana/kit";
import { authorizationTypes } from "@x402/evm";
import { recoverTypedDataAddress } from "viem";
import type { ExactPayment } from "./exact-payload.ts";
import type { AnyRequirements } from "./facilitator/types.ts";

/** 65 bytes (r, s, v): what a plain wallet signs; anything longer is a contract wallet's. */
const EOA_SIGNATURE_HEX_CHARS = 2 + 65 * 2;

/**
 * Why this payment does not prove `payer` for the payment the ledger holds under its identity
 * (`requirements` are the ones it was verified against), or undefined when it does.
 */
export async function replayRefusal(payment: ExactPayment, payer: string, requirements: AnyRequirements): Promise<string | undefined> {
  return payment.family === "evm" ? evmRefusal(payment, payer, requirements) : svmRefusal(payment, payer);
}

async function evmRefusal(payment: Extract<ExactPayment, { family: "evm" }>, payer: string, requirements: AnyRequirements): Promise<string | undefined> {
  const { authorization, signature } = payment;
  const amount = "amount" in requirements ? requirements.amount : requirements.maxAmountRequired;
  if (authorization.to.toLowerCase() !== requirements.payTo.toLowerCase() || authorization.value !== BigInt(amount)) {
    return "its authorization is not the one that paid for this edit";
  }
  if (signature.length !== EOA_SIGNATURE_HEX_CHARS) {
    return "its signature is a contract wallet's, which this server cannot check offline; poll the job with Sign-In-With-X instead";
  }
  const extra = requirements.extra as { name?: unknown; version?: unknown } | undefined;
  let signer: string;
  try {
    signer = await recoverTypedDataAddress({
      domain: {
        name: String(extra?.name ?? ""),
        version: String(extra?.version ?? ""),
        chainId: payment.network.family === "evm" ? payment.network.chainId : 0,
        verifyingContract: lower(requirements.asset),
      },
      types: authorizationTypes,
      primaryType: "TransferWithAuthorization",
      // Lower case: the signature covers the address, not how it was written (viem checks mixed-case checksums).
      message: { ...authorization, from: lower(authorization.from), to: lower(authorization.to) },
      signature,
    });
  } catch {
    return "its signature is not a valid signature";
  }
  if (signer.toLowerCase() !== authorization.from.toLowerCase() || signer.toLowerCase() !== payer.toLowerCase()) {
    return "its signature was not made by the wallet that paid";
  }
  return undefined;
}

async function svmRefusal(payment: Extract<ExactPayment, { family: "svm" }>, payer: string): Promise<string | undefined> {
  const { solana } = payment;
  if (!solana.signers.includes(payer)) return "the wallet that paid does not sign this transaction";
  const signature = solana.signatureOf[payer];
  if (!signature || signature.length !== 64) return "the paying wallet's signature is missing from the transaction";
  try {
    const key = await getPublicKeyFromAddress(payer as Address);
    if (await verifySignature(key, signature as SignatureBytes, solana.messageBytes)) return undefined;
  } catch {
    // An address that is not an ed25519 public key cannot have signed.
  }
  return "the paying wallet's signature does not verify";
}

const lower = (address: string) => address.toLowerCase() as `0x${string}`;
