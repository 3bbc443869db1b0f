// A deploy as an operator does it: SIGTERM to a gateway process while a paid edit
// runs. It stops taking connections, lets the edit finish and settle within
// RETOUCH_SHUTDOWN_GRACE_MS, and exits 0; the buyer gets the result and pays once.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { PaymentRequired } from "@x402/core/types";
import { decodeHeader } from "./support/buyer.ts";
import { dataUri, solidImage } from "./support/gateway.ts";
import { jsonInit } from "./support/edit-input.ts";
import { liveGatewayEnv, rpcPayer, startDevchainProcess, startGatewayProcess, type DevchainProcess } from "./support/processes.ts";
import { heldSuccess, startFakeOpenAi, type FakeOpenAi } from "./upstreams/fake-openai.ts";

const KEY = "sk-test-shutdown-7c6b5a";
const EDIT = "/api/v1/images/image2image";

let devchain: DevchainProcess;
let upstream: FakeOpenAi;
let image: Buffer;
before(async () => {
  image = await solidImage(1024, 1024, "png", "#36c");
  [devchain, upstream] = await Promise.all([startDevchainProcess(), startFakeOpenAi(KEY, image)]);
});
after(async () => {
  await upstream?.close();
  await devchain?.close();
});

test("SIGTERM mid-edit: no new connections, the paid edit finishes and settles once, the process exits 0", { timeout: 120_000 }, async () => {
  const gateway = await startGatewayProcess({
    ...liveGatewayEnv(devchain, "remote"),
    RETOUCH_NETWORKS: "base",
    OPENAI_API_KEY: KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
    RETOUCH_SHUTDOWN_GRACE_MS: "60000",
  });
  const edit = { model: "openai/gpt-image-1-mini", prompt: `shutdown ${Date.now()}`, image: dataUri(await solidImage(64, 64)) };
  const { reply, arrived: atUpstream, letGo } = heldSuccess([image]);
  upstream.reply(reply);

  const quote = await fetch(`${gateway.url}${EDIT}`, jsonInit(edit));
  assert.equal(quote.status, 402);
  const required = decodeHeader<PaymentRequired>(quote.headers.get("payment-required"));
  const price = BigInt(required.accepts[0].amount);
  const before = await devchain.usdc("base", devchain.buyer);
  const payment = Buffer.from(JSON.stringify(await rpcPayer(devchain, "base").createPaymentPayload(required))).toString("base64");
  const answer = fetch(`${gateway.url}${EDIT}`, jsonInit(edit, { "PAYMENT-SIGNATURE": payment }));
  await atUpstream;

  const stopped = gateway.stop("SIGTERM");
  await gateway.waitFor((line) => line.includes("shutting down"));
  await assert.rejects(fetch(`${gateway.url}/healthz`), "a new connection is refused while the edit finishes");
  letGo();

  const response = await answer;
  const body = (await response.json()) as { data: { url: string }[]; payment: { status: string } };
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.payment.status, "settled");
  await stopped;
  assert.equal(await gateway.exited, 0);
  assert.ok(gateway.lines.some((line) => line.includes('"msg":"stopped"')));
  assert.equal(before - (await devchain.usdc("base", devchain.buyer)), price, "charged exactly once");
  await gateway.close();
});

test("past RETOUCH_SHUTDOWN_GRACE_MS the process exits anyway, saying so; the cut-off edit is not charged", { timeout: 120_000 }, async () => {
  const gateway = await startGatewayProcess({
    ...liveGatewayEnv(devchain, "remote"),
    RETOUCH_NETWORKS: "base",
    OPENAI_API_KEY: KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
    RETOUCH_SHUTDOWN_GRACE_MS: "500",
  });
  const edit = { model: "openai/gpt-image-1-mini", prompt: `shutdown late ${Date.now()}`, image: dataUri(await solidImage(64, 64)) };
  const { reply, arrived: atUpstream, letGo } = heldSuccess([image]);
  upstream.reply(reply);
  const quote = await fetch(`${gateway.url}${EDIT}`, jsonInit(edit));
  const required = decodeHeader<PaymentRequired>(quote.headers.get("payment-required"));
  const before = await devchain.usdc("base", devchain.buyer);
  const payment = Buffer.from(JSON.stringify(await rpcPayer(devchain, "base").createPaymentPayload(required))).toString("base64");
  const answer = fetch(`${gateway.url}${EDIT}`, jsonInit(edit, { "PAYMENT-SIGNATURE": payment })).then(
    (response) => response.status,
    () => "connection closed",
  );
  await atUpstream;
  await gateway.stop("SIGTERM");
  letGo();
  assert.equal(await gateway.exited, 0);
  assert.ok(gateway.lines.some((line) => line.includes("RETOUCH_SHUTDOWN_GRACE_MS")), gateway.lines.join("\n"));
  assert.equal(await answer, "connection closed");
  assert.equal(await devchain.usdc("base", devchain.buyer), before, "nothing charged");
  await gateway.close();
});

test("SIGTERM while an edit answered 202 runs in the background: the process waits for it; after a restart its payment gets the result, run once", { timeout: 120_000 }, async () => {
  const env = {
    ...liveGatewayEnv(devchain, "remote"),
    RETOUCH_NETWORKS: "base",
    OPENAI_API_KEY: KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
    RETOUCH_INLINE_WINDOW_MS: "0",
    RETOUCH_SHUTDOWN_GRACE_MS: "60000",
  };
  const gateway = await startGatewayProcess(env);
  const prompt = `shutdown 202 ${Date.now()}`;
  const edit = { model: "openai/gpt-image-1-mini", prompt, image: dataUri(await solidImage(64, 64)) };
  const { reply, arrived: atUpstream, letGo } = heldSuccess([image]);
  upstream.reply(reply);
  const quote = await fetch(`${gateway.url}${EDIT}`, jsonInit(edit));
  const required = decodeHeader<PaymentRequired>(quote.headers.get("payment-required"));
  const price = BigInt(required.accepts[0].amount);
  const before = await devchain.usdc("base", devchain.buyer);
  const payment = Buffer.from(JSON.stringify(await rpcPayer(devchain, "base").createPaymentPayload(required))).toString("base64");
  const accepted = await fetch(`${gateway.url}${EDIT}`, jsonInit(edit, { "PAYMENT-SIGNATURE": payment }));
  assert.equal(accepted.status, 202);
  await atUpstream;

  const stopped = gateway.stop("SIGTERM");
  await gateway.waitFor((line) => line.includes("shutting down"));
  letGo();
  await stopped;
  assert.equal(await gateway.exited, 0);

  // The next process on the same data folder: the buyer sends the same payment again.
  const next = await startGatewayProcess({ ...env, RETOUCH_INLINE_WINDOW_MS: "30000" }, { dataDir: gateway.dataDir, port: gateway.port });
  try {
    const replay = await fetch(`${next.url}${EDIT}`, jsonInit(edit, { "PAYMENT-SIGNATURE": payment }));
    const body = (await replay.json()) as { data: { url: string }[]; payment: { status: string } };
    assert.equal(replay.status, 200, JSON.stringify(body));
    // Settled by the replay, or already by the new process's start-up sweep: either way once.
    assert.ok(["settled", "already_settled"].includes(body.payment.status), body.payment.status);
    assert.equal(upstream.received.filter((r) => r.body.fields.prompt === prompt).length, 1, "the edit ran once: the shutdown waited for it");
    assert.equal(before - (await devchain.usdc("base", devchain.buyer)), price, "charged exactly once");
  } finally {
    await next.close();
    await gateway.close();
  }
});
