// The x402 v2 extensions of the edit routes, checked with the x402 packages' own
// code: the Bazaar discovery extension (validated and extracted as a catalog's
// facilitator would) and the payment-identifier extension (a retry with a fresh
// signature and the same id gets the first result and is never charged twice).
// Real devchain payments; balances read on chain.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PaymentPayload, PaymentRequired } from "@x402/core/types";
import { wrapFetchWithPayment } from "@x402/fetch";
import {
  extractDiscoveryInfo,
  extractDiscoveryInfoV1,
  validateDiscoveryExtension,
  validateDiscoveryExtensionSpec,
  type DiscoveryExtension,
} from "@x402/extensions/bazaar";
import { appendPaymentIdentifierToExtensions, generatePaymentId, validatePaymentIdentifier } from "@x402/extensions/payment-identifier";
import type { DevWallet } from "../src/chains/index.ts";
import { EDIT_FIELDS } from "../src/server/schemas.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { decodeHeader, fundedWallet, x402ClientFor, type TestNetwork } from "./support/buyer.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";

const EDIT = "/api/v1/images/image2image";
const OPENAI_EDIT = "/v1/images/edits";
const PRICE = 1000n; // local/content-aware-fill: $0.001

const LISTING = {
  serviceName: "Acme Retouch",
  description: "Object removal and inpainting for product photos, paid per edit",
  tags: ["image-editing", "inpainting", "ecommerce"],
  iconUrl: "https://acme.example/icon.png",
};

let gw: TestGateway;
let configDir: string;
let edit: Record<string, unknown>;

before(async () => {
  configDir = await mkdtemp(join(tmpdir(), "retouch-ext-"));
  const configFile = join(configDir, "retouch.json");
  await writeFile(configFile, JSON.stringify({ discovery: LISTING }));
  gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_CONFIG: configFile });
  edit = await sceneEdit();
});
after(async () => {
  await gw.close();
  await rm(configDir, { recursive: true, force: true });
});

const inProcess = ((input: string | URL | Request, init?: RequestInit) => Promise.resolve(gw.gateway.app.fetch(new Request(input, init)))) as typeof fetch;

/** @x402/fetch paying from `wallet`, every payment carrying `id` the way x402's own example adds it. */
function fetchWithPaymentId(network: TestNetwork, wallet: DevWallet, id: string): typeof fetch {
  const client = x402ClientFor(gw.gateway.devchain!, network, wallet);
  client.onBeforePaymentCreation(async ({ paymentRequired }) => {
    paymentRequired.extensions ??= {};
    appendPaymentIdentifierToExtensions(paymentRequired.extensions, id);
  });
  return wrapFetchWithPayment(inProcess, client);
}

/** A payment payload for this request's 402 (signed, not sent), carrying `id` if given. */
async function signed(network: TestNetwork, wallet: DevWallet, init: RequestInit, id?: string): Promise<PaymentPayload> {
  const challenge = await gw.request(EDIT, init);
  assert.equal(challenge.status, 402);
  const required = decodeHeader<PaymentRequired>(challenge.headers.get("payment-required"));
  if (id) appendPaymentIdentifierToExtensions(required.extensions!, id);
  return x402ClientFor(gw.gateway.devchain!, network, wallet).createPaymentPayload(required);
}

function send(init: RequestInit, payload: PaymentPayload): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("PAYMENT-SIGNATURE", Buffer.from(JSON.stringify(payload)).toString("base64"));
  return gw.request(EDIT, { ...init, headers });
}

function usdc(network: TestNetwork, wallet: DevWallet): Promise<bigint> {
  return gw.gateway.devchain!.usdcBalance(network, network === "base" ? wallet.evm.address : wallet.solana.address);
}

interface PaidBody {
  data: { url: string }[];
  payment: { status: string; tx_hash: string };
  error?: { code: string; message: string; param: string | null };
}

