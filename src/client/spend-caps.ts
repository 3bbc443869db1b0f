// The buyer's spending caps (RETOUCH_MAX_PER_REQUEST, RETOUCH_MAX_PER_DAY), the same
// for every buyer tool, checked against a quote before anything is signed.

import { parseUnits } from "viem";
import { CliError, EXIT } from "./errors.ts";
import type { Offer } from "./gateway.ts";
import { quoteOf, usd } from "./paying.ts";

export interface SpendCaps {
  /** Atomic USDC units (6 decimals). */
  maxPerRequest: bigint;
  maxPerDay: bigint;
}

export type CapName = "max_per_request" | "max_per_day";

/** A quote over a cap: nothing was signed. */
export class CapExceededError extends CliError {
  readonly cap: CapName;
  constructor(message: string, cap: CapName) {
    super(message, EXIT.payment, { code: cap });
    this.name = "CapExceededError";
    this.cap = cap;
  }
}

/** RETOUCH_MAX_PER_REQUEST (USD, default 1) and RETOUCH_MAX_PER_DAY (USD, default 10). */
export function spendCaps(env: NodeJS.ProcessEnv = process.env): SpendCaps {
  return { maxPerRequest: usdCap(env, "RETOUCH_MAX_PER_REQUEST", "1"), maxPerDay: usdCap(env, "RETOUCH_MAX_PER_DAY", "10") };
}

function usdCap(env: NodeJS.ProcessEnv, name: string, fallback: string): bigint {
  const text = env[name] || fallback;
  if (!/^\d+(\.\d{1,6})?$/.test(text)) throw new CliError(`${name} must be an amount in USD such as 0.05, got "${text}"`, EXIT.usage);
  return parseUnits(text, 6);
}

/** The offers within both caps, given what was spent today (UTC); throws naming the cap and its variable. */
export function offersWithinCaps(offers: Offer[], caps: SpendCaps, spentToday: bigint): Offer[] {
  const cheapest = (list: Offer[]) => list.reduce((a, b) => (quoteOf(a) <= quoteOf(b) ? a : b));
  const underRequestCap = offers.filter((o) => quoteOf(o) <= caps.maxPerRequest);
  if (underRequestCap.length === 0) checkWithinCaps(quoteOf(cheapest(offers)), caps, spentToday);
  const underDayCap = underRequestCap.filter((o) => spentToday + quoteOf(o) <= caps.maxPerDay);
  if (underDayCap.length === 0) checkWithinCaps(quoteOf(cheapest(underRequestCap)), caps, spentToday);
  return underDayCap;
}

/** Throws unless `amount` fits both caps after `spentToday`. */
export function checkWithinCaps(amount: bigint, caps: SpendCaps, spentToday: bigint): void {
  if (amount > caps.maxPerRequest) {
    throw new CapExceededError(
      `the gateway quotes ${usd(amount)}, above the per-request cap of ${usd(caps.maxPerRequest)}; nothing was paid (raise RETOUCH_MAX_PER_REQUEST to at least ${usd(amount).slice(1)})`,
      "max_per_request",
    );
  }
  if (spentToday + amount > caps.maxPerDay) {
    throw new CapExceededError(
      `the gateway quotes ${usd(amount)} and ${usd(spentToday)} was spent today (UTC), which would pass the daily cap of ${usd(caps.maxPerDay)}; nothing was paid (raise RETOUCH_MAX_PER_DAY to at least ${usd(spentToday + amount).slice(1)})`,
      "max_per_day",
    );
  }
}
