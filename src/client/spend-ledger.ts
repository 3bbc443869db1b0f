// The buyer's one spend ledger, shared by `retouch edit`, `retouch proxy` (and `retouch
// mcp`): a JSON line for every payment a tool SIGNS, written under a lock at the moment
// it is signed, before it is sent, so the caps count what was handed out, in every process.

import { open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseUnits } from "viem";
import { formatUnits } from "./balances.ts";
import { CliError, EXIT } from "./errors.ts";
import { withFileLock } from "./file-lock.ts";
import { checkWithinCaps, type SpendCaps } from "./spend-caps.ts";
import { assertNotFolder, ensurePrivateDir, makePrivate, retouchHome } from "./state-folder.ts";
import { expandHome } from "./wallet-file.ts";

export type SpendTool = "edit" | "proxy" | "mcp";

export interface SpendEntry {
  /** ISO 8601, UTC: when the payment was signed. */
  time: string;
  tool: SpendTool;
  /** Atomic USDC units (6 decimals), as a decimal string. */
  amount: string;
  /** The same in USD, e.g. "0.001". */
  price_usd: string;
  /** CAIP-2 network id. */
  network: string;
  pay_to: string;
  asset: string;
  /** sha256 of the request the payment is for (method, URL, body). */
  fingerprint: string;
  /** The gateway's origin. */
  gateway: string;
  model?: string;
}

/** What the signing tool knows about a payment; the ledger adds the time and the USD figure. */
export type NewSpend = Omit<SpendEntry, "time" | "price_usd">;

export interface SpendTotal {
  usd: string;
  count: number;
}

export interface SpendTotals {
  today: SpendTotal;
  total: SpendTotal;
  by_tool: Partial<Record<SpendTool, { today: SpendTotal; total: SpendTotal }>>;
}

/** O_APPEND writes of less than a page are not interleaved with other writers' lines. */
const MAX_LINE_BYTES = 4000;

/** RETOUCH_SPEND_LOG, else spend.jsonl in the state folder (~/.retouch/spend.jsonl). */
export function spendLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.RETOUCH_SPEND_LOG ? expandHome(env.RETOUCH_SPEND_LOG) : join(retouchHome(env), "spend.jsonl");
}

/** Today, in UTC (the day the daily cap counts against), as YYYY-MM-DD. */
export function utcDay(when: Date): string {
  return when.toISOString().slice(0, 10);
}

/** Every entry of the log; a torn line (a crash mid-write) is skipped. Lines from before `tool` existed were the proxy's. */
export async function readSpendLog(file: string): Promise<SpendEntry[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    if (code === "EISDIR") throw folderError(file);
    throw new CliError(`cannot read the spend log ${file}: ${(error as Error).message}`, EXIT.usage, { cause: error });
  }
  const entries: SpendEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as Partial<SpendEntry>;
      if (typeof entry.time !== "string" || !/^\d+(\.\d+)?$/.test(String(entry.price_usd))) continue;
      entries.push({ ...entry, tool: entry.tool ?? "proxy" } as SpendEntry);
    } catch {
      // a torn line from a crash: skip it rather than refuse to start
    }
  }
  return entries;
}

function folderError(file: string): CliError {
  return new CliError(`RETOUCH_SPEND_LOG is ${file}, which is a folder; point it at a file such as ${join(file, "spend.jsonl")}`, EXIT.usage);
}

/** Atomic units of an entry. */
export function spentAtomic(entry: SpendEntry): bigint {
  return entry.amount && /^\d+$/.test(entry.amount) ? BigInt(entry.amount) : parseUnits(String(entry.price_usd), 6);
}

export function spentOn(entries: SpendEntry[], day: string): bigint {
  return entries.filter((e) => e.time.startsWith(day)).reduce((sum, e) => sum + spentAtomic(e), 0n);
}

export function spendTotals(entries: SpendEntry[], now = new Date()): SpendTotals {
  const day = utcDay(now);
  const sum = (list: SpendEntry[]): SpendTotal => ({ usd: formatUnits(list.reduce((s, e) => s + spentAtomic(e), 0n), 6), count: list.length });
  const split = (list: SpendEntry[]) => ({ today: sum(list.filter((e) => e.time.startsWith(day))), total: sum(list) });
  const by_tool: SpendTotals["by_tool"] = {};
  for (const tool of [...new Set(entries.map((e) => e.tool))].sort()) by_tool[tool] = split(entries.filter((e) => e.tool === tool));
  return { ...split(entries), by_tool };
}

/**
 * The spend log of one buyer, for any number of processes at once.
 * @example
 * const ledger = await SpendLedger.open(spendLogPath(env));
 * const header = await ledger.record({ spend, caps, sign: () => signPayment() });
 */
export class SpendLedger {
  readonly file: string;

  private constructor(file: string) {
    this.file = file;
  }

  static async open(file: string): Promise<SpendLedger> {
    await assertNotFolder(file, "RETOUCH_SPEND_LOG", "spend.jsonl");
    await ensurePrivateDir(dirname(file), "the spend log's folder");
    await makePrivate(file);
    return new SpendLedger(file);
  }

  entries(): Promise<SpendEntry[]> {
    return readSpendLog(this.file);
  }

  async spentToday(now = new Date()): Promise<bigint> {
    return spentOn(await this.entries(), utcDay(now));
  }

  /**
   * Under the log's lock: checks `spend.amount` against the caps and everything any
   * process recorded today, calls `sign`, and appends the entry before returning the
   * signature. Nothing is recorded when `sign` throws (nothing was signed).
   */
  async record<T>(params: { spend: NewSpend; caps: SpendCaps; sign(): Promise<T>; now?: () => Date }): Promise<T> {
    const now = params.now ?? (() => new Date());
    return withFileLock(
      `${this.file}.lock`,
      async () => {
        checkWithinCaps(BigInt(params.spend.amount), params.caps, await this.spentToday(now()));
        const signed = await params.sign();
        await this.append({ ...params.spend, time: now().toISOString(), price_usd: formatUnits(BigInt(params.spend.amount), 6) });
        return signed;
      },
      { what: "the spend log" },
    );
  }

  /** One write of one line with O_APPEND, synced: concurrent writers never interleave inside a line. */
  private async append(entry: SpendEntry): Promise<void> {
    const fitted = { ...entry, model: entry.model?.slice(0, 200), gateway: entry.gateway.slice(0, 500) };
    const line = `${JSON.stringify(fitted)}\n`;
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) throw new Error(`spend log line over ${MAX_LINE_BYTES} bytes`);
    const handle = await open(this.file, "a", 0o600);
    try {
      await handle.write(line);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
