// Fallbacks: configured per model, tried on 429/5xx within the same time
// budget, and the caller pays the original model's quote.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCatalog } from "../../src/catalog/index.ts";
import { dataUri, solidImage, startTestGateway, type TestGateway } from "../support/gateway.ts";
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
