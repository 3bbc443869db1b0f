// PayAI's facilitator (RETOUCH_FACILITATOR=payai): with an API key every call carries
// an EdDSA JWT made by @payai/facilitator; without one, PayAI's free tier.

import { createFacilitatorConfig } from "@payai/facilitator";
import type { RemoteFacilitatorOptions } from "./remote.ts";

export function payaiFacilitatorOptions(settings: { url?: string; apiKey?: { id: string; secret: string } }): RemoteFacilitatorOptions {
  // Empty strings, not undefined: the package would otherwise read process.env behind the config's back.
  const config = createFacilitatorConfig(settings.apiKey?.id ?? "", settings.apiKey?.secret ?? "");
  return {
    config: { ...config, url: settings.url ?? config.url },
    refused: (status) =>
      settings.apiKey
        ? `the PayAI facilitator refused the API key (${status}): check PAYAI_API_KEY_ID and PAYAI_API_KEY_SECRET`
        : `the PayAI facilitator refused a request without an API key (${status}): set PAYAI_API_KEY_ID and PAYAI_API_KEY_SECRET`,
    unusableKey: "PAYAI_API_KEY_SECRET is not a key PayAI can sign with: it takes the base64 Ed25519 PKCS#8 key (payai_sk_...) of a PayAI API key",
  };
}
