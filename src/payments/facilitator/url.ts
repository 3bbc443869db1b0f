// Any x402 facilitator at FACILITATOR_URL (RETOUCH_FACILITATOR=url), with the same
// static FACILITATOR_HEADERS on every call.

import type { RemoteFacilitatorOptions } from "./remote.ts";

export function urlFacilitatorOptions(settings: { url: string; headers: Record<string, string> }): RemoteFacilitatorOptions {
  const { headers } = settings;
  return {
    config: { url: settings.url, createAuthHeaders: async () => ({ verify: headers, settle: headers, supported: headers }) },
    refused: (status) => `the facilitator at ${settings.url} refused the request (${status}): check FACILITATOR_HEADERS`,
  };
}
