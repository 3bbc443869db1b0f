// Edits on the fleet's queue (REDIS_URL), as an operator runs it: a gateway
// process that runs no edits itself (RETOUCH_WORKERS=0), `retouch worker`
// processes beside it, PostgreSQL for the ledger, a bucket for results and
// queued inputs, the devchain for payments. A worker killed mid-edit, a queue
// with no free worker, and the fleet-wide limit on upstream calls.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { PaymentRequired } from "@x402/core/types";
import { decodeHeader } from "./support/buyer.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { startFleetServices, TEST_REDIS_URL, type FleetServices } from "./support/fleet.ts";
import { dataUri, solidImage, startTestGateway } from "./support/gateway.ts";
import { liveGatewayEnv, rpcPayer, startGatewayProcess, startRetouch, type GatewayProcess } from "./support/processes.ts";
import { heldSuccess, startFakeOpenAi, type FakeOpenAi } from "./upstreams/fake-openai.ts";

const KEY = "sk-test-queue-9a8b7c";
const EDIT = "/api/v1/images/image2image";

interface PaidBody {
  data?: { url: string }[];
  payment?: { status: string };
  error?: { code: string; message: string };
}

let fleet: FleetServices;
let upstream: FakeOpenAi;
let result: Buffer;

before(async () => {
  result = await solidImage(1024, 1024, "png", "#c63");
  [fleet, upstream] = await Promise.all([startFleetServices(), startFakeOpenAi(KEY, result)]);
});

after(async () => {
  await Promise.all([fleet?.close(), upstream?.close()]);
});

/** One fleet's settings: its own Redis prefix and bucket, the shared ledger, the devchain's facilitator. */
async function fleetEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    ...liveGatewayEnv(fleet.devchain, "remote"),
    RETOUCH_NETWORKS: "base",
    ...fleet.s3.env(await fleet.s3.bucket()),
    DATABASE_URL: fleet.database.url,
    REDIS_URL: TEST_REDIS_URL,
    RETOUCH_REDIS_PREFIX: fleet.redisPrefix("queue"),
    OPENAI_API_KEY: KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
    RETOUCH_LIMIT_QUOTES_PER_MIN: "0",
    ...extra,
  };
}

async function gatewayOnly(env: Record<string, string>): Promise<GatewayProcess> {
  return fleet.track(await startGatewayProcess({ ...env, RETOUCH_WORKERS: "0" }));
}

/** Quotes `edit`, pays it from the devchain's buyer on Base, sends it; the answer, the price and the buyer's balance before. */
async function payAndSend(gateway: GatewayProcess, edit: unknown): Promise<{ response: Response; body: PaidBody; price: bigint; before: bigint }> {
  const quote = await fetch(`${gateway.url}${EDIT}`, jsonInit(edit));
  assert.equal(quote.status, 402, await quote.clone().text());
  const required = decodeHeader<PaymentRequired>(quote.headers.get("payment-required"));
  const before = await fleet.devchain.usdc("base", fleet.devchain.buyer);
  const payment = Buffer.from(JSON.stringify(await rpcPayer(fleet.devchain, "base").createPaymentPayload(required))).toString("base64");
  const response = await fetch(`${gateway.url}${EDIT}`, jsonInit(edit, { "PAYMENT-SIGNATURE": payment }));
  return { response, body: (await response.json()) as PaidBody, price: BigInt(required.accepts[0].amount), before };
}

