// `retouch edit`: checks the pictures, asks the gateway for a quote, refuses a quote
// above --max-price, pays on one network, waits for a slow edit, saves the results.
// Every refusal before the payment is signed leaves the wallet untouched.

import { encodePaymentSignatureHeader } from "@x402/core/http";
import type { x402Client } from "@x402/core/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { parseUnits } from "viem";
import { NETWORKS } from "../chains/index.ts";
import { CliError, EXIT } from "./errors.ts";
import { EDIT_PATH, gatewayUrl, offersIn, paymentRequired, reach, rpcUrlFor, type Offer, type RpcFlags } from "./gateway.ts";
import { loadInputImage } from "./inputs.ts";
import { chooseOffer, clientFor, quoteOf, usd } from "./paying.ts";
import { saveResults, type SavedImage } from "./results.ts";
import { startSpinner } from "./spinner.ts";
import { expandHome, loadWalletFile, walletPath } from "./wallet-file.ts";

export const POLL_INTERVAL_MS = 2000;
const POLL_LIMIT_MS = 30 * 60_000;

export interface EditOptions extends RpcFlags {
  image: string[];
  mask?: string;
  model?: string;
  size?: string;
  n?: string | number;
  out?: string;
  /** USD; default 1. */
  maxPrice?: string;
  network?: string;
  gateway?: string;
  wallet?: string;
  json?: boolean;
  prompt: string;
  env?: NodeJS.ProcessEnv;
  print?: (line: string) => void;
}

export interface EditOutcome {
  files: string[];
  urls: string[];
  price: { amount: string; currency: "USD" } | null;
  payment: { network: string; tx_hash: string; status: string } | null;
}

interface EditResultBody {
  data?: { url: string }[];
  price?: { amount: string; currency: "USD" };
  payment?: { status: string; tx_hash: string; network: string };
  status?: string;
  poll_url?: string;
}

