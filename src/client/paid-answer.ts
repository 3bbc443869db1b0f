// What follows a signed payment: send it once, follow a 202 with polls that prove the
// wallet by Sign-In-With-X (never by a payment), and judge the final answer: a result
// (its URLs on the gateway's own origin), not charged, or still open.

import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { Network } from "../chains/index.ts";
import { formatUnits } from "./balances.ts";
import { CliError, EXIT } from "./errors.ts";
import { reach } from "./gateway.ts";
import { ChallengeRefused, challengeIn, SIWX_HEADER, signPollChallenge, siwxSigner, type SiwxChallenge } from "./siwx.ts";
import { networkName } from "./paying.ts";
import type { Wallet } from "./wallet-file.ts";

export const POLL_INTERVAL_MS = 2000;
export const RESUME_HINT = "run `retouch edit --resume` later to fetch it without paying again";

/** The gateway asked for something retouch does not give on a poll; nothing was signed for it. */
export class PollRefusedError extends CliError {
  constructor(message: string) {
    super(message, EXIT.payment, { code: "poll_refused" });
    this.name = "PollRefusedError";
  }
}

export interface PaidAnswer {
  /** The final answer (never a 202); a 200's body has been checked and is readable again. */
  response: Response;
  /** result: 200 with images; not_charged: the gateway refused or failed the edit; uncertain: a 5xx that may have charged. */
  state: "result" | "not_charged" | "uncertain";
}

export interface SendSignedParams {
  url: string;
  init: RequestInit;
  /** The PAYMENT-SIGNATURE header, signed once for this request. */
  payment: string;
  gateway: string;
  wallet: Wallet;
  /** The network paid on: polls sign in with the same wallet on it. */
  network: Network;
  pollIntervalMs?: number;
  pollLimitMs: number;
}

/** Sends the paid request (no redirects: a payment goes to the gateway only) and follows it to a final answer. */
export async function sendSigned(params: SendSignedParams): Promise<PaidAnswer> {
  const headers = { ...headersOf(params.init.headers), "PAYMENT-SIGNATURE": params.payment };
  const first = await reach(params.url, { ...params.init, headers, redirect: "manual" });
  const final = first.status === 202 ? await followJob(first, params) : first;
  return judge(final, params.gateway);
}

function headersOf(headers: RequestInit["headers"]): Record<string, string> {
  return Object.fromEntries(new Headers(headers).entries());
}

/** A 202's poll_url, polled until the job is final; each poll signs in, none pays. */
async function followJob(accepted: Response, params: SendSignedParams): Promise<Response> {
  const body = (await accepted.json().catch(() => ({}))) as { id?: string; poll_url?: string };
  const origin = new URL(params.gateway).origin;
  if (!body.poll_url) throw new CliError(`the gateway ${origin} answered 202 without a poll_url`, EXIT.editFailed);
  const pollUrl = body.poll_url;
  if (!sameOrigin(pollUrl, origin)) {
    throw new PollRefusedError(`the gateway ${origin} gave a poll URL on another site (${pollUrl}); retouch polls only the gateway itself. ${RESUME_HINT}`);
  }
  const job = body.id ?? pollUrl.split("/").pop()!;
  let challenge: SiwxChallenge | undefined = challengeIn(accepted.headers, body);
  let refusedSignIns = 0;
  let wait = true;
  const started = Date.now();
  for (;;) {
    if (wait) await new Promise((resolve) => setTimeout(resolve, params.pollIntervalMs ?? POLL_INTERVAL_MS));
    wait = true;
    const headers: Record<string, string> = challenge ? { [SIWX_HEADER]: await signIn(challenge, pollUrl, job, params) } : {};
    const response = await reach(pollUrl, { method: "GET", headers, redirect: "manual" });
    const signedIn = SIWX_HEADER in headers;
    if (response.status === 202) {
      refusedSignIns = 0;
      challenge = challengeIn(response.headers, await response.json().catch(() => undefined));
      if (Date.now() - started > params.pollLimitMs) {
        throw new CliError(`the edit is still running after ${Math.round(params.pollLimitMs / 60_000)} min; the result will be at ${pollUrl}: ${RESUME_HINT}`, EXIT.editFailed);
      }
      continue;
    }
    if (response.status === 401 || response.status === 402) {
      const text = await response.text();
      challenge = challengeIn(response.headers, parseJson(text));
      if (!challenge) {
        throw new PollRefusedError(
          `the gateway ${origin} asks for a payment to poll job ${job} (${askOf(response)}); retouch never pays to poll and signed nothing for it; the result will be at ${pollUrl}: ${RESUME_HINT}`,
        );
      }
      if (signedIn && ++refusedSignIns >= 2) {
        throw new PollRefusedError(
          `the gateway ${origin} refused the wallet's sign-in to poll job ${job} twice (${askOf(response)}); retouch never pays to poll; the result will be at ${pollUrl}: ${RESUME_HINT}`,
        );
      }
      wait = signedIn;
      continue;
    }
    if (response.status === 403) {
      throw new PollRefusedError(`the gateway ${origin} refused the wallet's sign-in to poll job ${job}: ${reasonOf(await response.text())}`);
    }
    if (response.status >= 300 && response.status < 400) {
      throw new PollRefusedError(`the gateway ${origin} redirected the poll of job ${job} to ${response.headers.get("location")}; retouch polls only the gateway itself. ${RESUME_HINT}`);
    }
    return response;
  }
}

