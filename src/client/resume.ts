// `retouch edit --resume`: replays the payments earlier runs signed but never saw a
// result for (interrupted, or an answer that never came), without signing anything new.

import { CliError, EXIT } from "./errors.ts";
import { resumePending } from "./pending.ts";
import { expandHome, loadWalletFile, walletPath } from "./wallet-file.ts";

export interface ResumeOptions {
  wallet?: string;
  out?: string;
  json?: boolean;
  env?: NodeJS.ProcessEnv;
  print?: (line: string) => void;
}

export interface ResumedPayment {
  id: string;
  outcome: "saved" | "not_charged" | "pending";
  files: string[];
  urls: string[];
  payment: { status: string; tx_hash: string; network: string } | null;
  message: string;
}

/** Saved results go to the folder each payment's run asked for (else --out, else here). */
export async function runResume(options: ResumeOptions): Promise<ResumedPayment[]> {
  const env = options.env ?? process.env;
  const print = options.print ?? console.log;
  // The wallet signs in to poll a slow edit; nothing new is paid.
  const wallet = await loadWalletFile(walletPath(options.wallet, env));
  const outcomes = await resumePending({ wallet, env, outDir: options.out === undefined ? undefined : expandHome(options.out) });
  const resumed = outcomes.map((o): ResumedPayment => ({
    id: o.payment.id,
    outcome: o.outcome,
    files: o.files,
    urls: o.urls,
    payment: o.receipt ?? null,
    message: o.message,
  }));
  const open = resumed.filter((r) => r.outcome === "pending");
  if (open.length > 0) {
    const done = resumed.filter((r) => r.outcome !== "pending").map((r) => r.message);
    throw new CliError([...open.map((r) => r.message), ...done].join("; "), EXIT.editFailed, { code: "still_pending" });
  }
  if (options.json) print(JSON.stringify({ ok: true, resumed }));
  else if (resumed.length === 0) print("nothing to resume: no paid edit is waiting for its result");
  else for (const r of resumed) print(r.message);
  return resumed;
}
