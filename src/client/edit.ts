// `retouch edit`: checks everything it can locally (inputs, --out, the state folder),
// asks the gateway for a quote, refuses one above --max-price or one the wallet cannot
// pay, pays on one network, waits for a slow edit, saves the results. Every refusal
// before the payment is signed leaves the wallet untouched; a gateway that does not
// charge needs no wallet at all.

import { dirname } from "node:path";
import { isValidPaymentId } from "@x402/extensions/payment-identifier";
import { parseUnits } from "viem";
import { NETWORKS } from "../chains/index.ts";
import { editResult } from "./edit-answer.ts";
import { CliError, EXIT, shortReason } from "./errors.ts";
import { fundedOffers } from "./funds.ts";
import { EDIT_PATH, gatewayUrl, type Offer, type RpcFlags } from "./gateway.ts";
import { loadInputImage } from "./inputs.ts";
import { onInterrupt, RESUME_COMMAND, type PaymentStage } from "./interrupt.ts";
import { checkOutDir } from "./out-dir.ts";
import { networkName, paidRequest } from "./pay.ts";
import { quoteOf, usd } from "./paying.ts";
import { listPending, pendingDir } from "./pending.ts";
import { saveResults } from "./results.ts";
import { planRpc } from "./rpc.ts";
import { spendLogPath, type SpendTool } from "./spend-ledger.ts";
import { startSpinner } from "./spinner.ts";
import { expandHome, loadWalletFile, walletPath, type Wallet } from "./wallet-file.ts";

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
  /** The payment identifier (idempotency key) of this edit: the same id again, same wallet and request, gets the first result without paying twice. */
  paymentId?: string;
  gateway?: string;
  wallet?: string;
  json?: boolean;
  prompt: string;
  env?: NodeJS.ProcessEnv;
  /** Results (stdout); default console.log. */
  print?: (line: string) => void;
  /** Notes for a person (stderr); default process.stderr. */
  note?: (line: string) => void;
  /** Report Ctrl-C (the CLI sets it; a library caller keeps its own signal handling). */
  handleInterrupt?: boolean;
  /** The buyer tool that pays, as the spend log names it; default "edit". */
  tool?: SpendTool;
  /** Where the edit is, for a caller that shows progress (`retouch mcp`): every stage, and every 2 s while it runs. */
  progress?: (message: string) => void;
}

export interface EditOutcome {
  files: string[];
  urls: string[];
  /** False when the gateway did not ask for payment (payments off): nothing was signed. */
  charged: boolean;
  /** What was paid; null when free. */
  price: { amount: string; currency: "USD" } | null;
  payment: { network: string; tx_hash: string; status: string } | null;
  /** The payment identifier the payment carried: the same --payment-id retries this edit without paying twice. */
  payment_id: string | null;
}

export async function runEdit(options: EditOptions): Promise<EditOutcome> {
  let stage: PaymentStage = "before_paying";
  const release = options.handleInterrupt ? onInterrupt(() => stage) : () => {};
  try {
    return await edit(options, () => (stage = "after_paying"));
  } finally {
    release();
  }
}

/** `sending()` is called as the signed payment leaves for the gateway. */
async function edit(options: EditOptions, sending: () => void): Promise<EditOutcome> {
  const env = options.env ?? process.env;
  const print = options.print ?? console.log;
  const note = options.note ?? ((line: string) => process.stderr.write(`${line}\n`));
  const request = checkUsage(options);
  const gateway = gatewayUrl(options.gateway, env);
  const outDir = expandHome(options.out ?? ".");
  await checkOutDir(outDir);
  // Needed only if the gateway asks for payment: a free gateway needs no wallet file.
  const wallet = await loadWalletFile(walletPath(options.wallet, env)).then(
    (loaded): Wallet | CliError => loaded,
    (error: unknown) => {
      if (error instanceof CliError) return error;
      throw error;
    },
  );

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
  const rpc = await planRpc(gateway, options, env);
  await notePending(env, note);
  options.progress?.(`inputs checked (${images.length} picture${images.length === 1 ? "" : "s"}${mask ? " and a mask" : ""}); asking ${gateway} for a quote`);

  const { response, offer, pending, paymentId } = await paidRequest({
    url: `${gateway}${EDIT_PATH}`,
    init,
    gateway,
    wallet: wallet instanceof CliError ? unusableWallet(wallet) : wallet,
    network: options.network,
    rpc: rpc.flags,
    env,
    accept: async (offers) => {
      // The gateway charges: everything paying needs is checked before anything is signed.
      const affordable = underMaxPrice(offers, request.maxPrice);
      if (wallet instanceof CliError) throw wallet;
      await checkOutDir(pendingDir(env), "the pending payments folder (RETOUCH_HOME)");
      await checkOutDir(dirname(spendLogPath(env)), "the spend log's folder (RETOUCH_SPEND_LOG)");
      return fundedOffers(affordable, wallet, rpc);
    },
    onPaying: (offer) => {
      sending();
      const what = `editing (${usd(quoteOf(offer))} on ${offer.network.name})`;
      const stops = [options.progress && ticker(what, options.progress), options.json ? undefined : startSpinner(what).stop];
      return () => stops.forEach((stop) => stop?.());
    },
    pollLimitMs: POLL_LIMIT_MS,
    tool: options.tool ?? "edit",
    about: { model: options.model, outDir },
    ...(options.paymentId ? { paymentId: options.paymentId } : {}),
    keepPendingUntilSaved: true,
  });
  const result = await editResult(response, offer !== undefined);
  const saved = await saveResults({ urls: (result.data ?? []).map((d) => d.url), outDir, model: options.model, gateway }).catch((error: unknown) => {
    throw offer ? keptForResume(error, outDir) : error;
  });
  await pending?.done();
  options.progress?.(`saved ${saved.length} result${saved.length === 1 ? "" : "s"}`);
  const outcome: EditOutcome = {
    files: saved.map((s) => s.path),
    urls: saved.map((s) => s.url),
    charged: offer !== undefined,
    price: offer ? (result.price ?? null) : null,
    payment: offer ? (result.payment ?? null) : null,
    payment_id: (offer && paymentId) || null,
  };
  if (options.json) print(JSON.stringify({ ok: true, ...outcome }));
  else {
    for (const s of saved) print(`saved ${s.path}  (${s.url})`);
    print(paidLine(outcome, offer, gateway));
  }
  return outcome;
}

