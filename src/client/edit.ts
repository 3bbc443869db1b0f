// `retouch edit`: checks the pictures, asks the gateway for a quote, refuses a quote
// above --max-price, pays on one network, waits for a slow edit, saves the results.
// Every refusal before the payment is signed leaves the wallet untouched.

import { parseUnits } from "viem";
import { NETWORKS } from "../chains/index.ts";
import { CliError, EXIT } from "./errors.ts";
import { EDIT_PATH, gatewayUrl, type Offer, type RpcFlags } from "./gateway.ts";
import { loadInputImage } from "./inputs.ts";
import { networkName, paidRequest } from "./pay.ts";
import { quoteOf, usd } from "./paying.ts";
import { saveResults, type SavedImage } from "./results.ts";
import { startSpinner } from "./spinner.ts";
import { expandHome, loadWalletFile, walletPath } from "./wallet-file.ts";

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

  const { response } = await paidRequest({
    url: `${gateway}${EDIT_PATH}`,
    init,
    gateway,
    wallet,
    network: options.network,
    rpc: options,
    env,
    accept: (offers) => underMaxPrice(offers, request.maxPrice),
    onPaying: (offer) => startSpinner(`editing (${usd(quoteOf(offer))} on ${offer.network.name})`).stop,
    pollLimitMs: POLL_LIMIT_MS,
  });
  const result = await finished(response);

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

function underMaxPrice(offers: Offer[], maxPrice: bigint): Offer[] {
  const affordable = offers.filter((o) => quoteOf(o) <= maxPrice);
  if (affordable.length > 0) return affordable;
  const cheapest = offers.reduce((a, b) => (quoteOf(a) <= quoteOf(b) ? a : b));
  throw new CliError(
    `the gateway quotes ${usd(quoteOf(cheapest))}, above --max-price ${usd(maxPrice)}; nothing was paid (raise it with --max-price ${formatUsdPlain(quoteOf(cheapest))})`,
    EXIT.payment,
  );
}

function formatUsdPlain(atomic: bigint): string {
  return usd(atomic).slice(1);
}
