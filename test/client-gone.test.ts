// A paying client that disconnects before its answer is written is not charged:
// the edit finishes, the row stays `completed` with the reason, the buyer's
// authorization stays unused, and a replay of the same request and payment
// settles it and returns the result, once. Over real HTTP, because the signal
// that says "the client has gone" comes from the Node server.

import { test } from "node:test";
import assert from "node:assert/strict";
import { dataUri, solidImage, startTestGateway } from "./support/gateway.ts";
import { signV2 } from "./support/buyer.ts";
import { jsonInit } from "./support/edit-input.ts";
import { listenFirst } from "./support/listen-first.ts";
import { testBuyer } from "./support/test-buyer.ts";
import { success, startFakeOpenAi } from "./upstreams/fake-openai.ts";

const KEY = "sk-test-client-gone-7h8i9j";
const EDIT = "/api/v1/images/image2image";
/** gpt-image-1-mini at 1024x1024: $0.011 + 5%. */
const MINI_PRICE = 11_550n;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`gave up waiting for ${what}`);
}

test("a client that disconnects while its paid edit runs is not charged; replaying the same payment settles it once and returns the result", { timeout: 120_000 }, async () => {
  const result = await solidImage(1024, 1024, "png", "#a52");
  const upstream = await startFakeOpenAi(KEY, result);
  const server = await listenFirst();
  const url = server.url;
  const gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_PUBLIC_URL: url, OPENAI_API_KEY: KEY, OPENAI_BASE_URL: upstream.baseUrl });
  // What the gateway's handler sees: the signal of the request it is answering.
  const gone = deferred();
  server.use((request: Request) => {
    if (request.method === "POST") request.signal.addEventListener("abort", () => gone.resolve());
    return gw.gateway.app.fetch(request);
  });
  try {
    const buyer = await testBuyer(gw);
    // The upstream holds its answer until the gateway has seen the client go.
    const started = deferred();
    upstream.reply(async (res, received, req) => {
      started.resolve();
      await gone.promise;
      await success([result])(res, received, req);
    });
    const edit = { model: "openai/gpt-image-1-mini", prompt: "make it red, then hang up", image: dataUri(await solidImage(64, 64)) };
    const { header } = await signV2(gw, "base", EDIT, jsonInit(edit), buyer.wallet);
    const client = new AbortController();
    const request = fetch(`${url}${EDIT}`, { ...jsonInit(edit, { "PAYMENT-SIGNATURE": header }), signal: client.signal });

    await started.promise;
    assert.deepEqual(await buyer.rows(), [{ status: "running", tx_hash: null }]);
    client.abort();
    await assert.rejects(request, { name: "AbortError" });
    await gone.promise;

    const [jobId] = await buyer.jobs();
    // The gateway has decided once the row carries a note (kept for a replay) or has gone on to settle.
    await until("the gateway to decide about the finished edit", async () => {
      const { note, status } = (await gw.gateway.ledger!.byJob(jobId))!;
      return note !== null || !["verified", "running", "completed"].includes(status);
    });
    const row = (await gw.gateway.ledger!.byJob(jobId))!;
    assert.equal(row.status, "completed");
    assert.equal(row.txHash, null);
    assert.match(row.note!, /not settled at .*: the client disconnected before the answer was written/);
    assert.equal(await buyer.paid("base"), 0n, "the buyer who left is not charged");

    const replay = await fetch(`${url}${EDIT}`, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const paid = (await replay.json()) as { data: { url: string }[]; payment: { status: string; tx_hash: string } };
    assert.equal(replay.status, 200, JSON.stringify(paid));
    assert.equal(paid.payment.status, "settled");
    assert.equal(await buyer.paid("base"), MINI_PRICE);
    const image = await fetch(paid.data[0].url);
    assert.equal(image.status, 200);
    assert.ok(Buffer.from(await image.arrayBuffer()).equals(result), "the result the edit made while the client was away");

    const again = await fetch(`${url}${EDIT}`, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const second = (await again.json()) as typeof paid;
    assert.equal(again.status, 200);
    assert.equal(second.payment.status, "already_settled");
    assert.equal(second.payment.tx_hash, paid.payment.tx_hash);
    assert.equal(await buyer.paid("base"), MINI_PRICE, "charged exactly once");
    assert.equal(upstream.received.length, 1, "the edit ran once");
    assert.deepEqual(await buyer.rows(), [{ status: "settled", tx_hash: paid.payment.tx_hash }]);
  } finally {
    await server.close();
    await gw.close();
    await upstream.close();
  }
});
