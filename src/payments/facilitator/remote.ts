// A remote x402 facilitator over HTTP (production: FACILITATOR_URL), with
// optional auth headers sent on every call.

import { HTTPFacilitatorClient } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { SettleError, VerifyError } from "@x402/core/types";
import type { Facilitator } from "./types.ts";

export function remoteFacilitator(options: { url: string; headers: Record<string, string>; timeoutMs?: number }): Facilitator {
  const headers = options.headers;
  const client = new HTTPFacilitatorClient({
    url: options.url,
    timeoutMs: options.timeoutMs ?? 90_000,
    createAuthHeaders: async () => ({ verify: headers, settle: headers, supported: headers }),
  });
  // A facilitator may refuse with a 4xx/5xx status and a verify or settle answer as its body:
  // that is an answer (a refusal with its reason), not a facilitator that could not be reached.
  return {
    async verify(payload, requirements) {
      try {
        return await client.verify(payload as PaymentPayload, requirements as PaymentRequirements);
      } catch (error) {
        if (!(error instanceof VerifyError)) throw error;
        return { isValid: false, invalidReason: error.invalidReason, invalidMessage: error.invalidMessage, payer: error.payer };
      }
    },
    async settle(payload, requirements) {
      try {
        return await client.settle(payload as PaymentPayload, requirements as PaymentRequirements);
      } catch (error) {
        if (!(error instanceof SettleError)) throw error;
        return {
          success: false,
          errorReason: error.errorReason,
          errorMessage: error.errorMessage,
          payer: error.payer,
          transaction: error.transaction ?? "",
          network: error.network,
        };
      }
    },
    supported: () => client.getSupported(),
  };
}