export async function runEdit(options: EditOptions): Promise<EditOutcome> {
  const env = options.env ?? process.env;
  const print = options.print ?? console.log;
  const request = checkUsage(options);
  const gateway = gatewayUrl(options.gateway, env);
  const wallet = await loadWalletFile(walletPath(options.wallet, env));

  const images = [];
  for (const spec of options.image) images.push(await loadInputImage(spec));
  const mask = options.mask ? await loadInputImage(options.mask) : undefined;
  const body = JSON.stringify({
    ...(options.model ? { model: options.model } : {}),
    prompt: request.prompt,
    image: images.length === 1 ? images[0].dataUri : images.map((i) => i.dataUri),
    ...(mask ? { mask: mask.dataUri } : {}),
    ...(options.size ? { size: options.size } : {}),
    ...(request.n !== undefined ? { n: request.n } : {}),
  });
  const init = (headers: Record<string, string> = {}): RequestInit => ({
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

  const challenge = await reach(`${gateway}${EDIT_PATH}`, init());
  let result: EditResultBody;
  if (challenge.status === 402) {
    result = await pay({ challenge, gateway, wallet, init, maxPrice: request.maxPrice, options, env });
  } else {
    result = await finished(challenge);
  }

  const saved: SavedImage[] = await saveResults({
    urls: (result.data ?? []).map((d) => d.url),
    outDir: expandHome(options.out ?? "."),
    model: options.model,
  });
  const outcome: EditOutcome = {
    files: saved.map((s) => s.path),
    urls: saved.map((s) => s.url),
    price: result.price ?? null,
    payment: result.payment ?? null,
  };
  if (options.json) print(JSON.stringify(outcome));
  else {
    for (const s of saved) print(`saved ${s.path}  (${s.url})`);
    if (outcome.price) print(`paid $${outcome.price.amount}${outcome.payment ? ` on ${networkName(outcome.payment.network)}, tx ${outcome.payment.tx_hash}` : ""}`);
  }
  return outcome;
}

function checkUsage(options: EditOptions): { prompt: string; n?: number; maxPrice: bigint } {
  const prompt = options.prompt.trim();
  if (!prompt) throw new CliError("say what to change: retouch edit --image photo.png remove the red ball", EXIT.usage);
  if (options.image.length === 0) throw new CliError("--image is required (a file, an http(s) URL or a data URI)", EXIT.usage);
  let n: number | undefined;
  if (options.n !== undefined) {
    n = Number(options.n);
    if (!Number.isInteger(n) || n < 1 || n > 10) throw new CliError(`--n must be a whole number from 1 to 10, got "${options.n}"`, EXIT.usage);
  }
  if (options.size !== undefined && !/^\d+x\d+$/.test(options.size)) {
    throw new CliError(`--size must look like 1024x1024, got "${options.size}"`, EXIT.usage);
  }
  const maxPriceText = options.maxPrice ?? "1";
  if (!/^\d+(\.\d+)?$/.test(maxPriceText)) throw new CliError(`--max-price must be an amount in USD such as 0.05, got "${maxPriceText}"`, EXIT.usage);
  const maxPrice = parseUnits(maxPriceText, 6);
  if (options.network && !Object.hasOwn(NETWORKS, options.network)) {
    throw new CliError(`--network must be one of ${Object.keys(NETWORKS).join(", ")}, got "${options.network}"`, EXIT.usage);
  }
  return { prompt, n, maxPrice };
}

async function pay(params: {
  challenge: Response;
  gateway: string;
  wallet: Awaited<ReturnType<typeof loadWalletFile>>;
  init: (headers?: Record<string, string>) => RequestInit;
  maxPrice: bigint;
  options: EditOptions;
  env: NodeJS.ProcessEnv;
}): Promise<EditResultBody> {
  const { challenge, gateway, wallet, maxPrice, options, env } = params;
  const required = paymentRequired(challenge);
  await challenge.arrayBuffer();
  const offers = offersIn(required).filter((o) => !options.network || o.network.name === options.network);
  if (offers.length === 0) {
    const named = options.network ? ` on ${options.network}` : " on a network retouch knows";
    throw new CliError(`the gateway does not take payment${named} (it offers ${required.accepts.map((a) => a.network).join(", ")})`, EXIT.usage);
  }
  const affordable = offers.filter((o) => quoteOf(o) <= maxPrice);
  if (affordable.length === 0) {
    const cheapest = offers.reduce((a, b) => (quoteOf(a) <= quoteOf(b) ? a : b));
    throw new CliError(
      `the gateway quotes ${usd(quoteOf(cheapest))}, above --max-price ${usd(maxPrice)}; nothing was paid (raise it with --max-price ${formatUsdPlain(quoteOf(cheapest))})`,
      EXIT.payment,
    );
  }
  const rpcUrl = (offer: Offer) => rpcUrlFor(offer.network, gateway, options, env);
  const offer = await chooseOffer({ offers: affordable, wallet, network: options.network, rpcUrl });
  const client = clientFor(offer, wallet, rpcUrl(offer));
  let header: string;
  try {
    header = encodePaymentSignatureHeader(await client.createPaymentPayload({ ...required, accepts: [offer.requirements] }));
  } catch (error) {
    throw new CliError(`could not sign the payment on ${offer.network.name}: ${(error as Error).message}`, EXIT.payment, { cause: error });
  }
  const spinner = startSpinner(`editing (${usd(quoteOf(offer))} on ${offer.network.name})`);
  try {
    const paid = await reach(`${gateway}${EDIT_PATH}`, params.init({ "PAYMENT-SIGNATURE": header }));
    if (paid.status === 202) return await poll(await paid.json() as EditResultBody, client);
    return await finished(paid);
  } finally {
    spinner.stop();
  }
}

/** Polls a slow edit's poll_url; each GET carries a fresh payment header proving the same wallet. */
async function poll(job: EditResultBody, client: x402Client): Promise<EditResultBody> {
  if (!job.poll_url) throw new CliError("the gateway answered 202 without a poll_url", EXIT.editFailed);
  const payingFetch = wrapFetchWithPayment(fetch, client);
  const started = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    const response = await reach(job.poll_url, { method: "GET" }, payingFetch);
    if (response.status !== 202) return finished(response);
    await response.arrayBuffer();
    if (Date.now() - started > POLL_LIMIT_MS) {
      throw new CliError(`the edit is still running after ${POLL_LIMIT_MS / 60_000} min; poll ${job.poll_url} later`, EXIT.editFailed);
    }
  }
}

/** A final answer: the result, or the exit code its failure deserves. */
async function finished(response: Response): Promise<EditResultBody> {
  const text = await response.text();
  let body: EditResultBody & { error?: string | { message?: string } } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the status says enough
  }
  const reason = typeof body.error === "string" ? body.error : (body.error?.message ?? text.slice(0, 200));
  if (response.status === 402) throw new CliError(`payment refused: ${reason}`, EXIT.payment);
  if (!response.ok) throw new CliError(`the edit failed (HTTP ${response.status}, not charged): ${reason}`, EXIT.editFailed);
  if (body.status === "failed") throw new CliError(`the edit failed (not charged)${reason ? `: ${reason}` : ""}`, EXIT.editFailed);
  if (!body.data?.length) throw new CliError(`the gateway answered ${response.status} without images`, EXIT.editFailed);
  return body;
}

function networkName(network: string): string {
  return Object.values(NETWORKS).find((n) => n.caip2 === network)?.name ?? network;
}

function formatUsdPlain(atomic: bigint): string {
  return usd(atomic).slice(1);
}
