// A result is proven good before anyone is charged: with payments on (devchain),
// stand-in OpenAI and Gemini servers answer 200 with a broken or bogus image, and
// the buyer gets a 502 naming what was wrong, keeps every cent on chain, and the
// payment's ledger row ends `failed`. A good result is charged exactly the quote.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wrapFetchWithPayment } from "@x402/fetch";
import { dataUri, solidImage, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { x402ClientFor, decodeHeader } from "../support/buyer.ts";
import { jsonInit } from "../support/edit-input.ts";
import type { ErrorBody } from "./expect.ts";
import { exactly, padPng, pngBomb, startFakeOpenAi, success, type FakeOpenAi } from "./fake-openai.ts";
import { startFakeGemini, success as geminiSuccess, type FakeGemini } from "./fake-gemini.ts";

const OPENAI_KEY = "sk-test-bogus-7q6w5e4r3t";
const GEMINI_KEY = "AIzaSyFAKE-bogus-results-0123456789abcd";
const EDIT = "/api/v1/images/image2image";
/** gpt-image-1 at 1024x1024: $0.021 in USDC atomic units. */
const QUOTE = 21_000n;

let openai: FakeOpenAi;
let gemini: FakeGemini;
let gw: TestGateway;
let configDir: string;
let source: string;
let good: Buffer;

before(async () => {
  good = await solidImage(1024, 1024, "png", "#36c");
  openai = await startFakeOpenAi(OPENAI_KEY, good);
  gemini = await startFakeGemini(GEMINI_KEY, good);
  // Only gpt-image-1.5 falls back, so that every other test sees its one model fail.
  configDir = await mkdtemp(join(tmpdir(), "retouch-bogus-"));
  const config = join(configDir, "retouch.json");
  await writeFile(config, JSON.stringify({ catalog: { models: { "openai/gpt-image-1.5": { fallbacks: ["openai/gpt-image-1-mini"] } } } }));
  gw = await startTestGateway({
    RETOUCH_PAYMENTS: "devchain",
    RETOUCH_CONFIG: config,
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: openai.baseUrl,
    GEMINI_API_KEY: GEMINI_KEY,
    GEMINI_BASE_URL: gemini.origin,
  });
  source = dataUri(await solidImage(128, 128));
});
after(async () => {
  await gw.close();
  await openai.close();
  await gemini.close();
  await rm(configDir, { recursive: true, force: true });
});

interface PaidEdit {
  response: Response;
  body: Record<string, unknown>;
  /** The ledger row of the payment this request carried. */
  row: { status: string; tx_hash: string | null };
  /** USDC (atomic units) the buyer and the seller each gained: negative for the buyer when charged. */
  moved: { buyer: bigint; seller: bigint };
}

/** Pays for one edit from the devchain's buyer, as @x402/fetch does, and reads what it did on chain and in the ledger. */
async function paidEdit(edit: Record<string, unknown>): Promise<PaidEdit> {
  const devchain = gw.gateway.devchain!;
  const buyer = devchain.wallets.buyer.evm.address;
  const seller = gw.gateway.rail!.networks[0].payTo;
  const balances = async () => ({ buyer: await devchain.usdcBalance("base", buyer), seller: await devchain.usdcBalance("base", seller) });

  let payment: string | null = null;
  const inProcess = ((input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    payment = request.headers.get("payment-signature") ?? payment;
    return Promise.resolve(gw.gateway.app.fetch(request));
  }) as typeof fetch;
  const pay = wrapFetchWithPayment(inProcess, x402ClientFor(devchain, "base"));

  const before = await balances();
  const response = await pay(`${gw.config.publicUrl}${EDIT}`, jsonInit(edit));
  const body = (await response.json()) as Record<string, unknown>;
  const after = await balances();

  assert.ok(payment, `the request was paid (status ${response.status}: ${JSON.stringify(body)})`);
  const nonce = decodeHeader<{ payload: { authorization: { nonce: string } } }>(payment).payload.authorization.nonce;
  const rows = await gw.gateway.ledger!.db.query<PaidEdit["row"]>(
    "SELECT status, tx_hash FROM paid_edits WHERE payload->'payload'->'authorization'->>'nonce' = $1",
    [nonce],
  );
  assert.equal(rows.length, 1, "one ledger row for the payment");
  return { response, body, row: { ...rows[0] }, moved: { buyer: after.buyer - before.buyer, seller: after.seller - before.seller } };
}

/** The edit failed with a 502 naming the problem, and nobody was charged: on chain and in the ledger. */
function assertNotCharged(paid: PaidEdit, message: RegExp): void {
  const { error } = paid.body as unknown as ErrorBody;
  assert.equal(paid.response.status, 502, JSON.stringify(paid.body));
  assert.equal(error.code, "upstream_error");
  assert.match(error.message, message);
  assert.match(error.message, /nothing was charged/);
  assert.deepEqual(paid.moved, { buyer: 0n, seller: 0n }, "no USDC moved on chain");
  assert.deepEqual(paid.row, { status: "failed", tx_hash: null });
}

const gptEdit = (prompt: string, extra: Record<string, unknown> = {}) => ({ model: "openai/gpt-image-1", prompt, image: source, ...extra });

test("control: a whole 1024x1024 image for a 1024x1024 edit is delivered and charged exactly the quote", async () => {
  openai.reset();
  openai.reply(success([good]));
  const paid = await paidEdit(gptEdit("bogus-results control: paint the sky orange"));
  assert.equal(paid.response.status, 200, JSON.stringify(paid.body));
  assert.deepEqual(paid.body.price, { amount: "0.021", currency: "USD" });
  assert.deepEqual(paid.moved, { buyer: -QUOTE, seller: QUOTE });
  assert.equal(paid.row.status, "settled");
  const [{ url }] = paid.body.data as { url: string }[];
  const served = await gw.request(new URL(url).pathname);
  assert.deepEqual(Buffer.from(await served.arrayBuffer()), good, "the buyer gets the upstream's image");
});

test("a truncated PNG (it does not decode) is a 502 and costs nothing", async () => {
  openai.reset();
  openai.reply(success([good.subarray(0, good.length >> 1)]));
  const paid = await paidEdit(gptEdit("bogus-results truncated: add a red hat"));
  assertNotCharged(paid, /^OpenAI failed to complete the edit: its image is a PNG whose data ends early \(truncated file\)/);
  assert.equal(openai.received.length, 1, "the upstream was asked once and answered 200");
});

test("a 1x1 image for a 1024x1024 edit is a 502 and costs nothing", async () => {
  openai.reset();
  openai.reply(success([await solidImage(1, 1)]));
  const paid = await paidEdit(gptEdit("bogus-results tiny: add a blue scarf"));
  assertNotCharged(paid, /OpenAI failed to complete the edit: it returned a 1x1 image for a 1024x1024 edit/);
});

test("a 20000x20000 PNG bomb is a 502 and costs nothing", async () => {
  openai.reset();
  openai.reply(success([pngBomb(20_000, 20_000)]));
  const paid = await paidEdit(gptEdit("bogus-results bomb: add green gloves"));
  assertNotCharged(paid, /the image is 20000x20000, over the limit of 4096x4096 \(16\.8 megapixels\)/);
});

test("a valid 1024x1024 PNG of 51 MB (over the 50 MB limit) is a 502 and costs nothing", async () => {
  openai.reset();
  openai.reply(success([padPng(good, 51_000_000)]));
  const paid = await paidEdit(gptEdit("bogus-results oversized: add yellow boots"));
  assertNotCharged(paid, /its answer is 51\.\d MB, over the limit of 50 MB per image/);
});

test("fewer images than n (1 of 2) is a 502 and costs nothing", async () => {
  openai.reset();
  openai.reply(exactly([good]));
  const paid = await paidEdit(gptEdit("bogus-results short: add two cats", { n: 2 }));
  assertNotCharged(paid, /^OpenAI failed to complete the edit: it returned 1 of the 2 images asked for/);
  assert.equal(openai.received.at(-1)!.body.fields.n, "2");
});

test("Gemini: a 1x1 image for a 1024x1024 nano-banana edit is a 502 and costs nothing", async () => {
  gemini.reset();
  gemini.reply(geminiSuccess(await solidImage(1, 1)));
  const paid = await paidEdit({ model: "google/nano-banana", prompt: "bogus-results gemini: add a purple umbrella", image: source });
  assertNotCharged(paid, /^Google Gemini failed to complete the edit: it returned a 1x1 image for a 1024x1024 edit; gemini-2\.5-flash-image makes only 1024x1024, /);
  assert.equal(gemini.received.length, 1);
});

test("more images than asked for: the n asked for are delivered and the quote is charged once", async () => {
  openai.reset();
  const extra = await solidImage(1024, 1024, "png", "#c30");
  openai.reply(exactly([good, extra]));
  const paid = await paidEdit(gptEdit("bogus-results extra: add a kite"));
  assert.equal(paid.response.status, 200, JSON.stringify(paid.body));
  const data = paid.body.data as { url: string }[];
  assert.equal(data.length, 1);
  const file = await gw.request(new URL(data[0].url).pathname);
  assert.deepEqual(Buffer.from(await file.arrayBuffer()), good, "the first image, as OpenAI sent it");
  assert.deepEqual(paid.moved, { buyer: -QUOTE, seller: QUOTE });
  assert.equal(paid.row.status, "settled");
});

test("a bogus result counts as that model failing: its fallback runs, and the buyer pays the quote once", async () => {
  openai.reset();
  openai.reply(success([await solidImage(1, 1)]), success([good]));
  const paid = await paidEdit({ model: "openai/gpt-image-1.5", prompt: "bogus-results fallback: add a silver crown", image: source });
  assert.equal(paid.response.status, 200, JSON.stringify(paid.body));
  assert.deepEqual(openai.received.map((received) => received.body.fields.model), ["gpt-image-1.5", "gpt-image-1-mini"]);
  assert.deepEqual(paid.body.price, { amount: "0.0357", currency: "USD" });
  assert.deepEqual(paid.moved, { buyer: -35_700n, seller: 35_700n });
  assert.equal(paid.row.status, "settled");
});