async function multipartQuote(): Promise<Response> {
  const form = new FormData();
  const toBlob = (dataUri: unknown) => new Blob([Buffer.from(String(dataUri).split(",")[1], "base64")], { type: "image/png" });
  form.set("prompt", "remove the ball");
  form.set("model", "local/content-aware-fill");
  form.set("image", toBlob(edit.image), "photo.png");
  form.set("mask", toBlob(edit.mask), "mask.png");
  return gw.request(OPENAI_EDIT, { method: "POST", body: form });
}

describe("Bazaar discovery on the edit routes' 402s", () => {
  test("the JSON route declares a valid extension: POST, a JSON body whose schema has exactly the fields the server accepts, the output, and the operator's listing", async () => {
    const response = await gw.request(EDIT, jsonInit(edit));
    assert.equal(response.status, 402);
    const required = decodeHeader<PaymentRequired>(response.headers.get("payment-required"));
    const bazaar = required.extensions?.bazaar as DiscoveryExtension;
    assert.deepEqual(validateDiscoveryExtension(bazaar), { valid: true });
    assert.deepEqual(validateDiscoveryExtensionSpec(bazaar as never), { valid: true });
    const input = bazaar.info.input as { type: string; method: string; bodyType: string; body: Record<string, unknown> };
    assert.equal(input.type, "http");
    assert.equal(input.method, "POST");
    assert.equal(input.bodyType, "json");
    const bodySchema = (bazaar.schema.properties.input.properties as unknown as { body: { properties: Record<string, { description?: string }>; required: string[] } }).body;
    assert.deepEqual(Object.keys(bodySchema.properties).sort(), [...EDIT_FIELDS].sort(), "the listed body fields are the fields the server validates");
    assert.deepEqual(bodySchema.required.sort(), ["image", "prompt"]);
    assert.match(bodySchema.properties.mask.description ?? "", /White = area to edit/);
    assert.ok(bazaar.schema.properties.output, "the output shape is declared");
    assert.equal(required.resource.serviceName, LISTING.serviceName);
    assert.deepEqual(required.resource.tags, LISTING.tags);
    assert.equal(required.resource.iconUrl, LISTING.iconUrl);
    assert.equal(required.resource.description, LISTING.description);
    assert.equal(required.resource.url, `${gw.config.publicUrl}${EDIT}`);
    // What a paid call answers with, for v2 clients (the resource) and v1 ones (each requirement).
    assert.equal(required.resource.mimeType, "application/json");
    const v1 = (await response.json()) as { accepts: { mimeType: string; resource: string }[] };
    assert.ok(v1.accepts.length > 0);
    for (const requirement of v1.accepts) assert.deepEqual([requirement.mimeType, requirement.resource], ["application/json", required.resource.url]);
  });

  test("the OpenAI route declares a form-data body; a v1 client finds the same in outputSchema", async () => {
    const response = await multipartQuote();
    assert.equal(response.status, 402);
    const required = decodeHeader<PaymentRequired>(response.headers.get("payment-required"));
    const bazaar = required.extensions?.bazaar as DiscoveryExtension;
    assert.deepEqual(validateDiscoveryExtension(bazaar), { valid: true });
    assert.equal((bazaar.info.input as { bodyType: string }).bodyType, "form-data");
    const v1 = (await response.json()) as { accepts: Parameters<typeof extractDiscoveryInfoV1>[0][] };
    for (const accept of v1.accepts) {
      const info = extractDiscoveryInfoV1(accept) as { input: { method: string; bodyType: string; body: Record<string, unknown> } } | null;
      assert.ok(info, `v1 requirement on ${accept.network} is discoverable`);
      assert.equal(info.input.method, "POST");
      assert.equal(info.input.bodyType, "form-data");
      assert.ok("prompt" in info.input.body && "mask" in info.input.body);
    }
  });

  test("a facilitator extracts the listing from a real client's payment, which is then settled", async () => {
    const wallet = await fundedWallet(gw.gateway.devchain!);
    const init = jsonInit(edit);
    const payload = await signed("base", wallet, init);
    const discovered = extractDiscoveryInfo(payload, payload.accepted);
    assert.ok(discovered, "the payment echoes the bazaar extension");
    assert.equal(discovered.resourceUrl, `${gw.config.publicUrl}${EDIT}`);
    assert.equal((discovered as { method?: string }).method, "POST");
    assert.equal(discovered.serviceName, LISTING.serviceName);
    const before = await usdc("base", wallet);
    const response = await send(init, payload);
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(before - (await usdc("base", wallet)), PRICE);
  });
});

