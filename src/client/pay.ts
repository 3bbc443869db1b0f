// Pays for one gateway request the x402 way: send, read the 402 quote, let the caller
// refuse it BEFORE anything is signed, check the caps against every payment signed so
// far, sign ONE payment for the accepted offer (logged in the spend ledger as it is
// signed, and kept as pending before it is sent), then follow it to a final answer.

import { createHash } from "node:crypto";
import { encodePaymentSignatureHeader } from "@x402/core/http";
import { appendPaymentIdentifierToExtensions, generatePaymentId, PAYMENT_IDENTIFIER } from "@x402/extensions/payment-identifier";
import { CliError, EXIT } from "./errors.ts";
import { offersIn, paymentRequired, reach, rpcUrlFor, type Offer, type RpcFlags } from "./gateway.ts";
import { RESUME_HINT, sendSigned, type PaidAnswer } from "./paid-answer.ts";
import { chooseOffer, clientFor, quoteOf } from "./paying.ts";
import { expiryOf, pendingDir, recordPending, removePending, type PendingPayment } from "./pending.ts";
import { offersWithinCaps, spendCaps, type SpendCaps } from "./spend-caps.ts";
import { SpendLedger, spendLogPath, type SpendTool } from "./spend-ledger.ts";
import { ensureStateFolder } from "./state-folder.ts";
import type { Wallet } from "./wallet-file.ts";

export { networkName } from "./paying.ts";
export { POLL_INTERVAL_MS } from "./paid-answer.ts";

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
  /** The buyer tool that signs, as the spend log names it; default "edit". */
  tool?: SpendTool;
  /** Default: RETOUCH_MAX_PER_REQUEST / RETOUCH_MAX_PER_DAY from `env`. */
  caps?: SpendCaps;
  /** Default: RETOUCH_SPEND_LOG, else spend.jsonl in the state folder. */
  spendLog?: string;
  /** Default: pending/ in the state folder (RETOUCH_HOME, ~/.retouch). */
  pendingDir?: string;
  /** The model (spend log, file names) and where results go, kept with the pending payment for `--resume`. */
  about?: { model?: string; outDir?: string };
  /**
   * The payment identifier of this logical request (x402 payment-identifier extension), sent when the
   * gateway declares the extension: a payment signed again with the same id gets the first answer and
   * is never charged twice. Default: a new one.
   */
  paymentId?: string;
  /**
   * Keep the pending record after a final result until `pending.done()` is called
   * (once the result is saved). Default: removed when the final answer arrives.
   */
  keepPendingUntilSaved?: boolean;
}

export interface PaidResponse {
  /** The final answer: 200 with the result, or the gateway's error; never a 202. */
  response: Response;
  /** The offer that was signed, or undefined when the gateway did not ask for payment. */
  offer?: Offer;
  /** The payment identifier the payment carried (when the gateway declares the extension). */
  paymentId?: string;
  /** The pending payment while it is kept (see keepPendingUntilSaved): `done()` removes it. */
  pending?: { record: PendingPayment; done(): Promise<void> };
}

/**
 * @example
 * const { response, offer } = await paidRequest({ url, init, gateway, wallet, rpc: {}, env, accept: (o) => o, pollLimitMs: 60_000, tool: "edit" });
 */