async function signIn(challenge: SiwxChallenge, pollUrl: string, job: string, params: SendSignedParams): Promise<string> {
  try {
    return await signPollChallenge({ challenge, gateway: params.gateway, pollUrl, signer: siwxSigner(params.wallet, params.network), network: params.network });
  } catch (error) {
    if (!(error instanceof ChallengeRefused)) throw error;
    throw new PollRefusedError(`the gateway ${new URL(params.gateway).origin} asked to sign in for job ${job}, but ${error.message}; retouch signed nothing. ${RESUME_HINT}`);
  }
}

/** What a 402 asks for, from its PAYMENT-REQUIRED terms: "0.99 USDC to 0xabc… on base". */
function askOf(response: Response): string {
  const header = response.headers.get("payment-required");
  if (!header) return `HTTP ${response.status} without payment terms`;
  try {
    const asks = decodePaymentRequiredHeader(header).accepts.map(
      (a) => `${/^\d+$/.test(String(a.amount)) ? formatUnits(BigInt(a.amount), 6) : String(a.amount)} USDC to ${a.payTo} on ${networkName(String(a.network))}`,
    );
    return asks.length > 0 ? asks.join(" or ") : "a payment";
  } catch {
    return "a payment, in terms that are not valid x402";
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function reasonOf(text: string): string {
  const body = parseJson(text) as { error?: string | { message?: string } } | undefined;
  const reason = typeof body?.error === "string" ? body.error : body?.error?.message;
  return reason ?? text.slice(0, 200);
}

export function sameOrigin(url: string, origin: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === "http:" || u.protocol === "https:") && u.origin === new URL(origin).origin;
  } catch {
    return false;
  }
}

/** This gateway's contract: 4xx (402 included) and 502/504 are never charged; other 5xx may be. A result's URLs must be the gateway's. */
async function judge(response: Response, gateway: string): Promise<PaidAnswer> {
  if (response.status >= 300 && response.status < 400) {
    throw new CliError(`the gateway ${new URL(gateway).origin} redirected a paid request to ${response.headers.get("location")}; retouch does not follow it. ${RESUME_HINT}`, EXIT.editFailed);
  }
  if (response.status !== 200) {
    const notCharged = (response.status >= 400 && response.status < 500) || response.status === 502 || response.status === 504;
    return { response, state: notCharged ? "not_charged" : "uncertain" };
  }
  // A streamed edit: its events are read by the caller as they come (the result is in the last one).
  if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) return { response, state: "result" };
  const text = await response.text();
  const body = parseJson(text) as { status?: string; data?: { url?: unknown }[] } | undefined;
  const again = new Response(text, { status: response.status, headers: response.headers });
  if (body?.status === "failed") return { response: again, state: "not_charged" };
  // Cut off by a gateway restart, not charged: the same payment sent again runs it, so it is kept.
  if (body?.status === "interrupted") return { response: again, state: "uncertain" };
  const origin = new URL(gateway).origin;
  const elsewhere = (body?.data ?? []).map((d) => String(d.url)).filter((url) => !sameOrigin(url, origin));
  if (elsewhere.length > 0) {
    throw new CliError(
      `the gateway ${origin} answered with a result on another site (${elsewhere.join(", ")}); retouch fetches results only from the gateway itself`,
      EXIT.editFailed,
    );
  }
  return { response: again, state: "result" };
}
