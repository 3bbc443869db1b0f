// The payment rail of one gateway: which networks it accepts and where the
// money goes, the 402 challenge, and verify/settle through its facilitator
// with every refusal turned into a 402 that says why.

import { findNetwork, NETWORKS, type NetworkName } from "../chains/index.ts";
import { RetouchError } from "../errors.ts";
import type { AnyRequirements, Facilitator, SettleResponse } from "./facilitator/types.ts";
import { explainReason } from "./reasons.ts";
import { paymentRequired, paymentTerms, type PayableNetwork, type PaymentTerms } from "./requirements.ts";
import { encodeHeader, HEADERS, type ClientPayment } from "./protocol.ts";

export interface PaymentRail {
  readonly networks: PayableNetwork[];
  terms(amount: bigint, resourceUrl: string, description: string): PaymentTerms;
  /** A 402 carrying the terms and the reason. */
  refuse(terms: PaymentTerms, reason: string, code?: string): RetouchError;
  /** Our own requirement for the network the payment is on (never the client's copy). */
  select(payment: ClientPayment, terms: PaymentTerms): AnyRequirements;
  /** Verifies with the facilitator; returns the payer the facilitator vouches for. */
  verify(payment: ClientPayment, requirements: AnyRequirements, terms: PaymentTerms): Promise<string>;
  settle(payload: unknown, requirements: unknown): Promise<SettleResponse>;
  close(): Promise<void>;
}

export async function createPaymentRail(options: {
  facilitator: Facilitator;
  networks: NetworkName[];
  payTo: { evm?: string; solana?: string };
  maxTimeoutSeconds: number;
  onClose?: () => Promise<void>;
}): Promise<PaymentRail> {
  const { facilitator } = options;
  const supported = await facilitator.supported();
  const networks: PayableNetwork[] = options.networks.map((name) => {
    const network = NETWORKS[name];
    const kind = supported.kinds.find((k) => k.x402Version === 2 && k.scheme === "exact" && k.network === network.caip2);
    if (!kind) throw new Error(`the facilitator does not support exact payments on ${name} (${network.caip2})`);
    const payTo = network.family === "evm" ? options.payTo.evm : options.payTo.solana;
    if (!payTo) throw new Error(`no payTo address for ${name}`);
    return { network, payTo, extra: kind.extra ?? {} };
  });
  const accepted = networks.map((n) => n.network.name).join(", ");

  const refuse = (terms: PaymentTerms, reason: string, code = "payment_required") => {
    const { header, body } = paymentRequired(terms, reason);
    return new RetouchError(reason, {
      status: 402,
      type: "payment_required",
      code,
      headers: { [HEADERS.required]: encodeHeader(header) },
      body,
    });
  };

  return {
    networks,
    terms: (amount, resourceUrl, description) =>
      paymentTerms({ amount, networks, resourceUrl, description, maxTimeoutSeconds: options.maxTimeoutSeconds }),
    refuse,

    select(payment, terms) {
      const claimed = payment.version === 2 ? payment.payload.accepted.network : payment.payload.network;
      const network = findNetwork(claimed);
      const index = networks.findIndex((n) => n.network === network);
      if (index < 0) throw refuse(terms, `payment is on network "${claimed}", which this server does not accept; accepted: ${accepted}`, "network_not_accepted");
      if (payment.version === 1) return terms.v1[index];
      const ours = terms.v2[index];
      const theirs = payment.payload.accepted;
      for (const field of ["scheme", "asset", "payTo", "amount"] as const) {
        if (String(theirs[field]).toLowerCase() !== String(ours[field]).toLowerCase()) {
          throw refuse(terms, `payment ${field} is ${theirs[field]} but this edit requires ${ours[field]}`, `wrong_${field.toLowerCase()}`);
        }
      }
      return ours;
    },

    async verify(payment, requirements, terms) {
      let result;
      try {
        result = await facilitator.verify(payment.payload, requirements);
      } catch (error) {
        throw new RetouchError(`the payment facilitator could not be reached: ${(error as Error).message}`, {
          status: 502,
          type: "upstream_error",
          code: "facilitator_unavailable",
          cause: error,
        });
      }
      if (!result.isValid || !result.payer) {
        throw refuse(terms, `payment refused: ${explainReason(result.invalidReason, result.invalidMessage)}`, result.invalidReason ?? "payment_invalid");
      }
      return result.payer;
    },

    settle: (payload, requirements) => facilitator.settle(payload as never, requirements as never),
    close: async () => {
      await facilitator.close?.();
      await options.onClose?.();
    },
  };
}
