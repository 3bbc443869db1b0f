// The whole product on one machine: a caller pays on the devchain for a
// gpt-image-1 edit with a mask; the (fake) OpenAI receives the converted alpha
// mask; the money moves by the quote; the ledger keeps the upstream's usage.
// A failing upstream moves no money.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { dataUri, solidImage, squareMaskPng, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { wrapFetchWithPayment } from "@x402/fetch";
import { appendPaymentIdentifierToExtensions, generatePaymentId } from "@x402/extensions/payment-identifier";
import { payingFetch, x402ClientFor } from "../support/buyer.ts";
import { jsonInit } from "../support/edit-input.ts";
import { failure, startFakeOpenAi, USAGE, type FakeOpenAi } from "./fake-openai.ts";

const KEY = "sk-test-paid-0a1b2c3d4e5f";
const EDIT = "/api/v1/images/image2image";
let fake: FakeOpenAi;
let gw: TestGateway;
let body: Record<string, unknown>;

before(async () => {
  fake = await startFakeOpenAi(KEY, await solidImage(1024, 1024, "png", "#36c"));
  gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseUrl });
  body = {
    model: "openai/gpt-image-1",
    prompt: "put a hat on it",
    image: dataUri(await solidImage(128, 128)),
    mask: dataUri(await squareMaskPng(128, 128, 64, 64, 32)),
  };
});
after(async () => {
  await gw.close();
  await fake.close();
});

const buyerBalance = () => gw.gateway.devchain!.usdcBalance("base", gw.gateway.devchain!.wallets.buyer.evm.address);

test("a paid gpt-image-1 edit with a mask: the upstream sees alpha 0 where the mask was white; $0.021 moves", async () => {
  const before = await buyerBalance();
  const response = await payingFetch(gw, "base")(`${gw.config.publicUrl}${EDIT}`, jsonInit(body));
  const paid = (await response.json()) as { price: { amount: string }; payment: { status: string; tx_hash: string } };
  assert.equal(response.status, 200, JSON.stringify(paid));
  assert.equal(paid.price.amount, "0.021");
  assert.equal(paid.payment.status, "settled");
  assert.equal(before - (await buyerBalance()), 21_000n);

  const mask = fake.received.at(-1)!.body.files.find((file) => file.field === "mask")!;
  const { data, info } = await sharp(mask.bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [128, 128]);
  const alphaAt = (x: number, y: number) => data[(y * 128 + x) * 4 + 3];
  assert.equal(alphaAt(64, 64), 0, "inside the white square: transparent = edit");
  assert.equal(alphaAt(5, 5), 255, "outside: opaque = keep");

  const [row] = await gw.gateway.ledger!.db.query<{ usage: unknown; price_usd: string }>(
    "SELECT usage, price_usd FROM paid_edits WHERE tx_hash = $1",
    [paid.payment.tx_hash],
  );
  assert.deepEqual(row, { usage: USAGE, price_usd: "0.021" });
});

test("an upstream refusal after payment was verified moves no money", async () => {
  fake.reply(failure(400, { message: "Your request was rejected by the safety system.", type: "image_generation_user_error", code: "moderation_blocked" }));
  const before = await buyerBalance();
  const response = await payingFetch(gw, "base")(`${gw.config.publicUrl}${EDIT}`, jsonInit({ ...body, prompt: "something else" }));
  const error = (await response.json()) as { error: { code: string } };
  assert.equal(response.status, 400);
  assert.equal(error.error.code, "content_policy_violation");
  assert.equal(await buyerBalance(), before);
});

test("an edit that failed after payment frees its payment identifier: the retry with that id runs anew and is charged once", async () => {
  const id = generatePaymentId();
  const client = x402ClientFor(gw.gateway.devchain!, "base");
  client.onBeforePaymentCreation(async ({ paymentRequired }) => {
    appendPaymentIdentifierToExtensions((paymentRequired.extensions ??= {}), id);
  });
  const pay = wrapFetchWithPayment(((input: string | URL | Request, init?: RequestInit) => Promise.resolve(gw.gateway.app.fetch(new Request(input, init)))) as typeof fetch, client);
  const request = { ...body, prompt: "a retried hat" };
  const before = await buyerBalance();

  // A refusal the SDK does not retry (a 5xx it would): the edit fails after the payment was verified and claimed.
  fake.reply(failure(400, { message: "Your request was rejected by the safety system.", type: "image_generation_user_error", code: "moderation_blocked" }));
  const failed = await pay(`${gw.config.publicUrl}${EDIT}`, jsonInit(request));
  assert.equal(failed.status, 400);
  await failed.arrayBuffer();
  assert.equal(await buyerBalance(), before, "the failed edit is not charged");

  const retried = await pay(`${gw.config.publicUrl}${EDIT}`, jsonInit(request));
  const paid = (await retried.json()) as { payment: { status: string } };
  assert.equal(retried.status, 200, JSON.stringify(paid));
  assert.equal(paid.payment.status, "settled", "a new edit, settled now, not the failure replayed");
  assert.equal(before - (await buyerBalance()), 21_000n, "charged once, for the edit that worked");
  const rows = await gw.gateway.ledger!.db.query<{ status: string }>("SELECT status FROM paid_edits WHERE payment_ref LIKE $1 ORDER BY created_at", [`%:${id}`]);
  assert.deepEqual(rows.map((row) => row.status), ["failed", "settled"]);
});
