// The payment rail of one gateway: which networks it accepts and where the
// money goes, the 402 challenge, and verify/settle through its facilitator
// with every refusal turned into a 402 that says why.

import { findNetwork, NETWORKS, type NetworkName } from "../chains/index.ts";
import { RetouchError } from "../errors.ts";
import type { AnyPayload, AnyRequirements, Facilitator, SettleResponse } from "./facilitator/types.ts";
import { explainReason } from "./reasons.ts";
import { paymentRequired, paymentTerms, type PayableNetwork, type PaymentTerms, type ResourceOffer } from "./requirements.ts";
import { encodeHeader, HEADERS, type ClientPayment } from "./protocol.ts";
import type { OnChain, SettlementProbe } from "./settlement-probe.ts";
import { feeRefusal, readSolanaPayment, SolanaTransactionError, type SolanaFeeLimits } from "./solana-transaction.ts";

export interface PaymentRail {
  readonly networks: PayableNetwork[];
  /** The terms of one resource: `offer` is its description, or that and what a catalog may list about it. */
  terms(amount: bigint, resourceUrl: string, offer: string | ResourceOffer): PaymentTerms;
  /** A 402 carrying the terms and the reason. */
  refuse(terms: PaymentTerms, reason: string, code?: string): RetouchError;
  /**
   * Our own requirement for the network the payment is on (never the client's copy),
   * after checking the payment against it, and a Solana payment's fees against the limits.
   */
  select(payment: ClientPayment, terms: PaymentTerms): AnyRequirements;
  /** Verifies with the facilitator; returns the payer the facilitator vouches for. */
  verify(payment: ClientPayment, requirements: AnyRequirements, terms: PaymentTerms): Promise<string>;
  /** Settles through the facilitator; rejects when it has not answered within the settle timeout. */
  settle(payload: unknown, requirements: unknown): Promise<SettleResponse>;
  /** What the chain says about a payment (unknown where this server has no view of that chain). */
  onChain(payload: unknown, network: string): Promise<OnChain>;
  close(): Promise<void>;
}

/** The facilitator has not answered a settlement within the settle timeout. */
export class SettleTimeout extends Error {
  override name = "SettleTimeout";
  constructor(ms: number) {
    super(`the facilitator did not answer within ${ms} ms`);
  }
}

export async function createPaymentRail(options: {
  facilitator: Facilitator;
  networks: NetworkName[];
  payTo: { evm?: string; solana?: string };
  maxTimeoutSeconds: number;
  /** What the Solana fee payer covers per payment; a transaction asking more is refused before it is verified. */
  solanaFees: SolanaFeeLimits;
  /** A settlement the facilitator has not answered by then is looked up on chain instead. */
  settleTimeoutMs: number;
  /** Chain access per CAIP-2 network, to learn what happened to a settlement without an answer. */
  probes?: Record<string, SettlementProbe>;
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

  function checkSolanaFees(payment: ClientPayment, terms: PaymentTerms): void {
    const transaction = payment.payload.payload.transaction;
    let refusal;
    try {
      refusal = typeof transaction === "string" ? feeRefusal(readSolanaPayment(transaction), options.solanaFees) : undefined;
    } catch (error) {
      if (!(error instanceof SolanaTransactionError)) throw error;
      throw refuse(terms, `invalid payment: ${error.message}`, "invalid_payment");
    }
    if (refusal) throw refuse(terms, refusal, "fee_too_high");
  }

  return {
    networks,
    terms: (amount, resourceUrl, offer) =>
      paymentTerms({
        amount,
        networks,
        resourceUrl,
        offer: typeof offer === "string" ? { description: offer } : offer,
        maxTimeoutSeconds: options.maxTimeoutSeconds,
      }),
    refuse,

    select(payment, terms) {
      const claimed = payment.version === 2 ? payment.payload.accepted.network : payment.payload.network;
      const network = findNetwork(claimed);
      const index = networks.findIndex((n) => n.network === network);
      if (index < 0) throw refuse(terms, `payment is on network "${claimed}", which this server does not accept; accepted: ${accepted}`, "network_not_accepted");
      if (networks[index].network.family === "svm") checkSolanaFees(payment, terms);
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
        // Its words stay in the log (through `cause`): they are about our facilitator, not the client's payment.
        throw new RetouchError("the payment facilitator could not be reached; nothing was charged, try again shortly", {
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

    async settle(payload, requirements) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SettleTimeout(options.settleTimeoutMs)), options.settleTimeoutMs);
      });
      try {
        return await Promise.race([facilitator.settle(payload as never, requirements as never), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    async onChain(payload, network) {
      const probe = options.probes?.[network];
      if (!probe) return { state: "unknown", why: `this server has no RPC access to ${network}` };
      return probe.check(payload as AnyPayload);
    },
    close: async () => {
      await facilitator.close?.();
      await options.onClose?.();
    },
  };
}
