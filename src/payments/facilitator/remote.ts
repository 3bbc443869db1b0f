// A remote x402 facilitator over HTTP, whatever authenticates it: the one adapter
// behind RETOUCH_FACILITATOR=url, cdp and payai (see kinds.ts).

import { HTTPFacilitatorClient, type FacilitatorConfig } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { SettleError, VerifyError } from "@x402/core/types";
import { ConfigError } from "../../config.ts";
import type { Facilitator } from "./types.ts";

export interface RemoteFacilitatorOptions {
  /** What `HTTPFacilitatorClient` takes: the base URL and the headers of each call (auth). */
  config: FacilitatorConfig;
  /** The start-up line when the facilitator refuses our credentials with this status (401/403). */
  refused: (status: number) => string;
  /** The start-up line when the credentials cannot even be turned into headers (a malformed key). */
  unusableKey?: string;
  timeoutMs?: number;
}

export function remoteFacilitator(options: RemoteFacilitatorOptions): Facilitator {
  const { createAuthHeaders } = options.config;
  const client = new HTTPFacilitatorClient({
    ...options.config,
    timeoutMs: options.timeoutMs ?? 90_000,
    // The SDKs' own errors about a key are not for users; and they must never carry the key.
    createAuthHeaders:
      createAuthHeaders &&
      (() =>
        createAuthHeaders().catch(() => {
          throw new ConfigError(options.unusableKey ?? "the facilitator's credentials could not be turned into request headers");
        })),
  });
  // A 401/403 is our credentials refused (at start-up, or a key revoked while running): said in the
  // provider's words, naming the variables to check. HTTPFacilitatorClient keeps the status only in its message.
  const credentialsRefused = (error: unknown): unknown => {
    const status = Number(/^Facilitator (?:verify|settle|getSupported) failed \((\d{3})\)/.exec((error as Error)?.message ?? "")?.[1]);
    return status === 401 || status === 403 ? new ConfigError(options.refused(status)) : error;
  };
  // A facilitator may refuse with a 4xx/5xx status and a verify or settle answer as its body:
  // that is an answer (a refusal with its reason), not a facilitator that could not be reached.
  return {
    async verify(payload, requirements) {
      try {
        return await client.verify(payload as PaymentPayload, requirements as PaymentRequirements);
      } catch (error) {
        if (!(error instanceof VerifyError)) throw credentialsRefused(error);
        return { isValid: false, invalidReason: error.invalidReason, invalidMessage: error.invalidMessage, payer: error.payer };
      }
    },
    async settle(payload, requirements) {
      try {
        return await client.settle(payload as PaymentPayload, requirements as PaymentRequirements);
      } catch (error) {
        if (!(error instanceof SettleError)) throw credentialsRefused(error);
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
    async supported() {
      try {
        return await client.getSupported();
      } catch (error) {
        throw credentialsRefused(error);
      }
    },
  };
}
