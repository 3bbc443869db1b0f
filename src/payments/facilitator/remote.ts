// A remote x402 facilitator over HTTP (production: FACILITATOR_URL), with
// optional auth headers sent on every call.

import { HTTPFacilitatorClient } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import type { Facilitator } from "./types.ts";

export function remoteFacilitator(options: { url: string; headers: Record<string, string>; timeoutMs?: number }): Facilitator {
  const headers = options.headers;
  const client = new HTTPFacilitatorClient({
    url: options.url,
    timeoutMs: options.timeoutMs ?? 90_000,
    createAuthHeaders: async () => ({ verify: headers, settle: headers, supported: headers }),
  });
  return {
    verify: (payload, requirements) => client.verify(payload as PaymentPayload, requirements as PaymentRequirements),
    settle: (payload, requirements) => client.settle(payload as PaymentPayload, requirements as PaymentRequirements),
    supported: () => client.getSupported(),
  };
}
