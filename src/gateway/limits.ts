// Limits that keep one client from taking the server: unpaid quotes per client
// address and paid edits at once per payer. In memory for one process; in Redis
// (REDIS_URL) for a fleet, so the limits hold across gateways. Over a limit is a
// 429 with Retry-After whose message names the limit and its variable.

import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { RetouchError } from "../errors.ts";

export interface LimitSettings {
  /** Unpaid edit requests (quotes) per client address per minute; 0 = no limit. */
  quotesPerMinute: number;
  /** Paid edits running at once per payer; 0 = no limit. */
  payerConcurrency: number;
  /** How long a payer's slot may be held before it lapses (a process that died holding it). */
  slotLifetimeMs: number;
}

/** What a payer over its limit is told to wait before trying again. */
const SLOT_RETRY_SECONDS = 5;

export type LimitKind = "quotes" | "payer_concurrency";

export interface Limits {
  /** Counts one unpaid request from `client`; a 429 when over. */
  quote(client: string): Promise<void>;
  /** Takes one of `payer`'s slots for a paid edit (a 429 when none is free); the function gives it back. */
  payerSlot(payer: string): Promise<() => Promise<void>>;
}

export interface LimitsOptions {
  settings: LimitSettings;
  /** Shared by every gateway; without it the limits are this process's. */
  redis?: { client: Redis; prefix: string };
  onRejected?(kind: LimitKind): void;
}

export function createLimits(options: LimitsOptions): Limits {
  const { settings } = options;
  const limiter = (name: string, points: number, durationSeconds: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ points, duration: durationSeconds });
    if (!options.redis) return memory;
    // If Redis stops answering, each process keeps limiting on its own rather than letting everything through.
    return new RateLimiterRedis({
      storeClient: options.redis.client,
      keyPrefix: `${options.redis.prefix}limit:${name}`,
      points,
      duration: durationSeconds,
      insuranceLimiter: memory,
    });
  };
  const quotes = settings.quotesPerMinute > 0 ? limiter("quotes", settings.quotesPerMinute, 60) : undefined;
  const slots = settings.payerConcurrency > 0 ? limiter("payer", settings.payerConcurrency, Math.ceil(settings.slotLifetimeMs / 1000)) : undefined;

  const refused = (kind: LimitKind, message: string, result: unknown): never => {
    if (!(result instanceof RateLimiterRes)) throw result; // not a refusal: the store failed
    options.onRejected?.(kind);
    // A quote allowance refills at a known time; a payer's slot frees when one of its edits ends, soon but unknown.
    const seconds = kind === "quotes" ? Math.max(1, Math.ceil(result.msBeforeNext / 1000)) : SLOT_RETRY_SECONDS;
    throw new RetouchError(`${message}; retry after ${seconds} s`, {
      status: 429,
      type: "rate_limit_error",
      code: "rate_limit_exceeded",
      headers: { "Retry-After": String(seconds) },
    });
  };

  return {
    async quote(client) {
      if (!quotes) return;
      await quotes.consume(client).catch((result: unknown) =>
        refused(
          "quotes",
          `too many unpaid requests from ${client}: the limit is ${settings.quotesPerMinute} a minute (RETOUCH_LIMIT_QUOTES_PER_MIN); a request that carries a payment is not counted`,
          result,
        ),
      );
    },

    async payerSlot(payer) {
      if (!slots) return async () => {};
      const key = payer.toLowerCase();
      await slots.consume(key).catch(async (result: unknown) => {
        // A refused consume still counted: give that point back, or the payer would stay over the limit.
        if (result instanceof RateLimiterRes) await slots.reward(key, 1).catch(() => undefined);
        return refused(
          "payer_concurrency",
          `${payer} already has ${settings.payerConcurrency} paid edits running (RETOUCH_LIMIT_PAYER_CONCURRENCY); nothing was charged: send the same payment again when one has finished`,
          result,
        );
      });
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        // A slot that lapsed meanwhile is not given back twice (that would allow one more than the limit).
        const held = await slots.get(key).catch(() => null);
        if (held && held.consumedPoints > 0) await slots.reward(key, 1).catch(() => undefined);
      };
    },
  };
}

/**
 * The client's address: the connection's peer, or with `trustProxies` > 0 the address the outermost
 * trusted proxy saw, read from X-Forwarded-For counting from its right end (each proxy appends
 * the peer it saw, so entries further left are the client's to invent).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trustProxies: number): string {
  if (trustProxies > 0 && forwardedFor) {
    const hops = forwardedFor
      .split(",")
      .map((hop) => hop.trim())
      .filter(Boolean);
    if (hops.length > 0) return hops[Math.max(0, hops.length - trustProxies)];
  }
  return peer ?? "unknown";
}
