// The buyer's record of what the proxy paid: one JSON line per settled edit, appended
// with a single write, so the daily cap survives a restart and `retouch spend` can sum it.

import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { parseUnits } from "viem";
import { formatUnits } from "../balances.ts";

export interface SpendEntry {
  /** ISO 8601, UTC. */
  time: string;
  model: string;
  /** USD as a decimal string, e.g. "0.001". */
  price_usd: string;
  /** CAIP-2 network id. */
  network: string;
  tx_hash: string;
}

export interface SpendTotals {
  today: { usd: string; count: number };
  total: { usd: string; count: number };
}

/** Today, in UTC (the day the cap counts against), as YYYY-MM-DD. */
export function utcDay(when: Date): string {
  return when.toISOString().slice(0, 10);
}

export async function readSpendLog(file: string): Promise<SpendEntry[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const entries: SpendEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as SpendEntry;
      if (typeof entry.time === "string" && /^\d+(\.\d+)?$/.test(String(entry.price_usd))) entries.push(entry);
    } catch {
      // a torn last line from a crash: skip it rather than refuse to start
    }
  }
  return entries;
}

/** Atomic units (micro-USD, USDC's 6 decimals) of an entry. */
export function spentAtomic(entry: SpendEntry): bigint {
  return parseUnits(String(entry.price_usd), 6);
}

export function spendTotals(entries: SpendEntry[], now = new Date()): SpendTotals {
  const day = utcDay(now);
  let today = 0n;
  let total = 0n;
  let todayCount = 0;
  for (const entry of entries) {
    total += spentAtomic(entry);
    if (entry.time.startsWith(day)) {
      today += spentAtomic(entry);
      todayCount++;
    }
  }
  return { today: { usd: formatUnits(today, 6), count: todayCount }, total: { usd: formatUnits(total, 6), count: entries.length } };
}

/**
 * The spend log of a running proxy: today's total held in memory, plus what is
 * reserved by payments being signed right now, so two requests at once cannot both
 * slip under the daily cap.
 */
export class SpendLog {
  private entries: SpendEntry[] = [];
  private reserved = 0n;

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<SpendLog> {
    const log = new SpendLog(file);
    log.entries = await readSpendLog(file);
    await mkdir(dirname(file), { recursive: true });
    return log;
  }

  /** Spent today (UTC) plus what is reserved, in atomic units. */
  committedToday(now = new Date()): bigint {
    const day = utcDay(now);
    return this.entries.filter((e) => e.time.startsWith(day)).reduce((sum, e) => sum + spentAtomic(e), 0n) + this.reserved;
  }

  /** Holds `amount` against the day until `release` is called (after the payment is logged or abandoned). */
  reserve(amount: bigint): () => void {
    this.reserved += amount;
    let released = false;
    return () => {
      if (!released) this.reserved -= amount;
      released = true;
    };
  }

  async append(entry: SpendEntry): Promise<void> {
    // One write of one line with O_APPEND: concurrent writers never interleave inside a line.
    await appendFile(this.file, `${JSON.stringify(entry)}\n`, { flag: "a" });
    this.entries.push(entry);
  }

  totals(now = new Date()): SpendTotals {
    return spendTotals(this.entries, now);
  }
}
