// Payments signed but not yet known to have delivered their result: one 0600 file per
// payment in the state folder's pending/, written before the payment is sent, removed
// once its result is saved or the gateway says it was not charged. Replaying one sends
// the same request with the same payment: the gateway answers the stored result (or
// settles it if it never did), and a payment can be charged once only, however often it is sent.

import { createHash } from "node:crypto";
import { readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { findNetwork } from "../chains/index.ts";
import { CliError, EXIT } from "./errors.ts";
import { sendSigned, type PaidAnswer } from "./paid-answer.ts";
import { saveResults } from "./results.ts";
import type { SpendTool } from "./spend-ledger.ts";
import { ensurePrivateDir, retouchHome, writePrivateFile } from "./state-folder.ts";
import type { Wallet } from "./wallet-file.ts";

export interface PendingPayment {
  /** The file's name without `.json`: a hash of the payment header. */
  id: string;
  /** ISO 8601: when it was signed. */
  created: string;
  /** ISO 8601: when the signed authorization stops being valid (a gateway that never settled it then refuses it). */
  expires: string;
  tool: SpendTool;
  gateway: string;
  /** The request, exactly as sent. */
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  fingerprint: string;
  /** The PAYMENT-SIGNATURE header value. */
  payment: string;
  /** The payment identifier it carries (x402 payment-identifier extension), when the gateway declared it. */
  paymentId?: string;
  offer: { network: string; amount: string; payTo: string; asset: string; maxTimeoutSeconds: number };
  /** Where the tool would have saved the result, and the model (for the file names). */
  outDir?: string;
  model?: string;
}

export type NewPendingPayment = Omit<PendingPayment, "id">;

/** RETOUCH_HOME/pending (~/.retouch/pending). */
export function pendingDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(retouchHome(env), "pending");
}

export function pendingId(payment: string): string {
  return createHash("sha256").update(payment).digest("hex").slice(0, 32);
}

/** When a payment stops being valid: an EVM authorization's validBefore, else signing time + the offer's maxTimeoutSeconds. */
export function expiryOf(payload: Record<string, unknown>, maxTimeoutSeconds: number, signedAt: Date): Date {
  const validBefore = (payload.authorization as { validBefore?: unknown } | undefined)?.validBefore;
  if (typeof validBefore === "string" && /^\d+$/.test(validBefore)) return new Date(Number(validBefore) * 1000);
  return new Date(signedAt.getTime() + maxTimeoutSeconds * 1000);
}

/** Writes the record (whole or not at all, 0600) before its payment is sent. */
export async function recordPending(dir: string, payment: NewPendingPayment): Promise<PendingPayment> {
  await ensurePrivateDir(dir, "the pending payments folder");
  const record = { id: pendingId(payment.payment), ...payment };
  await writePrivateFile(join(dir, `${record.id}.json`), `${JSON.stringify(record)}\n`);
  return record;
}

/** Every pending payment, oldest first; an unreadable file is skipped. */
export async function listPending(dir: string): Promise<PendingPayment[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new CliError(`cannot read the pending payments in ${dir}: ${(error as Error).message}`, EXIT.usage, { cause: error });
  }
  const records: PendingPayment[] = [];
  for (const name of names.filter((n) => /^[0-9a-f]{32}\.json$/.test(n))) {
    try {
      records.push(JSON.parse(await readFile(join(dir, name), "utf8")) as PendingPayment);
    } catch {
      // removed meanwhile, or not ours
    }
  }
  return records.sort((a, b) => a.created.localeCompare(b.created));
}

