// Limits that keep one client from taking the server: unpaid quotes per client
// address and paid edits at once per payer. In memory for one process; in Redis
// (REDIS_URL) for a fleet, so the limits hold across gateways. Over a limit is a
// 429 with Retry-After whose message names the limit and its variable.

import { randomUUID } from "node:crypto";
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
  const quotes = settings.quotesPerMinute > 0 ? quoteLimiter(settings.quotesPerMinute, options.redis) : undefined;
  const slots = settings.payerConcurrency > 0 ? slotStore(options.redis) : undefined;

  const refused = (kind: LimitKind, message: string, seconds: number): never => {
    options.onRejected?.(kind);
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
      await quotes.consume(client).catch((result: unknown) => {
        if (!(result instanceof RateLimiterRes)) throw result; // not a refusal: the store failed
        // The allowance refills when the minute that counted it ends.
        const message = `too many unpaid requests from ${client}: the limit is ${settings.quotesPerMinute} a minute (RETOUCH_LIMIT_QUOTES_PER_MIN); a request that carries a payment is not counted`;
        return refused("quotes", message, Math.max(1, Math.ceil(result.msBeforeNext / 1000)));
      });
    },

    async payerSlot(payer) {
      if (!slots) return async () => {};
      const key = payer.toLowerCase();
      const slot = await slots.take(key, settings.payerConcurrency, settings.slotLifetimeMs);
      if (slot === undefined) {
        // A slot frees when one of the payer's edits ends: soon, but when is unknown.
        const message = `${payer} already has ${settings.payerConcurrency} paid edits running (RETOUCH_LIMIT_PAYER_CONCURRENCY); nothing was charged: send the same payment again when one has finished`;
        return refused("payer_concurrency", message, SLOT_RETRY_SECONDS);
      }
      // Giving a slot back twice is harmless: its id is its own.
      return () => slots.give(key, slot);
    },
  };
}

function quoteLimiter(perMinute: number, redis: LimitsOptions["redis"]): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ points: perMinute, duration: 60 });
  if (!redis) return memory;
  // If Redis stops answering, each process keeps limiting on its own rather than letting everything through.
  return new RateLimiterRedis({ storeClient: redis.client, keyPrefix: `${redis.prefix}limit:quotes`, points: perMinute, duration: 60, insuranceLimiter: memory });
}

/**
 * A payer's slots: each one held has its own id and lifetime, so giving one back frees exactly that
 * one, and one whose process died lapses alone (a late release of a lapsed slot frees nothing).
 */
interface SlotStore {
  /** A new slot's id, or undefined when `limit` unlapsed slots are held under `key`. */
  take(key: string, limit: number, lifetimeMs: number): Promise<string | undefined>;
  give(key: string, slot: string): Promise<void>;
}

function slotStore(redis: LimitsOptions["redis"]): SlotStore {
  const memory = memorySlots();
  if (!redis) return memory;
  // As for quotes: without Redis, each process keeps its own count rather than none.
  const shared = redisSlots(redis.client, `${redis.prefix}limit:payer:`);
  return {
    take: (key, limit, lifetimeMs) => shared.take(key, limit, lifetimeMs).catch(() => memory.take(key, limit, lifetimeMs)),
    give: (key, slot) => Promise.all([shared.give(key, slot).catch(() => undefined), memory.give(key, slot)]).then(() => undefined),
  };
}

function memorySlots(): SlotStore {
  /** Slot id -> when it lapses (ms since the epoch), by payer. */
  const held = new Map<string, Map<string, number>>();
  return {
    async take(key, limit, lifetimeMs) {
      const now = Date.now();
      const slots = held.get(key) ?? new Map<string, number>();
      for (const [slot, lapses] of slots) if (lapses <= now) slots.delete(slot);
      if (slots.size >= limit) return undefined;
      const slot = randomUUID();
      held.set(key, slots.set(slot, now + lifetimeMs));
      return slot;
    },
    async give(key, slot) {
      const slots = held.get(key);
      slots?.delete(slot);
      if (slots?.size === 0) held.delete(key);
    },
  };
}

/**
 * One sorted set per payer (member: slot id, score: when it lapses, by Redis's clock so the fleet's
 * clocks need not agree); taking prunes the lapsed, counts and adds in one script, so two gateways
 * cannot both take the last slot. The key itself expires with its last slot.
 */
const TAKE_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
local lapses = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], lapses, ARGV[3])
local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIREAT', KEYS[1], last)
return 1
`;

function redisSlots(client: Redis, prefix: string): SlotStore {
  return {
    async take(key, limit, lifetimeMs) {
      const slot = randomUUID();
      const taken = await client.eval(TAKE_SLOT, 1, prefix + key, limit, lifetimeMs, slot);
      return taken === 1 ? slot : undefined;
    },
    async give(key, slot) {
      await client.zrem(prefix + key, slot);
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
