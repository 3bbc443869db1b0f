// What a caller must pay, in x402 terms: one `exact` USDC requirement per
// accepted network, for v2 (PAYMENT-REQUIRED header) and v1 (JSON body), and
// what a catalog may list about the resource (name, tags, x402 extensions).

import type { Network } from "../chains/index.ts";
import type { PaymentRequirements, PaymentRequirementsV1 } from "./protocol.ts";

export interface PayableNetwork {
  network: Network;
  payTo: string;
  /** Scheme extras the facilitator advertises (Solana: feePayer). */
  extra: Record<string, unknown>;
}

/**
 * What a 402 says about a resource beyond its price: the listing a discovery catalog shows
 * (x402 `resource.serviceName`, `tags`, `iconUrl`), the extensions the server declares, and v1's
 * discovery field (`outputSchema` of each requirement).
 */
export interface ResourceOffer {
  description: string;
  listing?: { serviceName: string; tags?: string[]; iconUrl?: string };
  extensions?: Record<string, unknown>;
  v1OutputSchema?: Record<string, unknown>;
}

export interface PaymentTerms {
  resource: { url: string; description: string; mimeType: string; serviceName?: string; tags?: string[]; iconUrl?: string };
  v2: PaymentRequirements[];
  v1: PaymentRequirementsV1[];
  extensions?: Record<string, unknown>;
}

export function paymentTerms(options: {
  amount: bigint;
  networks: PayableNetwork[];
  resourceUrl: string;
  offer: ResourceOffer;
  maxTimeoutSeconds: number;
}): PaymentTerms {
  const { offer } = options;
  const resource = { url: options.resourceUrl, description: offer.description, mimeType: "application/json", ...offer.listing };
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
    outputSchema: offer.v1OutputSchema ?? {},
    payTo: requirement.payTo,
    maxTimeoutSeconds: requirement.maxTimeoutSeconds,
    asset: requirement.asset,
    extra: requirement.extra,
  })) as unknown as PaymentRequirementsV1[];
  return { resource, v2, v1, ...(offer.extensions ? { extensions: offer.extensions } : {}) };
}

/** The v2 PAYMENT-REQUIRED object and the v1-compatible body of a 402. */
export function paymentRequired(terms: PaymentTerms, error: string): { header: object; body: object } {
  const extensions = terms.extensions ? { extensions: terms.extensions } : {};
  return {
    header: { x402Version: 2, error, resource: terms.resource, accepts: terms.v2, ...extensions },
    body: { x402Version: 1, error, accepts: terms.v1 },
  };
}
