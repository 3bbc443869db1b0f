// Fallbacks: configured per model, tried on 429/5xx within the same time
// budget, and the caller pays the original model's quote.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCatalog } from "../../src/catalog/index.ts";
import { dataUri, solidImage, squareMaskPng, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { startFakeGemini } from "./fake-gemini.ts";
import { failure, startFakeOpenAi, type FakeOpenAi } from "./fake-openai.ts";

const KEY = "sk-test-fallback-9z8y7x";
let fake: FakeOpenAi;
let gw: TestGateway;
let dir: string;
let png: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-fallback-"));
  const configFile = join(dir, "retouch.json");
  await writeFile(configFile, JSON.stringify({ catalog: { models: { "openai/gpt-image-1": { fallbacks: ["openai/gpt-image-1-mini"] } } } }));
  fake = await startFakeOpenAi(KEY, await solidImage(1024, 1024, "png", "#c03"));
  gw = await startTestGateway({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseUrl, RETOUCH_CONFIG: configFile });
  png = dataUri(await solidImage(64, 64));
});
after(async () => {
  await gw.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

test("a 429 from gpt-image-1 falls back to gpt-image-1-mini, at gpt-image-1's price", async () => {
  fake.reset();
  fake.reply(failure(429, { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" }, { "retry-after": "20" }));
  const response = await gw.postJson({ model: "openai/gpt-image-1", prompt: "p", image: png });
  const body = (await response.json()) as { price: { amount: string }; data: unknown[] };
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.price.amount, "0.021");
  assert.deepEqual(fake.received.map((r) => r.body.fields.model), ["gpt-image-1", "gpt-image-1-mini"]);
});

for (const status of [500, 502, 503]) {
  test(`OpenAI answering ${status} to each of the adapter's tries (an outage) falls back too`, async () => {
    fake.reset();
    // The adapter tries an outage three times (DEFAULT_RETRY) before it gives up on a model.
    const down = failure(status, { message: "The server had an error while processing your request.", type: "server_error", code: null });
    fake.reply(down, down, down);
    const response = await gw.postJson({ model: "openai/gpt-image-1", prompt: "p", image: png });
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(fake.received.map((r) => r.body.fields.model), ["gpt-image-1", "gpt-image-1", "gpt-image-1", "gpt-image-1-mini"]);
  });
}

test("a 400 (the request itself is bad) does not fall back", async () => {
  fake.reset();
  fake.reply(failure(400, { message: "Invalid image", type: "invalid_request_error", code: "invalid_image_file" }));
  const response = await gw.postJson({ model: "openai/gpt-image-1", prompt: "p", image: png });
  assert.equal(response.status, 400);
  assert.equal(fake.received.length, 1);
});

test("when the fallback fails too, the caller sees the fallback's error", async () => {
  fake.reset();
  const limited = failure(429, { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" }, { "retry-after": "7" });
  fake.reply(limited, limited);
  const response = await gw.postJson({ model: "openai/gpt-image-1", prompt: "p", image: png });
  assert.equal(response.status, 429);
  assert.equal(response.headers.get("retry-after"), "7");
});

test("fallbacks are checked when the catalog loads and only offered where they fit", () => {
  assert.throws(
    () => createCatalog({ margin: "0.05", config: { models: { "openai/gpt-image-1": { fallbacks: ["acme/none"] } } } }),
    /falls back to acme\/none/,
  );
  const catalog = createCatalog({
    margin: "0.05",
    config: { models: { "openai/gpt-image-1": { fallbacks: ["google/nano-banana", "openai/gpt-image-1-mini"] } } },
  });
  const model = catalog.resolve("openai/gpt-image-1");
  const ids = (shape: { size: string; n: number; images: number; mask: boolean }) => catalog.fallbacksFor(model, shape).map((m) => m.id);
  assert.deepEqual(ids({ size: "1024x1024", n: 1, images: 1, mask: false }), ["google/nano-banana", "openai/gpt-image-1-mini"]);
  assert.deepEqual(ids({ size: "1024x1024", n: 1, images: 1, mask: true }), ["openai/gpt-image-1-mini"], "nano-banana takes no mask");
  assert.deepEqual(ids({ size: "1536x1024", n: 1, images: 1, mask: false }), ["openai/gpt-image-1-mini"], "nano-banana has no 1536x1024");
});

describe("fallbacks at the gateway are the catalog's that fit the request and can run here", () => {
  const GEMINI_KEY = "AIzaSyFAKE-fallback-0123456789abcdefghij";
  /** gpt-image-1 down for all three of the adapter's tries. */
  const outage = () => {
    const down = failure(503, { message: "Service unavailable", type: "server_error", code: null });
    return [down, down, down];
  };
  let configFile: string;

  before(async () => {
    configFile = join(dir, "two-fallbacks.json");
    const fallbacks = ["google/nano-banana", "openai/gpt-image-1-mini"];
    await writeFile(configFile, JSON.stringify({ catalog: { models: { "openai/gpt-image-1": { fallbacks } } } }));
  });

  test("Gemini is tried first for a request without a mask, and skipped for one with a mask (it takes none)", async () => {
    const gemini = await startFakeGemini(GEMINI_KEY, await solidImage(1024, 1024, "png", "#c03"));
    const both = await startTestGateway({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseUrl, GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.origin, RETOUCH_CONFIG: configFile });
    try {
      fake.reset();
      fake.reply(...outage());
      const plain = await both.postJson({ model: "openai/gpt-image-1", prompt: "p", image: png });
      assert.equal(plain.status, 200, await plain.clone().text());
      assert.deepEqual([fake.received.length, gemini.received.map((r) => r.body.model)], [3, ["gemini-2.5-flash-image"]]);

      fake.reset();
      gemini.reset();
      fake.reply(...outage());
      const masked = await both.postJson({ model: "openai/gpt-image-1", prompt: "p", image: png, mask: dataUri(await squareMaskPng(64, 64, 32, 32, 16)) });
      assert.equal(masked.status, 200, await masked.clone().text());
      assert.deepEqual(fake.received.map((r) => r.body.fields.model), ["gpt-image-1", "gpt-image-1", "gpt-image-1", "gpt-image-1-mini"]);
      assert.equal(gemini.received.length, 0);
    } finally {
      await both.close();
      await gemini.close();
    }
  });

  test("OpenAI refusing the server's key (500) or out of credit (503) falls back to Gemini, which has its own account", async () => {
    const gemini = await startFakeGemini(GEMINI_KEY, await solidImage(1024, 1024, "png", "#c03"));
    const both = await startTestGateway({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseUrl, GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.origin, RETOUCH_CONFIG: configFile });
    try {
      const refusals = [
        failure(401, { message: "Incorrect API key provided: sk-test-*********9z8y7x.", type: "invalid_request_error", code: "invalid_api_key" }),
        failure(429, { message: "You exceeded your current quota, please check your plan and billing details.", type: "insufficient_quota", code: "insufficient_quota" }),
      ];
      for (const refusal of refusals) {
        fake.reset();
        gemini.reset();
        fake.reply(refusal);
        const response = await both.postJson({ model: "openai/gpt-image-1", prompt: "p", image: png });
        assert.equal(response.status, 200, await response.clone().text());
        assert.deepEqual([fake.received.length, gemini.received.length], [1, 1]);
      }
    } finally {
      await both.close();
      await gemini.close();
    }
  });

  test("without a Gemini key, Gemini is skipped and the next fallback runs", async () => {
    const openaiOnly = await startTestGateway({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseUrl, RETOUCH_CONFIG: configFile });
    try {
      fake.reset();
      fake.reply(...outage());
      const response = await openaiOnly.postJson({ model: "openai/gpt-image-1", prompt: "p", image: png });
      assert.equal(response.status, 200, await response.clone().text());
      assert.deepEqual(fake.received.map((r) => r.body.fields.model), ["gpt-image-1", "gpt-image-1", "gpt-image-1", "gpt-image-1-mini"]);
    } finally {
      await openaiOnly.close();
    }
  });
});