/** Says `what` now and every 2 s with the time so far; the returned function stops it. */
function ticker(what: string, progress: (message: string) => void): () => void {
  const started = Date.now();
  progress(what);
  const timer = setInterval(() => progress(`${what}: ${Math.round((Date.now() - started) / 1000)} s`), 2000);
  return () => clearInterval(timer);
}

function paidLine(outcome: EditOutcome, offer: Offer | undefined, gateway: string): string {
  if (!offer) return `free: the gateway ${gateway} did not ask for payment; nothing was signed`;
  const amount = outcome.price ? `$${outcome.price.amount}` : usd(quoteOf(offer));
  const network = outcome.payment ? networkName(outcome.payment.network) : offer.network.name;
  return `paid ${amount} on ${network}${outcome.payment ? `, tx ${outcome.payment.tx_hash}` : ""}`;
}

/** A paid result that could not be saved: its payment stays pending, so --resume fetches it without paying again. */
function keptForResume(error: unknown, outDir: string): CliError {
  const why = error instanceof CliError ? error.message : `the edit was paid but saving it into ${outDir} failed (${shortReason(error)})`;
  return new CliError(`${why}; the payment is kept: run \`${RESUME_COMMAND}\` to fetch the result without paying again`, EXIT.editFailed, {
    cause: error,
    code: error instanceof CliError ? error.code : "result_not_saved",
  });
}

/** Stands in for a wallet that could not be loaded: any use throws why (accept() throws it first). */
function unusableWallet(error: CliError): Wallet {
  return new Proxy({} as Wallet, {
    get() {
      throw error;
    },
  });
}

/** Tells the user about payments an earlier run left pending (interrupted, or an answer that never came). */
async function notePending(env: NodeJS.ProcessEnv, note: (line: string) => void): Promise<void> {
  const pending = await listPending(pendingDir(env)).catch(() => []);
  const live = pending.filter((p) => p.tool === "edit" && Date.parse(p.expires) > Date.now());
  if (live.length > 0) {
    note(`note: ${live.length} earlier paid edit${live.length === 1 ? " has" : "s have"} no saved result yet; \`retouch edit --resume\` fetches ${live.length === 1 ? "it" : "them"} without paying again`);
  }
}

function checkUsage(options: EditOptions): { prompt: string; n?: number; maxPrice: bigint } {
  const prompt = options.prompt.trim();
  if (!prompt) throw new CliError("say what to change: retouch edit --image photo.png remove the red ball", EXIT.usage, { code: "missing_prompt" });
  if (options.image.length === 0) throw new CliError("--image is required (a file, an http(s) URL or a data URI)", EXIT.usage, { code: "missing_image" });
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
  if (options.paymentId !== undefined && !isValidPaymentId(options.paymentId)) {
    throw new CliError(`--payment-id must be 16 to 128 letters, digits, "-" or "_" (such as pay_7d5d747be160e280504c099d984bcfe0), got "${options.paymentId}"`, EXIT.usage, {
      code: "invalid_payment_id",
    });
  }
  return { prompt, n, maxPrice };
}

function underMaxPrice(offers: Offer[], maxPrice: bigint): Offer[] {
  const affordable = offers.filter((o) => quoteOf(o) <= maxPrice);
  if (affordable.length > 0) return affordable;
  const cheapest = offers.reduce((a, b) => (quoteOf(a) <= quoteOf(b) ? a : b));
  throw new CliError(
    `the gateway quotes ${usd(quoteOf(cheapest))}, above --max-price ${usd(maxPrice)}; nothing was paid (raise it with --max-price ${usd(quoteOf(cheapest)).slice(1)})`,
    EXIT.payment,
    { code: "over_max_price" },
  );
}
