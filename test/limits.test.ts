// Limits as a flooding client and a greedy payer meet them: unpaid quotes per
// client address (in memory, and shared through Redis by two gateways), the
// address behind trusted proxies, and paid edits at once per payer.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { serve } from "@hono/node-server";
import { Redis } from "ioredis";
import { clientAddress } from "../src/gateway/index.ts";
import { signV2 } from "./support/buyer.ts";
import { dataUri, solidImage, startTestGateway, type TestGateway } from "./support/gateway.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { testBuyer } from "./support/test-buyer.ts";
import { heldSuccess, startFakeOpenAi, type FakeOpenAi } from "./upstreams/fake-openai.ts";

const EDIT = "/api/v1/images/image2image";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

interface ErrorBody {
  error: { message: string; type: string; code: string };
}

/** The gateway on a real socket, so the limit sees the connection's address. */
async function listen(gw: TestGateway): Promise<{ url: string; close(): void }> {
  const server = serve({ fetch: gw.gateway.app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

let edit: Record<string, unknown>;
before(async () => {
  edit = await sceneEdit(64);
});

const quote = (url: string, headers: Record<string, string> = {}, body: unknown = edit) => fetch(`${url}${EDIT}`, jsonInit(body, headers));

async function tooMany(response: Response, variable: string): Promise<ErrorBody["error"]> {
  const body = (await response.json()) as ErrorBody;
  assert.equal(response.status, 429, JSON.stringify(body));
  assert.equal(body.error.type, "rate_limit_error");
  assert.equal(body.error.code, "rate_limit_exceeded");
  assert.ok(body.error.message.includes(variable), body.error.message);
  const retryAfter = Number(response.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  return body.error;
}

test("the client address: the socket's peer, or X-Forwarded-For read from the right as far as the trusted proxies go", () => {
  assert.equal(clientAddress("10.0.0.9", "6.6.6.6", 0), "10.0.0.9", "no trusted proxy: the header is the client's to invent");
  assert.equal(clientAddress("10.0.0.9", "6.6.6.6, 203.0.113.7", 1), "203.0.113.7", "one proxy appended the address it saw");
  assert.equal(clientAddress("10.0.0.9", "6.6.6.6, 203.0.113.7, 10.0.0.2", 2), "203.0.113.7");
  assert.equal(clientAddress("10.0.0.9", "203.0.113.7", 3), "203.0.113.7", "fewer hops than proxies: the leftmost");
  assert.equal(clientAddress("10.0.0.9", undefined, 1), "10.0.0.9");
  assert.equal(clientAddress(undefined, undefined, 0), "unknown");
  assert.equal(clientAddress("10.0.0.9", "6.6.6.6,, 203.0.113.7 ,", 1), "203.0.113.7", "empty entries and spaces are not hops");
  assert.equal(clientAddress("10.0.0.9", " , ,", 1), "10.0.0.9", "a header of empty entries names no one: the peer");
});

describe("unpaid quotes per client address (RETOUCH_LIMIT_QUOTES_PER_MIN)", () => {
  let gw: TestGateway;
  let http: { url: string; close(): void };
  before(async () => {
    gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_LIMIT_QUOTES_PER_MIN: "5" });
    http = await listen(gw);
  });
  after(async () => {
    http?.close();
    await gw?.close();
  });

  test("the 6th unpaid request in a minute is a 429 naming the variable, before the body is even read; payments are not counted", async () => {
    for (let i = 0; i < 5; i++) assert.equal((await quote(http.url)).status, 402, `quote ${i + 1}`);
    await tooMany(await quote(http.url), "RETOUCH_LIMIT_QUOTES_PER_MIN");
    // Garbage that would be a 400 is refused as 429 all the same: nothing was decoded.
    await tooMany(await fetch(`${http.url}${EDIT}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" }), "RETOUCH_LIMIT_QUOTES_PER_MIN");
    // A request with a payment is judged on its payment, not on the address's quotes.
    const paid = await quote(http.url, { "PAYMENT-SIGNATURE": Buffer.from("{}").toString("base64") });
    assert.equal(paid.status, 402);
    assert.match(((await paid.json()) as { error: string }).error, /invalid payment/);
    // Without a trusted proxy, X-Forwarded-For changes nothing.
    await tooMany(await quote(http.url, { "x-forwarded-for": "198.51.100.1" }), "RETOUCH_LIMIT_QUOTES_PER_MIN");
    const metrics = await (await gw.request("/metrics")).text();
    assert.match(metrics, /retouch_limit_rejections_total\{kind="quotes"\} 3/);
  });
});

test("behind one trusted proxy (RETOUCH_TRUST_PROXY=1) each client address has its own allowance", async () => {
  const gw = await startTestGateway({ RETOUCH_LIMIT_QUOTES_PER_MIN: "2", RETOUCH_TRUST_PROXY: "1" });
  const http = await listen(gw);
  try {
    const from = (address: string) => quote(http.url, { "x-forwarded-for": `1.2.3.4, ${address}` });
    assert.equal((await from("203.0.113.1")).status, 200);
    assert.equal((await from("203.0.113.1")).status, 200);
    const refused = await tooMany(await from("203.0.113.1"), "RETOUCH_LIMIT_QUOTES_PER_MIN");
    assert.match(refused.message, /from 203\.0\.113\.1/);
    assert.equal((await from("203.0.113.2")).status, 200, "another client behind the same proxy");
  } finally {
    http.close();
    await gw.close();
  }
});

test("two gateways on one Redis (REDIS_URL) share one allowance per address", async () => {
  const prefix = `retouch-test-${process.pid}-${Date.now()}:`;
  const env = { REDIS_URL, RETOUCH_REDIS_PREFIX: prefix, RETOUCH_LIMIT_QUOTES_PER_MIN: "4" };
  const [a, b] = await Promise.all([startTestGateway(env), startTestGateway(env)]);
  const [httpA, httpB] = await Promise.all([listen(a), listen(b)]);
  const redis = new Redis(REDIS_URL);
  try {
    assert.equal((await quote(httpA.url)).status, 200);
    assert.equal((await quote(httpB.url)).status, 200);
    assert.equal((await quote(httpA.url)).status, 200);
    assert.equal((await quote(httpB.url)).status, 200);
    await tooMany(await quote(httpA.url), "RETOUCH_LIMIT_QUOTES_PER_MIN");
    await tooMany(await quote(httpB.url), "RETOUCH_LIMIT_QUOTES_PER_MIN");
    assert.ok((await redis.keys(`${prefix}*`)).length > 0, "the count lives in Redis under the prefix");
    assert.deepEqual(await (await a.request("/readyz")).json(), { status: "ready", checks: { redis: "ok" } });
  } finally {
    httpA.close();
    httpB.close();
    await Promise.all([a.close(), b.close()]);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
});

test("a REDIS_URL that does not answer stops start-up in one line naming it", async () => {
  await assert.rejects(startTestGateway({ REDIS_URL: "redis://127.0.0.1:9" }), {
    name: "ConfigError",
    message: /^REDIS_URL: Redis at 127\.0\.0\.1:9 does not answer \(.+\): check REDIS_URL and that Redis runs$/,
  });
});

describe("paid edits at once per payer (RETOUCH_LIMIT_PAYER_CONCURRENCY)", () => {
  const KEY = "sk-test-limits-4f3e2d";
  let upstream: FakeOpenAi;
  let gw: TestGateway;
  let image: Buffer;
  before(async () => {
    image = await solidImage(1024, 1024, "png", "#2a6");
    upstream = await startFakeOpenAi(KEY, image);
    gw = await startTestGateway({
      RETOUCH_PAYMENTS: "devchain",
      RETOUCH_LIMIT_PAYER_CONCURRENCY: "1",
      RETOUCH_INLINE_WINDOW_MS: "0",
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: upstream.baseUrl,
    });
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
  });

  test("a second paid edit while the first runs is a 429 that charges nothing; the same payment works once the first is done; others are not held up", async () => {
    const source = dataUri(await solidImage(64, 64));
    const miniEdit = (n: number) => ({ model: "openai/gpt-image-1-mini", prompt: `limits #${n} ${Date.now()}`, image: source });
    const { reply, letGo } = heldSuccess([image]);
    upstream.reply(reply);
    const greedy = await testBuyer(gw);
    const first = miniEdit(1);
    const { header: firstPayment } = await signV2(gw, "base", EDIT, jsonInit(first), greedy.wallet);
    const running = await gw.request(EDIT, jsonInit(first, { "PAYMENT-SIGNATURE": firstPayment }));
    assert.equal(running.status, 202, await running.clone().text());

    const second = miniEdit(2);
    const { header: secondPayment } = await signV2(gw, "base", EDIT, jsonInit(second), greedy.wallet);
    const refused = await tooMany(await gw.request(EDIT, jsonInit(second, { "PAYMENT-SIGNATURE": secondPayment })), "RETOUCH_LIMIT_PAYER_CONCURRENCY");
    assert.match(refused.message, /nothing was charged/);
    assert.equal((await greedy.rows()).length, 1, "the refused payment was not claimed");

    const other = await testBuyer(gw);
    const third = miniEdit(3);
    const { header: otherPayment } = await signV2(gw, "base", EDIT, jsonInit(third), other.wallet);
    assert.equal((await gw.request(EDIT, jsonInit(third, { "PAYMENT-SIGNATURE": otherPayment }))).status, 202, "another payer is not held up");

    letGo();
    const until = Date.now() + 20_000;
    while ((await greedy.rows())[0]?.status !== "completed" && (await greedy.rows())[0]?.status !== "settled") {
      assert.ok(Date.now() < until, "the first edit did not finish");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The slot frees as the edit ends: the refused payment, sent again as it was (as a client
    // honouring Retry-After would), runs then.
    let again = await gw.request(EDIT, jsonInit(second, { "PAYMENT-SIGNATURE": secondPayment }));
    while (again.status === 429 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await gw.request(EDIT, jsonInit(second, { "PAYMENT-SIGNATURE": secondPayment }));
    }
    assert.equal(again.status, 202, await again.clone().text());
    assert.equal((await greedy.rows()).length, 2);
    // Let every edit end before the gateway closes.
    const done = async () => [...(await greedy.rows()), ...(await other.rows())].every((row) => row.status === "completed");
    while (!(await done())) {
      assert.ok(Date.now() < until + 20_000, "the edits did not finish");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
