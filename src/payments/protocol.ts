// x402 on the wire: header names, base64 JSON codecs, and the shapes of the
// payment payloads a client may send (v2 PAYMENT-SIGNATURE, v1 X-PAYMENT).
// Decoding checks shape only; whether a payment is good is the facilitator's call.

import { z } from "zod";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import type { PaymentPayloadV1, PaymentRequirementsV1 } from "@x402/core/types/v1";

export type { PaymentPayload, PaymentRequirements, PaymentPayloadV1, PaymentRequirementsV1 };

export const HEADERS = {
  required: "PAYMENT-REQUIRED",
  signatureV2: "PAYMENT-SIGNATURE",
  paymentV1: "X-PAYMENT",
  responseV2: "PAYMENT-RESPONSE",
  responseV1: "X-PAYMENT-RESPONSE",
  receipt: "X-Payment-Receipt",
} as const;

/** The largest payment header we read; real ones are ~1-2 KB. */
const MAX_HEADER_CHARS = 16_384;

export function encodeHeader(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64");
}

const requirementsV2 = z.object({
  scheme: z.string(),
  network: z.string(),
  asset: z.string(),
  amount: z.string(),
  payTo: z.string(),
  maxTimeoutSeconds: z.number(),
  extra: z.record(z.string(), z.unknown()).default({}),
});

const payloadV2 = z.object({
  x402Version: z.literal(2),
  resource: z.object({ url: z.string() }).passthrough().optional(),
  accepted: requirementsV2,
  payload: z.record(z.string(), z.unknown()),
  extensions: z.record(z.string(), z.unknown()).optional(),
});

const payloadV1 = z.object({
  x402Version: z.literal(1),
  scheme: z.string(),
  network: z.string(),
  payload: z.record(z.string(), z.unknown()),
});

export type ClientPayment =
  | { version: 2; payload: PaymentPayload }
  | { version: 1; payload: PaymentPayloadV1 };

export class MalformedPaymentError extends Error {
  override name = "MalformedPaymentError";
}

/** Reads the payment header of a request, if any. Throws MalformedPaymentError on garbage. */
export function readPaymentHeader(headers: Headers): ClientPayment | undefined {
  const v2 = headers.get(HEADERS.signatureV2);
  if (v2) return { version: 2, payload: decode(v2, HEADERS.signatureV2, payloadV2) as PaymentPayload };
  const v1 = headers.get(HEADERS.paymentV1);
  if (v1) return { version: 1, payload: decode(v1, HEADERS.paymentV1, payloadV1) as PaymentPayloadV1 };
  return undefined;
}

function decode(value: string, name: string, schema: z.ZodType): unknown {
  if (value.length > MAX_HEADER_CHARS) throw new MalformedPaymentError(`${name} header is longer than ${MAX_HEADER_CHARS} characters`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value, "base64").toString("utf8"));
  } catch {
    throw new MalformedPaymentError(`${name} header is not base64-encoded JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MalformedPaymentError(`${name} header is not an x402 payment: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return parsed.data;
}
