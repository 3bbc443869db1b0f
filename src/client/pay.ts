// Pays for one gateway request the x402 way: send, read the 402 quote, let the caller
// refuse it BEFORE anything is signed, sign on one network, and follow a 202 to the end.

import { encodePaymentSignatureHeader } from "@x402/core/http";
import type { x402Client } from "@x402/core/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { NETWORKS } from "../chains/index.ts";
import { CliError, EXIT } from "./errors.ts";
import { offersIn, paymentRequired, reach, rpcUrlFor, type Offer, type RpcFlags } from "./gateway.ts";
import { chooseOffer, clientFor } from "./paying.ts";
import type { Wallet } from "./wallet-file.ts";

export const POLL_INTERVAL_MS = 2000;

export interface PaidRequestParams {
  url: string;
  /** The same request each time it is sent, with extra headers (the payment) added. */
  init(headers?: Record<string, string>): RequestInit;
  gateway: string;
  wallet: Wallet;
  /** Pay on this network only (name such as "base", or CAIP-2). */
  network?: string;
  rpc: RpcFlags;
  env: NodeJS.ProcessEnv;
  /** The offers the caller accepts to pay; it throws to refuse them all. Nothing is signed before it returns. */
  accept(offers: Offer[]): Offer[] | Promise<Offer[]>;
  /** Called once the payment is signed; its return value is called when the answer is final (a spinner's stop). */
  onPaying?(offer: Offer): (() => void) | void;
  pollIntervalMs?: number;
  pollLimitMs: number;
}

export interface PaidResponse {
  /** The final answer: 200 with the result, or the gateway's error; never a 202. */
  response: Response;
  /** The offer that was signed, or undefined when the gateway did not ask for payment. */
  offer?: Offer;
}

/**
 * @example
 * const { response, offer } = await paidRequest({ url, init, gateway, wallet, rpc: {}, env, accept: (o) => o, pollLimitMs: 60_000 });
 */
export async function paidRequest(params: PaidRequestParams): Promise<PaidResponse> {
  const challenge = await reach(params.url, params.init());
  if (challenge.status !== 402) return { response: await settled(challenge, undefined, params) };
  const required = paymentRequired(challenge);
  await challenge.arrayBuffer();
  const { network } = params;
  const offers = offersIn(required).filter((o) => !network || o.network.name === network || o.network.caip2 === network);
  if (offers.length === 0) {
    const named = network ? ` on ${network}` : " on a network retouch knows";
    throw new CliError(`the gateway does not take payment${named} (it offers ${required.accepts.map((a) => a.network).join(", ")})`, EXIT.usage);
  }
  const acceptable = await params.accept(offers);
  const rpcUrl = (offer: Offer) => rpcUrlFor(offer.network, params.gateway, params.rpc, params.env);
  const offer = await chooseOffer({ offers: acceptable, wallet: params.wallet, network, rpcUrl });
  const client = clientFor(offer, params.wallet, rpcUrl(offer));
  let header: string;
  try {
    header = encodePaymentSignatureHeader(await client.createPaymentPayload({ ...required, accepts: [offer.requirements] }));
  } catch (error) {
    throw new CliError(`could not sign the payment on ${offer.network.name}: ${(error as Error).message}`, EXIT.payment, { cause: error });
  }
  const done = params.onPaying?.(offer);
  try {
    const paid = await reach(params.url, params.init({ "PAYMENT-SIGNATURE": header }));
    return { response: await settled(paid, client, params), offer };
  } finally {
    done?.();
  }
}

/** A 202 is followed to its end; anything else is already final. */
async function settled(response: Response, client: x402Client | undefined, params: PaidRequestParams): Promise<Response> {
  if (response.status !== 202) return response;
  const job = (await response.json()) as { poll_url?: string };
  if (!job.poll_url) throw new CliError("the gateway answered 202 without a poll_url", EXIT.editFailed);
  if (!client) throw new CliError("the gateway answered 202 to an unpaid request", EXIT.editFailed);
  return poll(job.poll_url, client, params);
}

/** Polls a slow edit's poll_url; each GET carries a fresh payment header proving the same wallet. */
async function poll(pollUrl: string, client: x402Client, params: PaidRequestParams): Promise<Response> {
  const payingFetch = wrapFetchWithPayment(fetch, client);
  const started = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, params.pollIntervalMs ?? POLL_INTERVAL_MS));
    const response = await reach(pollUrl, { method: "GET" }, payingFetch);
    if (response.status !== 202) return response;
    await response.arrayBuffer();
    if (Date.now() - started > params.pollLimitMs) {
      throw new CliError(`the edit is still running after ${Math.round(params.pollLimitMs / 60_000)} min; poll ${pollUrl} later`, EXIT.editFailed);
    }
  }
}

export function networkName(network: string): string {
  return Object.values(NETWORKS).find((n) => n.caip2 === network)?.name ?? network;
}