export async function paidRequest(params: PaidRequestParams): Promise<PaidResponse> {
  const noRedirect = (headers?: Record<string, string>): RequestInit => ({ ...params.init(headers), redirect: "manual" });
  const challenge = await reach(params.url, noRedirect());
  if (challenge.status === 202) {
    await challenge.arrayBuffer();
    throw new CliError(`the gateway ${new URL(params.gateway).origin} answered 202 to an unpaid request`, EXIT.editFailed);
  }
  if (challenge.status !== 402) return { response: challenge };
  const required = paymentRequired(challenge);
  await challenge.arrayBuffer();
  const { network } = params;
  const offers = offersIn(required).filter((o) => !network || o.network.name === network || o.network.caip2 === network);
  if (offers.length === 0) {
    const named = network ? ` on ${network}` : " on a network retouch knows";
    throw new CliError(`the gateway does not take payment${named} (it offers ${required.accepts.map((a) => a.network).join(", ")})`, EXIT.usage);
  }
  const acceptable = await params.accept(offers);
  await ensureStateFolder(params.env);
  const caps = params.caps ?? spendCaps(params.env);
  const ledger = await SpendLedger.open(params.spendLog ?? spendLogPath(params.env));
  const withinCaps = offersWithinCaps(acceptable, caps, await ledger.spentToday());
  const rpcUrl = (offer: Offer) => rpcUrlFor(offer.network, params.gateway, params.rpc, params.env);
  const offer = await chooseOffer({ offers: withinCaps, wallet: params.wallet, network, rpcUrl });
  const client = clientFor(offer, params.wallet, rpcUrl(offer));

  const request = params.init();
  const body = typeof request.body === "string" ? request.body : "";
  const method = request.method ?? "GET";
  const fingerprint = createHash("sha256").update(`${method} ${params.url}\n`).update(body).digest("hex");
  const { requirements } = offer;
  const paymentId = required.extensions?.[PAYMENT_IDENTIFIER] ? (params.paymentId ?? generatePaymentId()) : undefined;
  // A copy: appending the id writes into the extension's info.
  const extensions = paymentId ? appendPaymentIdentifierToExtensions(structuredClone(required.extensions!), paymentId) : required.extensions;
  const signedAt = new Date();
  const payload = await ledger.record({
    caps,
    spend: {
      tool: params.tool ?? "edit",
      amount: quoteOf(offer).toString(),
      network: offer.network.caip2,
      pay_to: requirements.payTo,
      asset: requirements.asset,
      fingerprint,
      gateway: new URL(params.gateway).origin,
      ...(params.about?.model ? { model: params.about.model } : {}),
    },
    sign: async () => {
      try {
        return await client.createPaymentPayload({ ...required, ...(extensions ? { extensions } : {}), accepts: [requirements] });
      } catch (error) {
        throw new CliError(`could not sign the payment on ${offer.network.name}: ${(error as Error).message}`, EXIT.payment, { cause: error });
      }
    },
  });
  const header = encodePaymentSignatureHeader(payload);

  const dir = params.pendingDir ?? pendingDir(params.env);
  const record = await recordPending(dir, {
    created: signedAt.toISOString(),
    expires: expiryOf(payload.payload, requirements.maxTimeoutSeconds, signedAt).toISOString(),
    tool: params.tool ?? "edit",
    gateway: params.gateway,
    url: params.url,
    method,
    headers: Object.fromEntries(new Headers(request.headers).entries()),
    body,
    fingerprint,
    payment: header,
    ...(paymentId ? { paymentId } : {}),
    offer: { network: offer.network.caip2, amount: requirements.amount, payTo: requirements.payTo, asset: requirements.asset, maxTimeoutSeconds: requirements.maxTimeoutSeconds },
    ...params.about,
  });
  const done = () => removePending(dir, record.id);

  const stop = params.onPaying?.(offer);
  let answer: PaidAnswer;
  try {
    answer = await sendSigned({
      url: params.url,
      init: request,
      payment: header,
      gateway: params.gateway,
      wallet: params.wallet,
      network: offer.network,
      pollIntervalMs: params.pollIntervalMs,
      pollLimitMs: params.pollLimitMs,
    });
  } catch (error) {
    if (error instanceof CliError && error.exitCode === EXIT.unreachable) {
      throw new CliError(`${error.message}; the signed payment is kept: ${RESUME_HINT}`, EXIT.unreachable, { cause: error, code: error.code });
    }
    throw error;
  } finally {
    stop?.();
  }
  if (answer.state === "not_charged" || (answer.state === "result" && !params.keepPendingUntilSaved)) await done();
  const kept = answer.state === "result" && params.keepPendingUntilSaved;
  return { response: answer.response, offer, ...(paymentId ? { paymentId } : {}), ...(kept ? { pending: { record, done } } : {}) };
}