describe("payment identifiers", () => {
  test("every edit 402 declares the extension as optional", async () => {
    const required = decodeHeader<PaymentRequired>((await gw.request(EDIT, jsonInit(edit))).headers.get("payment-required"));
    const declared = required.extensions?.["payment-identifier"] as { info: { required: boolean } };
    assert.deepEqual(validatePaymentIdentifier(declared), { valid: true });
    assert.equal(declared.info.required, false);
  });

  for (const network of ["base", "solana"] as const) {
    test(`${network}: a retry with the same id and a fresh signature gets the first result and pays once`, async () => {
      const wallet = await fundedWallet(gw.gateway.devchain!);
      const id = generatePaymentId();
      const before = await usdc(network, wallet);
      const first = await fetchWithPaymentId(network, wallet, id)(new URL(EDIT, gw.config.publicUrl), jsonInit(edit));
      assert.equal(first.status, 200, await first.clone().text());
      const firstBody = (await first.json()) as PaidBody;
      assert.equal(firstBody.payment.status, "settled");

      // A new client instance, as after a crash: it signs a new payment (a new nonce / transaction).
      const second = await fetchWithPaymentId(network, wallet, id)(new URL(EDIT, gw.config.publicUrl), jsonInit(edit));
      assert.equal(second.status, 200, await second.clone().text());
      const secondBody = (await second.json()) as PaidBody;
      assert.equal(secondBody.payment.status, "already_settled");
      assert.equal(secondBody.payment.tx_hash, firstBody.payment.tx_hash);
      assert.deepEqual(secondBody.data, firstBody.data);
      assert.equal(before - (await usdc(network, wallet)), PRICE, "charged exactly once");
    });
  }

  test("retries that spell the payer's address in lower case or checksummed are the same payer's id: the first result, paid once", async () => {
    const wallet = await fundedWallet(gw.gateway.devchain!);
    const id = generatePaymentId();
    const before = await usdc("base", wallet);
    const first = (await (await send(jsonInit(edit), await signed("base", wallet, jsonInit(edit), id))).json()) as PaidBody;
    assert.equal(first.payment.status, "settled");
    const retry = await signed("base", wallet, jsonInit(edit), id);
    const authorization = retry.payload.authorization as { from: string };
    assert.notEqual(authorization.from, authorization.from.toLowerCase(), "the client signs with the checksummed address");
    authorization.from = authorization.from.toLowerCase();
    const second = await send(jsonInit(edit), retry);
    const body = (await second.json()) as PaidBody;
    assert.equal(second.status, 200, JSON.stringify(body));
    assert.equal(body.payment.status, "already_settled");
    assert.equal(body.payment.tx_hash, first.payment.tx_hash);
    // And back: the checksummed spelling again finds what the lower-case one found.
    const third = (await (await send(jsonInit(edit), await signed("base", wallet, jsonInit(edit), id))).json()) as PaidBody;
    assert.deepEqual([third.payment.status, third.payment.tx_hash], ["already_settled", first.payment.tx_hash]);
    assert.equal(before - (await usdc("base", wallet)), PRICE, "charged exactly once");
  });

  test("the same id with another request is refused with 409 naming the id, and nothing more is charged", async () => {
    const wallet = await fundedWallet(gw.gateway.devchain!);
    const id = generatePaymentId("edit_");
    const before = await usdc("base", wallet);
    const first = await send(jsonInit(edit), await signed("base", wallet, jsonInit(edit), id));
    assert.equal(first.status, 200);
    const other = jsonInit({ ...edit, prompt: "remove the ball and the shadow" });
    const response = await send(other, await signed("base", wallet, other, id));
    assert.equal(response.status, 409);
    const body = (await response.json()) as PaidBody;
    assert.equal(body.error?.code, "payment_identifier_conflict");
    assert.ok(body.error?.message.includes(id), body.error?.message);
    assert.equal(before - (await usdc("base", wallet)), PRICE);
  });

  test("concurrent requests with one id and different signatures run one edit and charge once", async () => {
    const wallet = await fundedWallet(gw.gateway.devchain!);
    const id = generatePaymentId();
    const before = await usdc("base", wallet);
    const payloads = [await signed("base", wallet, jsonInit(edit), id), await signed("base", wallet, jsonInit(edit), id)];
    assert.notEqual(JSON.stringify(payloads[0].payload), JSON.stringify(payloads[1].payload), "two different signatures");
    const answers = await Promise.all(payloads.map((payload) => send(jsonInit(edit), payload)));
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as PaidBody[];
    assert.deepEqual(answers.map((a) => a.status), [200, 200], JSON.stringify(bodies));
    assert.deepEqual(bodies.map((b) => b.payment.status).sort(), ["already_settled", "settled"]);
    assert.deepEqual(bodies[0].data, bodies[1].data);
    assert.equal(before - (await usdc("base", wallet)), PRICE);
  });

  test("an id is its payer's: another wallet using the same id gets an edit of its own", async () => {
    const [alice, bob] = [await fundedWallet(gw.gateway.devchain!), await fundedWallet(gw.gateway.devchain!)];
    const id = generatePaymentId();
    const [aliceBefore, bobBefore] = [await usdc("base", alice), await usdc("base", bob)];
    const a = (await (await send(jsonInit(edit), await signed("base", alice, jsonInit(edit), id))).json()) as PaidBody;
    const b = (await (await send(jsonInit(edit), await signed("base", bob, jsonInit(edit), id))).json()) as PaidBody;
    assert.equal(a.payment.status, "settled");
    assert.equal(b.payment.status, "settled");
    assert.notEqual(a.payment.tx_hash, b.payment.tx_hash);
    assert.notDeepEqual(a.data, b.data);
    assert.equal(aliceBefore - (await usdc("base", alice)), PRICE);
    assert.equal(bobBefore - (await usdc("base", bob)), PRICE);
  });

  test("a payment naming another wallet's id and address, signed by a different key, gets nothing", async () => {
    const [victim, thief] = [await fundedWallet(gw.gateway.devchain!), await fundedWallet(gw.gateway.devchain!)];
    const id = generatePaymentId();
    assert.equal((await send(jsonInit(edit), await signed("base", victim, jsonInit(edit), id))).status, 200);
    const forged = await signed("base", thief, jsonInit(edit), id);
    (forged.payload.authorization as { from: string }).from = victim.evm.address;
    const response = await send(jsonInit(edit), forged);
    assert.equal(response.status, 402);
    const body = (await response.json()) as { error: string };
    assert.match(body.error, /does not prove its payer/);
  });

  test("a malformed id is refused before anything is verified or charged, naming the field", async () => {
    const wallet = await fundedWallet(gw.gateway.devchain!);
    const before = await usdc("base", wallet);
    const payload = await signed("base", wallet, jsonInit(edit));
    (payload.extensions!["payment-identifier"] as { info: { id?: string } }).info.id = "short id!";
    const response = await send(jsonInit(edit), payload);
    assert.equal(response.status, 402);
    const body = (await response.json()) as { error: string };
    assert.match(body.error, /extensions\["payment-identifier"\]\.info\.id must be 16 to 128/);
    assert.equal(await usdc("base", wallet), before);
  });
});
