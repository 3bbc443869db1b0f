// Optional upstream fields: passed through to models that take them,
// refused (400, before any payment) for models that do not, and quality priced.

import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { dataUri, solidImage, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { startFakeOpenAi, type FakeOpenAi } from "./fake-openai.ts";

const KEY = "sk-test-options-1q2w3e";
let fake: FakeOpenAi;
let gw: TestGateway;
let png: string;

before(async () => {
  fake = await startFakeOpenAi(KEY, await solidImage(1024, 1024, "webp", "#c03"));
  gw = await startTestGateway({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseUrl });
  png = dataUri(await solidImage(64, 64));
});
after(async () => {
  await gw.close();
  await fake.close();
});
beforeEach(() => fake.reset());

async function expect400(body: Record<string, unknown>, param: string, message: RegExp) {
  const response = await gw.postJson({ prompt: "p", image: png, ...body });
  const error = (await response.json()) as { error: { param: string; message: string } };
  assert.equal(response.status, 400, JSON.stringify(error));
  assert.equal(error.error.param, param);
  assert.match(error.error.message, message);
  assert.equal(fake.received.length, 0, "nothing reached the upstream");
}

test("options a model takes reach OpenAI as form fields; quality sets the price", async () => {
  const response = await gw.postJson({
    model: "openai/gpt-image-1",
    prompt: "p",
    image: png,
    quality: "high",
    background: "transparent",
    output_format: "webp",
    output_compression: 80,
    input_fidelity: "high",
  });
  const body = (await response.json()) as { price: { amount: string }; data: { url: string }[] };
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.price.amount, "0.17535", "high quality at 1024x1024: $0.167 + 5%");
  assert.match(body.data[0].url, /\.webp$/);
  const fields = fake.received[0].body.fields;
  assert.deepEqual(
    { quality: fields.quality, background: fields.background, output_format: fields.output_format, output_compression: fields.output_compression, input_fidelity: fields.input_fidelity },
    { quality: "high", background: "transparent", output_format: "webp", output_compression: "80", input_fidelity: "high" },
  );
});

test("without options nothing extra is sent", async () => {
  assert.equal((await gw.postJson({ model: "openai/gpt-image-1", prompt: "p", image: png })).status, 200);
  const names = fake.received[0].body.fieldNames;
  for (const name of ["quality", "background", "output_format", "output_compression", "input_fidelity"]) assert.ok(!names.includes(name), name);
});

test("each option a model does not take is a 400 before any work", async () => {
  await expect400({ model: "openai/gpt-image-1-mini", input_fidelity: "high" }, "input_fidelity", /gpt-image-1-mini does not take input_fidelity/);
  await expect400({ model: "openai/gpt-image-1-mini", quality: "low" }, "quality", /does not take quality/);
  await expect400({ model: "openai/gpt-image-1", quality: "ultra" }, "quality", /quality must be one of low, medium, high/);
  await expect400({ model: "openai/gpt-image-1", output_compression: 50 }, "output_compression", /jpeg or webp only/);
  await expect400({ model: "openai/gpt-image-1", output_compression: 101, output_format: "jpeg" }, "output_compression", /0 to 100/);
  await expect400({ model: "openai/gpt-image-1", background: "transparent", output_format: "jpeg" }, "background", /png or webp/);
});

test("the catalog lists each model's options and its prices by quality", async () => {
  const { data } = (await (await gw.request("/api/v1/models")).json()) as { data: Record<string, unknown>[] };
  const gpt = data.find((m) => m.id === "openai/gpt-image-1")!;
  assert.deepEqual((gpt.prices_by_quality as Record<string, Record<string, string>>).low, { "1024x1024": "0.01155", "1536x1024": "0.0168", "1024x1536": "0.0168" });
  assert.ok((gpt.options as string[]).includes("input_fidelity"));
  assert.deepEqual(data.find((m) => m.id === "local/content-aware-fill")!.options, []);
});
