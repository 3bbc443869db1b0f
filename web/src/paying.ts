// Pays for an edit with x402's own client and follows it to its result: the
// quote's 402 becomes a signed payment for the chosen wallet's network, a 202
// is polled with Sign-In-With-X from the same wallet (never paid twice), and
// the settlement is read from PAYMENT-RESPONSE.

import { x402Client, x402HTTPClient } from "@x402/core/client";
import type { PaymentRequired, SettleResponse } from "@x402/core/types";
import { challengeIn, SIWX_HEADER, signPollChallenge, type SiwxChallenge } from "../../src/client/siwx.ts";
import { apiError, sendEdit, type EditBody } from "./api.ts";
import type { PayingWallet } from "./wallets.ts";

export * from "./wallets.ts";

export interface Quote {
  required: PaymentRequired;
  /** Atomic USDC (6 decimals) by CAIP-2 network. */
  amounts: Map<string, bigint>;
}

/** Reads the 402's offer through x402's client, as a wallet will sign it. */
export async function readQuote(response: Response): Promise<Quote> {
  const body = await response.json().catch(() => undefined);
  const required = new x402HTTPClient(new x402Client()).getPaymentRequiredResponse((name) => response.headers.get(name), body);
  const amounts = new Map<string, bigint>();
  for (const accept of required.accepts) {
    if (accept.scheme === "exact" && /^\d+$/.test(String(accept.amount))) amounts.set(String(accept.network), BigInt(accept.amount));
  }
  return { required, amounts };
}

export interface Paid {
  response: Response;
  settlement?: SettleResponse;
}

/** Signs the quote with `wallet` and sends the edit; follows a 202 until the result. */
export async function payAndSend(body: EditBody, quote: Quote, wallet: PayingWallet, onState: (state: string) => void): Promise<Paid> {
  const http = new x402HTTPClient(new x402Client().register(wallet.network as `${string}:${string}`, wallet.scheme()));
  onState(`Waiting for ${wallet.label} to sign the payment`);
  const payload = await http.createPaymentPayload(quote.required);
  onState("Editing");
  let response = await sendEdit(body, http.encodePaymentSignatureHeader(payload));
  if (response.status === 202) response = await followJob(response, wallet, onState);
  const receipt = response.headers.get("PAYMENT-RESPONSE");
  return { response, settlement: receipt && response.ok ? http.getPaymentSettleResponse((name) => response.headers.get(name)) : undefined };
}

/** A 202's poll URL, polled with a fresh sign-in each time until the job is final. */
async function followJob(accepted: Response, wallet: PayingWallet, onState: (state: string) => void): Promise<Response> {
  const job = (await accepted.json()) as { poll_url?: string };
  if (!job.poll_url || new URL(job.poll_url, location.href).origin !== location.origin) throw new Error("the gateway answered 202 without a poll URL of its own");
  const pollUrl = new URL(job.poll_url, location.href).href;
  let challenge: SiwxChallenge | undefined = challengeIn(accepted.headers, job);
  let refused = 0;
  for (;;) {
    onState("Editing (a slow edit: following it)");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const headers: Record<string, string> = {};
    if (challenge) headers[SIWX_HEADER] = await signPollChallenge({ challenge, gateway: location.origin, pollUrl, signer: wallet.siwx, network: { caip2: wallet.network, family: wallet.kind === "solana" ? "svm" : "evm" } as Parameters<typeof signPollChallenge>[0]["network"] });
    const response = await fetch(pollUrl, { headers });
    if (response.status === 202 || response.status === 401 || response.status === 402) {
      const body = await response.clone().json().catch(() => undefined);
      challenge = challengeIn(response.headers, body);
      if (response.status !== 202 && (!challenge || ++refused >= 3)) throw await apiError(response);
      continue;
    }
    return response;
  }
}