export async function removePending(dir: string, id: string): Promise<void> {
  await unlink(join(dir, `${id}.json`)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}

/** Removes the records whose payment expired before `now`, without asking any gateway; returns them. */
export async function dropExpired(dir: string, now = new Date()): Promise<PendingPayment[]> {
  const expired = (await listPending(dir)).filter((p) => Date.parse(p.expires) < now.getTime());
  for (const p of expired) await removePending(dir, p.id);
  return expired;
}

/** Sends the record's request again with its payment (no new signature), following a 202 by SIWx polls. */
export function replayPending(record: PendingPayment, params: { wallet: Wallet; pollIntervalMs?: number; pollLimitMs?: number }): Promise<PaidAnswer> {
  const network = findNetwork(record.offer.network);
  if (!network) throw new CliError(`pending payment ${record.id} is on an unknown network ${record.offer.network}`, EXIT.usage);
  return sendSigned({
    url: record.url,
    init: { method: record.method, headers: record.headers, body: record.body },
    payment: record.payment,
    gateway: record.gateway,
    wallet: params.wallet,
    network,
    pollIntervalMs: params.pollIntervalMs,
    pollLimitMs: params.pollLimitMs ?? 10 * 60_000,
  });
}

export interface ResumeOutcome {
  payment: PendingPayment;
  /** saved: result saved, record removed; not_charged: the gateway refused or failed it, record removed; pending: kept for later. */
  outcome: "saved" | "not_charged" | "pending";
  files: string[];
  urls: string[];
  /** The gateway's payment object for a saved result ({status, tx_hash, network}). */
  receipt?: { status: string; tx_hash: string; network: string };
  message: string;
}

/**
 * Replays every pending payment of this state folder once and reports each: saved
 * results go to the folder the record names (else `outDir`, else here).
 * @example
 * for (const r of await resumePending({ wallet, env })) console.log(r.message);
 */
export async function resumePending(params: {
  wallet: Wallet;
  env?: NodeJS.ProcessEnv;
  /** Default pendingDir(env). */
  dir?: string;
  outDir?: string;
  pollIntervalMs?: number;
  pollLimitMs?: number;
}): Promise<ResumeOutcome[]> {
  const dir = params.dir ?? pendingDir(params.env ?? process.env);
  const outcomes: ResumeOutcome[] = [];
  for (const payment of await listPending(dir)) outcomes.push(await resumeOne(payment, dir, params));
  return outcomes;
}

async function resumeOne(payment: PendingPayment, dir: string, params: { wallet: Wallet; outDir?: string; pollIntervalMs?: number; pollLimitMs?: number }): Promise<ResumeOutcome> {
  const base = { payment, files: [], urls: [] };
  const what = `the payment of ${payment.created} to ${payment.gateway}`;
  let answer: PaidAnswer;
  try {
    answer = await replayPending(payment, params);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return { ...base, outcome: "pending", message: `${what} is still pending (${error.message})` };
  }
  const text = await answer.response.text();
  if (answer.state === "not_charged") {
    await removePending(dir, payment.id);
    return { ...base, outcome: "not_charged", message: `${what} was not charged (the gateway answered HTTP ${answer.response.status}: ${text.slice(0, 200)}); forgotten` };
  }
  if (answer.state === "uncertain") {
    return { ...base, outcome: "pending", message: `${what} is still pending (the gateway answered HTTP ${answer.response.status}); try again later` };
  }
  let body: { data?: { url: string }[]; payment?: ResumeOutcome["receipt"] };
  try {
    body = JSON.parse(text);
  } catch {
    return { ...base, outcome: "pending", message: `${what} is still pending (the gateway answered 200 with no JSON); try again later` };
  }
  const saved = await saveResults({
    urls: (body.data ?? []).map((d) => d.url),
    outDir: payment.outDir ?? params.outDir ?? ".",
    model: payment.model,
    gateway: payment.gateway,
    private: payment.tool === "proxy",
  });
  await removePending(dir, payment.id);
  return {
    ...base,
    outcome: "saved",
    files: saved.map((s) => s.path),
    urls: saved.map((s) => s.url),
    receipt: body.payment,
    message: `${what}: saved ${saved.map((s) => s.path).join(", ")}${body.payment ? ` (${body.payment.status}, tx ${body.payment.tx_hash})` : ""}`,
  };
}
