// The newer upstream models: OpenAI's gpt-image-2 (any WIDTHxHEIGHT within its
// limits, priced by area, no transparent background) and Google's Gemini 3 image
// models (Nano Banana Pro and Nano Banana 2: up to 14 reference images, a
// resolution tier per size). Against stand-ins for both APIs, with the real SDKs.

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createCatalog } from "../../src/catalog/index.ts";
import { dataUri, solidImage, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { sizedSuccess, startFakeOpenAi, type FakeOpenAi } from "./fake-openai.ts";
import { startFakeGemini, success, type FakeGemini } from "./fake-gemini.ts";

const OPENAI_KEY = "sk-test-newer-7a8b9c";
const GEMINI_KEY = "AIzaSyFAKE-newer-models-0123456789abcdef";

let openai: FakeOpenAi;
let gemini: FakeGemini;
let gw: TestGateway;
let photo: Buffer;

before(async () => {
  photo = await solidImage(160, 90, "png", "#27a");
  openai = await startFakeOpenAi(OPENAI_KEY, await solidImage(1024, 1024));
  gemini = await startFakeGemini(GEMINI_KEY, await solidImage(2048, 2048, "png", "#fc0"));
  gw = await startTestGateway({ OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.baseUrl, GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.origin });
});
after(async () => {
  await gw.close();
  await openai.close();
  await gemini.close();
});
beforeEach(() => {
  openai.reset();
  gemini.reset();
  openai.reply(sizedSuccess());
});

interface Answer {
  data?: { url: string }[];
  price?: { amount: string };
  size?: string;
  error?: { param: string; message: string; code: string };
}
const post = async (body: Record<string, unknown>) => {
  const response = await gw.postJson({ prompt: "a lighthouse at dusk", image: dataUri(photo), ...body });
  return { status: response.status, body: (await response.json()) as Answer };
};

describe("gpt-image-2", () => {
  test("a size outside the table (1536x864) reaches OpenAI as asked and is priced by its area: never below cost", async () => {
    const { status, body } = await post({ model: "gpt-image-2-2026-04-21", size: "1536x864", quality: "high" });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.size, "1536x864");
    assert.deepEqual([openai.received[0].body.fields.model, openai.received[0].body.fields.size], ["gpt-image-2", "1536x864"]);
    // $0.2013 per megapixel x 1.327104 MP + $0.015 for the inputs = $0.2821460352, + 5% = $0.29625333696, rounded up.
    assert.equal(body.price?.amount, "0.296254");
    const cost = 0.2013 * 1.327104 + 0.015;
    assert.ok(Number(body.price!.amount) >= cost * 1.05, "at or above cost plus margin");
  });

  test("sizes the model cannot make are refused before anything is paid, naming the rule broken", async () => {
    const cases: [string, RegExp][] = [
      ["1000x1000", /multiples of 16/],
      ["3840x3840", /at most 8,294,400 pixels/],
      ["3200x960", /aspect ratio must be between 1:3 and 3:1/],
      ["4096x1536", /longest side may be at most 3840/],
      ["256x256", /at least 262,144 pixels/],
      ["big", /not WIDTHxHEIGHT/],
    ];
    for (const [size, reason] of cases) {
      const { status, body } = await post({ model: "openai/gpt-image-2", size });
      assert.equal(status, 400, size);
      assert.equal(body.error?.param, "size");
      assert.match(body.error!.message, reason, size);
    }
    assert.equal(openai.received.length, 0);
  });

  test("a transparent background is refused (OpenAI would); opaque goes through", async () => {
    const refused = await post({ model: "gpt-image-2", background: "transparent" });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error?.param, "background");
    assert.equal(openai.received.length, 0);
    const opaque = await post({ model: "gpt-image-2", background: "opaque" });
    assert.equal(opaque.status, 200, JSON.stringify(opaque.body));
    assert.equal(openai.received[0].body.fields.background, "opaque");
  });

  test("the listed sizes cost what the rule says, and /api/v1/models publishes the rule", async () => {
    const catalog = createCatalog({ margin: "0" });
    const model = catalog.resolve("gpt-image-2");
    for (const size of Object.keys(model.sizes)) {
      assert.equal(catalog.sizeProblem(model, size), undefined, size);
    }
    assert.equal(catalog.quote(model, "1024x1024", 1, "low").amount, "0.021082", "0.0058 x 1.048576 + 0.015 = 0.0210817408, rounded up");
    const listed = (await (await gw.request("/api/v1/models")).json()) as { data: { id: string; aliases: string[]; max_images: number; custom_sizes?: Record<string, unknown> }[] };
    const entry = listed.data.find((m) => m.id === "openai/gpt-image-2")!;
    assert.deepEqual(entry.aliases, ["gpt-image-2", "gpt-image-2-2026-04-21"]);
    assert.equal(entry.max_images, 16);
    assert.equal(entry.custom_sizes?.multiple, 16);
    assert.equal(entry.custom_sizes?.max_pixels, 8_294_400);
  });
});

describe("Gemini 3 image models", () => {
  test("Nano Banana Pro takes 14 reference images and asks Gemini for the 2K tier of a 2048x2048 size", async () => {
    gemini.reply(success(await solidImage(1696, 2528)));
    const images = await Promise.all(Array.from({ length: 14 }, (_, i) => solidImage(32 + i, 32, "png", "#a3c")));
    const { status, body } = await post({ model: "google/nano-banana-pro", image: images.map((image) => dataUri(image)), size: "2048x2048" });
    assert.equal(status, 200, JSON.stringify(body));
    const sent = gemini.received[0].body;
    assert.equal(sent.model, "gemini-3-pro-image-preview");
    assert.equal(sent.contents[0].parts.filter((part) => part.inlineData).length, 14);
    assert.deepEqual(sent.generationConfig?.imageConfig, { aspectRatio: "1:1", imageSize: "2K" });
    assert.equal(body.price?.amount, "0.147", "$0.14 + 5%: a 2K image whatever shape Gemini chose (1696x2528 here)");
  });

  test("a 15th image is refused before Gemini is called; an answer far from the tier's size is a 502, not charged", async () => {
    const fifteen = await Promise.all(Array.from({ length: 15 }, () => solidImage(32, 32)));
    const tooMany = await post({ model: "google/nano-banana-2", image: fifteen.map((image) => dataUri(image)) });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error?.code, "too_many_images");
    assert.equal(gemini.received.length, 0);

    gemini.reply(success(await solidImage(512, 512)));
    const small = await post({ model: "google/nano-banana-2", size: "4096x4096" });
    assert.equal(small.status, 502, JSON.stringify(small.body));
    assert.equal(gemini.received[0].body.generationConfig?.imageConfig?.imageSize, "4K");
  });
});
