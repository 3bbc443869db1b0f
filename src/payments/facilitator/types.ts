// The facilitator port: verifies and settles payments. In-process on the
// devchain, or a remote HTTP facilitator in production.

import type { SettleResponse, SupportedResponse, VerifyResponse } from "@x402/core/types";
import type { PaymentPayload, PaymentPayloadV1, PaymentRequirements, PaymentRequirementsV1 } from "../protocol.ts";

export type AnyPayload = PaymentPayload | PaymentPayloadV1;
export type AnyRequirements = PaymentRequirements | PaymentRequirementsV1;

export interface Facilitator {
  verify(payload: AnyPayload, requirements: AnyRequirements): Promise<VerifyResponse>;
  settle(payload: AnyPayload, requirements: AnyRequirements): Promise<SettleResponse>;
  supported(): Promise<SupportedResponse>;
  close?(): Promise<void>;
}

export type { SettleResponse, SupportedResponse, VerifyResponse };
