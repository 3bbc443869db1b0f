// What a caller must pay, in x402 terms: one `exact` USDC requirement per
// accepted network, for v2 (PAYMENT-REQUIRED header) and v1 (JSON body).

import type { Network } from "../chains/index.ts";
import type { PaymentRequirements, PaymentRequirementsV1 } from "./protocol.ts";

export interface PayableNetwork {
  network: Network;
  payTo: string;
  /** Scheme extras the facilitator advertises (Solana: feePayer). */
  extra: Record<string, unknown>;
}

export interface PaymentTerms {
  resource: { url: string; description: string; mimeType: string };
  v2: PaymentRequirements[];
  v1: PaymentRequirementsV1[];
}

export function paymentTerms(options: {
  amount: bigint;
  networks: PayableNetwork[];
  resourceUrl: string;
  description: string;
  maxTimeoutSeconds: number;
}): PaymentTerms {
  const resource = { url: options.resourceUrl, description: options.description, mimeType: "application/json" };
  const v2 = options.networks.map(({ network, payTo, extra }) => ({
    scheme: "exact",
    network: network.caip2,
    asset: network.family === "evm" ? network.usdc.address : network.usdc.mint,
    amount: options.amount.toString(),
    payTo,
    maxTimeoutSeconds: options.maxTimeoutSeconds,
    extra: network.family === "evm" ? { name: network.usdc.name, version: network.usdc.version, ...extra } : { ...extra },
  })) as PaymentRequirements[];
  const v1 = v2.map((requirement, i) => ({
    scheme: requirement.scheme,
    network: options.networks[i].network.name,
    maxAmountRequired: requirement.amount,
    resource: resource.url,
    description: resource.description,
    mimeType: resource.mimeType,
    outputSchema: {},
    payTo: requirement.payTo,
    maxTimeoutSeconds: requirement.maxTimeoutSeconds,
    asset: requirement.asset,
    extra: requirement.extra,
  })) as unknown as PaymentRequirementsV1[];
  return { resource, v2, v1 };
}

/** The v2 PAYMENT-REQUIRED object and the v1-compatible body of a 402. */
export function paymentRequired(terms: PaymentTerms, error: string): { header: object; body: object } {
  return {
    header: { x402Version: 2, error, resource: terms.resource, accepts: terms.v2 },
    body: { x402Version: 1, error, accepts: terms.v1 },
  };
}
