// The limits on their own, as a flooding client and a greedy payer meet them:
// what a 429 says and when it says to come back, the payer's slots (any case of
// the address, given back once, a lapsed one not given back), and the same in
// Redis shared by two gateways' limiters. test/limits.test.ts covers the routes.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { RetouchError } from "../errors.ts";
import { createLimits, type LimitKind, type LimitSettings } from "./limits.ts";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const PAYER = "0xAbCdEf0000000000000000000000000000000001";

function limitsWith(settings: Partial<LimitSettings>, redis?: { client: Redis; prefix: string }) {
  const rejected: LimitKind[] = [];
  const limits = createLimits({
    settings: { quotesPerMinute: 0, payerConcurrency: 0, slotLifetimeMs: 600_000, ...settings },
    redis,
    onRejected: (kind) => rejected.push(kind),
  });
  return { limits, rejected };
}

/** The 429 `attempt` must end with: its message and Retry-After. */
async function tooMany(attempt: Promise<unknown>): Promise<{ message: string; retryAfter: number }> {
  const error = await attempt.then(
    () => assert.fail("expected a 429, but it was allowed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof RetouchError, String(error));
  assert.deepEqual({ status: error.status, type: error.type, code: error.code }, { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded" });
  return { message: error.message, retryAfter: Number(error.headers["Retry-After"]) };
}

describe("unpaid quotes per client address", () => {
  test("the allowance is per address; the one over it is told to come back when the minute refills", async () => {
    const { limits, rejected } = limitsWith({ quotesPerMinute: 2 });
    await limits.quote("203.0.113.7");
    await limits.quote("203.0.113.7");
    await limits.quote("198.51.100.1");
    const { message, retryAfter } = await tooMany(limits.quote("203.0.113.7"));
    // The window opened a moment ago, so it refills in (just under) 60 s, rounded up.
    assert.ok(retryAfter >= 55 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(
      message,
      `too many unpaid requests from 203.0.113.7: the limit is 2 a minute (RETOUCH_LIMIT_QUOTES_PER_MIN); a request that carries a payment is not counted; retry after ${retryAfter} s`,
    );
    assert.deepEqual(rejected, ["quotes"]);
  });

  test("0 means no limit", async () => {
    const { limits, rejected } = limitsWith({ quotesPerMinute: 0 });
    for (let i = 0; i < 200; i++) await limits.quote("203.0.113.7");
    assert.deepEqual(rejected, []);
  });
});

describe("paid edits at once per payer", () => {
  test("a payer over its slots is a 429 saying nothing was charged and to retry in 5 s, whatever the case of its address", async () => {
    const { limits, rejected } = limitsWith({ payerConcurrency: 2 });
    await limits.payerSlot(PAYER);
    await limits.payerSlot(PAYER.toLowerCase());
    const { message, retryAfter } = await tooMany(limits.payerSlot(PAYER.toUpperCase().replace("0X", "0x")));
    assert.equal(retryAfter, 5);
    assert.match(message, /^0xABCDEF0+1 already has 2 paid edits running \(RETOUCH_LIMIT_PAYER_CONCURRENCY\); nothing was charged: send the same payment again when one has finished; retry after 5 s$/);
    assert.deepEqual(rejected, ["payer_concurrency"]);
    await limits.payerSlot("0x0000000000000000000000000000000000000002");
  });

  test("a slot given back frees exactly one: refusals take none, and giving back twice counts once", async () => {
    const { limits } = limitsWith({ payerConcurrency: 1 });
    const release = await limits.payerSlot(PAYER);
    for (let i = 0; i < 3; i++) await tooMany(limits.payerSlot(PAYER));
    await release();
    await release();
    await limits.payerSlot(PAYER);
    await tooMany(limits.payerSlot(PAYER));
  });

  test("0 means no limit, and its release is harmless", async () => {
    const { limits } = limitsWith({ payerConcurrency: 0 });
    const releases = await Promise.all(Array.from({ length: 50 }, () => limits.payerSlot(PAYER)));
    await Promise.all(releases.map((release) => release()));
  });

  test("a slot that lapsed (its process died holding it) frees itself, and a late release of it frees nothing else", async (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
    const { limits } = limitsWith({ payerConcurrency: 1, slotLifetimeMs: 1_500 });
    const late = await limits.payerSlot(PAYER);
    t.mock.timers.tick(1_499);
    await tooMany(limits.payerSlot(PAYER));
    t.mock.timers.tick(1);
    const fresh = await limits.payerSlot(PAYER);
    await late();
    await tooMany(limits.payerSlot(PAYER));
    await fresh();
    await limits.payerSlot(PAYER);
  });

  test("each slot lapses on its own: one taken later outlives the first", async (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
    const { limits } = limitsWith({ payerConcurrency: 2, slotLifetimeMs: 10_000 });
    await limits.payerSlot(PAYER);
    t.mock.timers.tick(9_000);
    await limits.payerSlot(PAYER);
    t.mock.timers.tick(1_000);
    await limits.payerSlot(PAYER);
    await tooMany(limits.payerSlot(PAYER));
  });
});

describe("in Redis, shared by every gateway", () => {
  let redis: Redis;
  const prefix = `retouch-limits-unit-${randomBytes(4).toString("hex")}:`;
  before(() => {
    redis = new Redis(REDIS_URL);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  test("two gateways' limiters share each address's quotes and each payer's slots, under the prefix", async () => {
    const a = limitsWith({ quotesPerMinute: 3, payerConcurrency: 1 }, { client: redis, prefix }).limits;
    const b = limitsWith({ quotesPerMinute: 3, payerConcurrency: 1 }, { client: redis, prefix }).limits;
    await a.quote("203.0.113.7");
    await b.quote("203.0.113.7");
    await a.quote("203.0.113.7");
    await tooMany(b.quote("203.0.113.7"));
    const release = await a.payerSlot(PAYER);
    await tooMany(b.payerSlot(PAYER.toLowerCase()));
    await release();
    await b.payerSlot(PAYER);
    assert.deepEqual((await redis.keys(`${prefix}*`)).sort(), [`${prefix}limit:payer:${PAYER.toLowerCase()}`, `${prefix}limit:quotes:203.0.113.7`]);
  });

  test("twenty payments of one payer at once through two gateways: exactly its three slots are taken", async () => {
    const settings = { payerConcurrency: 3 };
    const [a, b] = [limitsWith(settings, { client: redis, prefix }).limits, limitsWith(settings, { client: redis, prefix }).limits];
    const payer = "0x00000000000000000000000000000000000000c3";
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).payerSlot(payer)));
    assert.equal(results.filter((result) => result.status === "fulfilled").length, 3);
  });

  test("a lapsed slot leaves Redis on its own, and its late release frees nothing", async () => {
    const { limits } = limitsWith({ payerConcurrency: 1, slotLifetimeMs: 300 }, { client: redis, prefix });
    const payer = "0x00000000000000000000000000000000000000d4";
    const key = `${prefix}limit:payer:${payer}`;
    const late = await limits.payerSlot(payer);
    assert.ok((await redis.pttl(key)) > 0, "the key expires with its last slot");
    while ((await redis.exists(key)) === 1) await new Promise((resolve) => setTimeout(resolve, 25));
    const fresh = await limits.payerSlot(payer);
    await late();
    await tooMany(limits.payerSlot(payer));
    await fresh();
    assert.equal(await redis.exists(key), 0, "the last slot given back leaves an empty set, which Redis removes");
  });

  test("while Redis does not answer, each gateway still limits on its own", async () => {
    const down = new Redis({ port: 9, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on("error", () => undefined);
    try {
      const { limits } = limitsWith({ quotesPerMinute: 1, payerConcurrency: 1 }, { client: down, prefix });
      await limits.quote("203.0.113.9");
      await tooMany(limits.quote("203.0.113.9"));
      const release = await limits.payerSlot(PAYER);
      await tooMany(limits.payerSlot(PAYER));
      await release();
      await limits.payerSlot(PAYER);
    } finally {
      down.disconnect();
    }
  });
});
