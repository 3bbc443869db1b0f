// The proxy's spending caps, checked against the 402 quote before anything is signed:
// a quote over either cap is refused with a message naming the amounts and the env var.

import type { Offer } from "../gateway.ts";
import { quoteOf, usd } from "../paying.ts";
import { capExceeded } from "./errors.ts";
import type { SpendLog } from "./spend-log.ts";

/**
 * The offers within both caps; reserves the dearest of them against today's total
 * (release it once the spend is logged or the payment abandoned).
 */
export function withinCaps(params: { offers: Offer[]; maxPerRequest: bigint; maxPerDay: bigint; spend: SpendLog }): { offers: Offer[]; release(): void } {
  const { offers, maxPerRequest, maxPerDay, spend } = params;
  const cheapest = (list: Offer[]) => list.reduce((a, b) => (quoteOf(a) <= quoteOf(b) ? a : b));
  const underRequestCap = offers.filter((o) => quoteOf(o) <= maxPerRequest);
  if (underRequestCap.length === 0) {
    const quote = quoteOf(cheapest(offers));
    throw capExceeded(
      `the gateway quotes ${usd(quote)}, above the per-request cap of ${usd(maxPerRequest)}; nothing was paid (raise RETOUCH_MAX_PER_REQUEST to at least ${usd(quote).slice(1)})`,
      "max_per_request",
    );
  }
  const today = spend.committedToday();
  const underDayCap = underRequestCap.filter((o) => today + quoteOf(o) <= maxPerDay);
  if (underDayCap.length === 0) {
    const quote = quoteOf(cheapest(underRequestCap));
    throw capExceeded(
      `the gateway quotes ${usd(quote)} and ${usd(today)} was spent today (UTC), which would pass the daily cap of ${usd(maxPerDay)}; nothing was paid (raise RETOUCH_MAX_PER_DAY to at least ${usd(today + quote).slice(1)})`,
      "max_per_day",
    );
  }
  const dearest = underDayCap.reduce((max, o) => (quoteOf(o) > max ? quoteOf(o) : max), 0n);
  return { offers: underDayCap, release: spend.reserve(dearest) };
}