/** Polls the gateway's /metrics until `line` appears (a queue state the test waits for). */
async function metricsShow(url: string, line: RegExp): Promise<string> {
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (line.test(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("a gateway that runs no edits (RETOUCH_WORKERS=0) hands a paid edit to a `retouch worker`: run there (the worker without the facilitator's settings), settled once, its URL on the gateway, inputs removed from the bucket", { timeout: 120_000 }, async () => {
  const env = await fleetEnv();
  const gateway = await gatewayOnly(env);
  // A worker needs no facilitator or pay-to settings; and it knows its own public URL only: the answer carries the gateway's.
  const { FACILITATOR_URL, RETOUCH_PAY_TO_EVM, RETOUCH_PAY_TO_SOLANA, RETOUCH_NETWORKS, ...workerEnv } = env;
  assert.ok(FACILITATOR_URL && RETOUCH_PAY_TO_EVM && RETOUCH_PAY_TO_SOLANA && RETOUCH_NETWORKS, "the gateway has them");
  const edits = await fleet.startWorker({ ...workerEnv, RETOUCH_PUBLIC_URL: "http://worker.invalid:9" });
  const prompt = `queued ${Date.now()}`;
  const { response, body, price, before } = await payAndSend(gateway, await sceneEdit(64, prompt));

  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.payment?.status, "settled");
  assert.equal(before - (await fleet.devchain.usdc("base", fleet.devchain.buyer)), price, "charged once");
  assert.ok(body.data![0].url.startsWith(`${gateway.url}/api/v1/files/`), body.data![0].url);
  const served = await fetch(body.data![0].url);
  assert.equal(served.status, 200);
  assert.equal(served.headers.get("content-type"), "image/png");
  assert.ok((await served.arrayBuffer()).byteLength > 1000);

  assert.ok(edits.lines.some((line) => line.includes("retouch worker ready")));
  assert.ok(!gateway.lines.some((line) => line.includes('"level":50')), "the gateway logged no error");
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  assert.match(text, /retouch_queue_wait_seconds_count\{model="local\/content-aware-fill"\} 1/);
  assert.match(text, /retouch_queue_run_seconds_count\{model="local\/content-aware-fill"\} 1/);
  assert.deepEqual(await fleet.s3.keys(env.S3_BUCKET, "scratch/"), [], "the queued image and mask are gone from the bucket");
  assert.ok((await fleet.redis.keys(`${env.RETOUCH_REDIS_PREFIX}queue:edits-local:*`)).length > 0, "the job went through the fleet's Redis, under its prefix");
});

test("a worker SIGKILLed mid-edit: another worker takes the job again within its budget; the buyer gets the result and pays once", { timeout: 120_000 }, async () => {
  const env = await fleetEnv({ RETOUCH_INLINE_WINDOW_MS: "60000" });
  const gateway = await gatewayOnly(env);
  const doomed = await fleet.startWorker(env);
  const prompt = `killed worker ${Date.now()}`;
  const edit = { model: "openai/gpt-image-1-mini", prompt, image: dataUri(await solidImage(64, 64)) };
  const { reply, arrived, letGo } = heldSuccess([result]);
  upstream.reply(reply);
  const answer = payAndSend(gateway, edit);
  await arrived;
  await doomed.stop("SIGKILL");
  letGo();
  await fleet.startWorker(env);

  const { response, body, price, before } = await answer;
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.payment?.status, "settled");
  assert.equal(upstream.received.filter((call) => call.body.fields.prompt === prompt).length, 2, "run again by the second worker");
  assert.equal(before - (await fleet.devchain.usdc("base", fleet.devchain.buyer)), price, "charged once");
  const served = await fetch(body.data![0].url.replace(/^https?:\/\/[^/]+/, gateway.url));
  assert.equal(served.status, 200);
  assert.equal((await fleet.ledgerStatuses()).running ?? 0, 0, "no row left running");
});

test("an edit that waited for a free worker longer than its budget is refused 503 queue_timeout, not run late, and charges nothing", { timeout: 120_000 }, async () => {
  const env = await fleetEnv({ RETOUCH_UPSTREAM_TIMEOUT_MS: "300" });
  const gateway = await gatewayOnly(env);
  const prompt = `no worker ${Date.now()}`;
  const answer = payAndSend(gateway, { ...(await sceneEdit(64, prompt)), model: "openai/gpt-image-1-mini" });
  await metricsShow(gateway.url, /retouch_queue_jobs\{lane="openai",state="waiting"\} 1/);
  const calls = upstream.received.length;
  await fleet.startWorker(env);

  const { response, body, before } = await answer;
  assert.equal(response.status, 503, JSON.stringify(body));
  assert.equal(body.error?.code, "queue_timeout");
  assert.match(body.error!.message, /nothing was charged/);
  assert.equal(response.headers.get("retry-after"), "30");
  assert.equal(upstream.received.length, calls, "the upstream was never called");
  assert.equal(await fleet.devchain.usdc("base", fleet.devchain.buyer), before, "nothing charged");
});

describe("RETOUCH_LIMIT_PROVIDER_INFLIGHT", () => {
  /** Two OpenAI edits at once under a limit of 1: the second waits (not fails) until the first call ends. */
  async function secondWaits(env: Record<string, string>): Promise<void> {
    const gw = await startTestGateway({ ...env, RETOUCH_LIMIT_PROVIDER_INFLIGHT: "1", OPENAI_API_KEY: KEY, OPENAI_BASE_URL: upstream.baseUrl });
    try {
      const tag = `inflight ${randomBytes(4).toString("hex")}`;
      const calls = () => upstream.received.filter((call) => String(call.body.fields.prompt).startsWith(tag)).length;
      const edit = (n: number) => ({ model: "openai/gpt-image-1-mini", prompt: `${tag} #${n}`, image: dataUri(result), user: `end-user-${n}` });
      const { reply, arrived, letGo } = heldSuccess([result]);
      upstream.reply(reply);
      const first = gw.postJson(edit(1));
      await arrived;
      const second = gw.postJson(edit(2));
      const metrics = async () => (await gw.request("/metrics")).text();
      while (!/retouch_queue_jobs\{lane="openai",state="waiting"\} 1/.test(await metrics())) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(calls(), 1, "the second call waits");
      letGo();
      const [a, b] = await Promise.all([first, second]);
      assert.equal(a.status, 200, await a.clone().text());
      assert.equal(b.status, 200, await b.clone().text());
      assert.equal(calls(), 2);
      const users = upstream.received.filter((call) => String(call.body.fields.prompt).startsWith(tag)).map((call) => call.body.fields.user);
      assert.deepEqual(users.sort(), ["end-user-1", "end-user-2"], "OpenAI's user field reaches OpenAI, through the queue too");
      if (env.REDIS_URL) assert.deepEqual(await readdir(join(gw.config.dataDir, "scratch")), [], "queued inputs removed from the disk");
    } finally {
      await gw.close();
    }
  }

  test("on the queue, over the fleet-wide limit an upstream edit waits, it is not failed; it runs when a call ends", { timeout: 60_000 }, async () => {
    const prefix = fleet.redisPrefix("queue");
    // Two workers in this process, each free to take an OpenAI edit: only the fleet-wide limit holds the second back.
    await secondWaits({ REDIS_URL: TEST_REDIS_URL, RETOUCH_REDIS_PREFIX: prefix, RETOUCH_WORKERS: "2" });
  });

  test("embedded (no REDIS_URL), the same limit holds in the process: the second call waits, then runs", { timeout: 60_000 }, async () => {
    await secondWaits({});
  });
});

describe("set up wrong, told how to fix it", () => {
  test("`retouch worker` without REDIS_URL exits 2 (configuration error) saying to set it", async () => {
    const run = startRetouch(["worker"], { REDIS_URL: "", RETOUCH_PAYMENTS: "off" });
    assert.equal(await run.exited, 2);
    assert.match(run.lines.join("\n"), /set REDIS_URL/);
  });

  test("`retouch worker` for paying gateways without DATABASE_URL exits 2 naming it", async () => {
    const env = await fleetEnv({ DATABASE_URL: "" });
    const run = startRetouch(["worker"], env);
    assert.equal(await run.exited, 2);
    assert.match(run.lines.join("\n"), /DATABASE_URL/);
  });

  test("RETOUCH_WORKERS without REDIS_URL stops start-up naming both", async () => {
    await assert.rejects(startTestGateway({ RETOUCH_WORKERS: "2" }), { name: "ConfigError", message: /RETOUCH_WORKERS.*REDIS_URL/ });
  });
});
