// Coinbase's CDP facilitator (RETOUCH_FACILITATOR=cdp): every call carries a fresh
// two-minute JWT signed with the seller's CDP API key, made by @coinbase/x402.

import { createFacilitatorConfig } from "@coinbase/x402";
import type { RemoteFacilitatorOptions } from "./remote.ts";

export function cdpFacilitatorOptions(settings: { url?: string; apiKeyId: string; apiKeySecret: string }): RemoteFacilitatorOptions {
  const config = createFacilitatorConfig(settings.apiKeyId, settings.apiKeySecret);
  return {
    // The JWT names api.cdp.coinbase.com whatever the URL: an override is for a proxy or a test.
    config: { ...config, url: settings.url ?? config.url },
    refused: (status) => `the CDP facilitator refused the API key (${status}): check CDP_API_KEY_ID and CDP_API_KEY_SECRET`,
    unusableKey: "CDP_API_KEY_SECRET is not a key the CDP SDK can sign with: it takes the EC P-256 PEM or the base64 Ed25519 key of a CDP secret API key",
  };
}
