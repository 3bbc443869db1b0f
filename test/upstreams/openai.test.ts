// OpenAI models end to end: the gateway, the real openai SDK, and a local fake
// of POST /v1/images/edits. What the upstream receives (fields, files, the alpha
// mask) and what the caller gets back (status, headers, bytes) are checked.

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { createCatalog } from "../../src/catalog/index.ts";
import { inspectImage } from "../../src/edits/index.ts";
import { openAiProvider } from "../../src/providers/openai/index.ts";
import { runCli } from "../client/cli.ts";
import { dataUri, solidImage, squareMaskPng, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { dropConnection, hang } from "./fake-server.ts";
import { expectError } from "./expect.ts";
import { failure, startFakeOpenAi, success, USAGE, type FakeOpenAi } from "./fake-openai.ts";

const KEY = "sk-test-4f9a0c1d2e3b4a5f6e7d8c9b";
const MODEL = "openai/gpt-image-1";

let fake: FakeOpenAi;
let gw: TestGateway;
let result: Buffer;
let png: Buffer;

before(async () => {
  result = await solidImage(1024, 1024, "png", "#c03");
  png = await solidImage(96, 64, "png", "#3a7");
  fake = await startFakeOpenAi(KEY, result);
  gw = await startTestGateway({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseUrl, RETOUCH_UPSTREAM_TIMEOUT_MS: "20000" });
});
after(async () => {
  await gw.close();
  await fake.close();
});
beforeEach(() => fake.reset());

interface EditBody {
  data: { url: string; revised_prompt?: string }[];
  price: { amount: string };
}

async function served(url: string): Promise<Buffer> {
  const response = await gw.request(new URL(url).pathname);
  assert.equal(response.status, 200);
  return Buffer.from(await response.arrayBuffer());
}

const edit = (body: Record<string, unknown> = {}) => gw.postJson({ model: MODEL, prompt: "make it blue", image: dataUri(png), ...body });

describe("requests OpenAI receives", () => {
  test("a masked edit: the mask arrives as RGBA PNG, transparent exactly where the caller painted white", async () => {
    const callerMask = await squareMaskPng(96, 64, 30, 40, 20);
    const response = await edit({ mask: dataUri(callerMask), size: "1024x1024" });
    const body = (await response.json()) as EditBody;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.price.amount, "0.021");
    assert.deepEqual(await served(body.data[0].url), result, "the URL serves the upstream's bytes");

    const [sent] = fake.received;
    assert.equal(fake.received.length, 1);
    assert.equal(sent.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(sent.body.fieldNames.toSorted(), ["image", "mask", "model", "n", "prompt", "size"]);
    assert.deepEqual(sent.body.fields, { model: "gpt-image-1", prompt: "make it blue", size: "1024x1024", n: "1" });
    const image = sent.body.files.find((file) => file.field === "image")!;
    assert.deepEqual([image.name, image.type], ["image-0.png", "image/png"]);
    assert.deepEqual(image.bytes, png, "the source image goes as sent");

    const mask = sent.body.files.find((file) => file.field === "mask")!;
    assert.deepEqual([mask.name, mask.type], ["mask.png", "image/png"]);
    const { data: rgba, info } = await sharp(mask.bytes).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [96, 64, 4]);
    const grey = await sharp(callerMask).greyscale().raw().toBuffer();
    let transparent = 0;
    for (let i = 0; i < grey.length; i++) {
      const expected = grey[i] === 255 ? 0 : 255;
      assert.equal(rgba[i * 4 + 3], expected, `alpha at pixel ${i % 96},${Math.floor(i / 96)}`);
      if (expected === 0) transparent++;
    }
    assert.equal(transparent, 20 * 20, "the white square and nothing else is transparent");
  });

  test("a mask at another scale is brought to the image's exact size before upload", async () => {
    const response = await edit({ mask: dataUri(await squareMaskPng(48, 32, 24, 16, 8)) });
    assert.equal(response.status, 200, await response.clone().text());
    const mask = fake.received[0].body.files.find((file) => file.field === "mask")!;
    const { data, info } = await sharp(mask.bytes).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [96, 64]);
    assert.equal(data[(32 * 96 + 48) * 4 + 3], 0, "centre (white) is transparent");
    assert.equal(data[3], 255, "corner (black) is opaque");
  });

  test("several images go as image[] with their own names and types; n images come back, each at its URL", async () => {
    const first = await solidImage(1536, 1024, "png", "#c03");
    const second = await solidImage(1536, 1024, "png", "#00f");
    fake.reply(success([first, second]));
    const jpeg = await solidImage(40, 40, "jpeg");
    const webp = await solidImage(40, 40, "webp");
    const response = await gw.postJson({
      model: "openai/gpt-image-1-mini",
      prompt: "put them together",
      image: [dataUri(png), dataUri(jpeg, "image/png"), dataUri(webp)],
      size: "1536x1024",
      n: 2,
    });
    const body = (await response.json()) as EditBody;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.price.amount, "0.0315", "2 x 0.015 + 5%");
    assert.equal(body.data.length, 2);
    assert.deepEqual(await served(body.data[0].url), first);
    assert.deepEqual(await served(body.data[1].url), second);

    const sent = fake.received[0].body;
    assert.deepEqual(sent.fields, { model: "gpt-image-1-mini", prompt: "put them together", size: "1536x1024", n: "2" });
    assert.deepEqual(
      sent.files.map((file) => [file.field, file.name, file.type]),
      [
        ["image[]", "image-0.png", "image/png"],
        ["image[]", "image-1.jpg", "image/jpeg"],
        ["image[]", "image-2.webp", "image/webp"],
      ],
    );
    for (const forbidden of ["response_format", "moderation", "input_fidelity"]) assert.ok(!sent.fieldNames.includes(forbidden), forbidden);
  });

  test("gpt-image-1.5 is sent under its own model name", async () => {
    fake.reply(success([await solidImage(1024, 1536)]));
    const response = await gw.postJson({ model: "openai/gpt-image-1.5", prompt: "p", image: dataUri(png), size: "1024x1536" });
    const body = (await response.json()) as EditBody;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.price.amount, "0.05355", "0.051 + 5%");
    assert.equal(fake.received[0].body.fields.model, "gpt-image-1.5");
  });

  test("the models list shows the OpenAI models as available with their prices", async () => {
    const { data } = (await (await gw.request("/api/v1/models")).json()) as { data: { id: string; available: boolean; prices: object }[] };
    const byId = Object.fromEntries(data.map((model) => [model.id, model]));
    assert.equal(byId["openai/gpt-image-1"].available, true);
    assert.deepEqual(byId["openai/gpt-image-1"].prices, { "1024x1024": "0.021", "1536x1024": "0.042", "1024x1536": "0.042" });
    assert.deepEqual(byId["openai/gpt-image-1-mini"].prices, { "1024x1024": "0.01155", "1536x1024": "0.01575", "1024x1536": "0.01575" });
    assert.deepEqual(byId["openai/gpt-image-1.5"].prices, { "1024x1024": "0.0357", "1536x1024": "0.0525", "1024x1536": "0.05355" });
  });
});

test("the adapter hands OpenAI's usage (tokens) to the gateway for the ledger", async () => {
  const catalog = createCatalog({ margin: "0.05" });
  const model = catalog.resolve(MODEL);
  const provider = openAiProvider({ apiKey: KEY, baseUrl: fake.baseUrl, timeoutMs: 5_000 });
  const output = await provider.edit(
    { model, prompt: "p", images: [await inspectImage(png, "image", 4096)], size: "1024x1024", n: 1, options: {}, quote: catalog.quote(model, "1024x1024", 1) },
    AbortSignal.timeout(5_000),
  );
  assert.deepEqual(output.usage, USAGE);
  assert.deepEqual(output.images, [{ bytes: new Uint8Array(result), format: "png" }]);
});

describe("upstream failures as the caller sees them", () => {
  test("moderation_blocked is a 400 content_policy_violation with OpenAI's reason", async () => {
    fake.reply(
      failure(400, {
        message: "Your request was rejected by the safety system. safety_violations=[violence].",
        type: "image_generation_user_error",
        code: "moderation_blocked",
      }),
    );
    const body = await expectError(await edit(), 400, "content_policy_violation", /safety system.*safety_violations=\[violence\]/);
    assert.equal(body.error.type, "invalid_request_error");
  });

  test("an image_generation_user_error about safety is a content_policy_violation too", async () => {
    const message = "Your request was rejected as a result of our safety system.";
    fake.reply(failure(400, { message, type: "image_generation_user_error", code: null }));
    await expectError(await edit(), 400, "content_policy_violation", /rejected as a result of our safety system/);
  });

  test("any other 400 passes OpenAI's message on, with param null", async () => {
    const message = "Invalid image file or mode for image 1, please check your image file.";
    fake.reply(failure(400, { message, type: "image_generation_user_error", code: "invalid_image_file", param: "image" }));
    const body = await expectError(await edit(), 400, "upstream_invalid_request", /OpenAI rejected the request: Invalid image file or mode/);
    assert.equal(body.error.param, null);
  });

  for (const [status, message] of [
    [401, `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`],
    [403, "Your organization must be verified to use the model `gpt-image-1`."],
  ] as const) {
    test(`${status} means the server is misconfigured: a 500 that blames the server's credentials, logged without the key`, async () => {
      fake.reply(failure(status, { message, type: "invalid_request_error", code: status === 401 ? "invalid_api_key" : null }));
      const response = await edit();
      const text = await response.clone().text();
      const body = await expectError(response, 500, "upstream_credentials_refused", /the server's OpenAI credentials were refused.*misconfigured/);
      assert.equal(body.error.type, "server_error");
      assert.ok(!text.includes(KEY) && !text.includes("sk-test"), "no key in the answer");
      const requestId = response.headers.get("x-request-id")!;
      const line = gw.logs.find((entry) => entry.includes(requestId) && entry.includes('"level":50'));
      assert.ok(line, "an error log line for the request");
      assert.match(line, new RegExp(`OpenAI answered ${status}`));
      assert.ok(gw.logs.every((entry) => !entry.includes(KEY)), "the key is in no log line");
    });
  }

  test("429 is passed on with the upstream's Retry-After, marked as the upstream's, without retrying", async () => {
    const limit = { message: "Rate limit reached for images per minute.", type: "requests", code: "rate_limit_exceeded" };
    fake.reply(failure(429, limit, { "retry-after": "7" }));
    const response = await edit();
    await expectError(response, 429, "RATE_LIMITED", /rate limiting this server; retry after 7 seconds/);
    assert.equal(response.headers.get("retry-after"), "7");
    assert.equal(response.headers.get("x-ratelimit-source"), "upstream");
    assert.equal(fake.received.length, 1);
  });

  test("429 without retry-after tells the caller 60 seconds", async () => {
    fake.reply(failure(429, { message: "Rate limit reached.", type: "requests", code: "rate_limit_exceeded" }));
    const response = await edit();
    await expectError(response, 429, "RATE_LIMITED", /retry after 60 seconds/);
    assert.equal(response.headers.get("retry-after"), "60");
  });

  test("a 500 followed by success is retried and succeeds", async () => {
    fake.reply(failure(500, { message: "The server had an error while processing your request.", type: "server_error", code: null }));
    const response = await edit();
    const body = (await response.json()) as EditBody;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.deepEqual(await served(body.data[0].url), result);
    assert.equal(fake.received.length, 2);
  });

  test("a dropped connection is retried too", async () => {
    fake.reply(dropConnection);
    const response = await edit();
    assert.equal(response.status, 200, await response.text());
    assert.equal(fake.received.length, 2);
  });

  test("a redirect is not followed: the upload goes nowhere else, is not retried, and the 502 names OPENAI_BASE_URL", async () => {
    const elsewhere = await startFakeOpenAi(KEY, result);
    try {
      fake.reply((res) => {
        res.writeHead(307, { location: `${elsewhere.baseUrl}/images/edits` });
        res.end();
      });
      await expectError(await edit(), 502, "upstream_error", /OpenAI failed to complete the edit: it answered with a redirect, which is not followed: the operator's OPENAI_BASE_URL/);
      assert.equal(fake.received.length, 1);
      assert.equal(elsewhere.received.length, 0, "the upload was not sent where the redirect pointed");
    } finally {
      await elsewhere.close();
    }
  });

  test("an upstream that keeps failing is a 502 upstream_error after 3 attempts", async () => {
    const outage = failure(503, { message: "Service unavailable.", type: "server_error", code: null });
    fake.reply(outage, outage, outage);
    await expectError(await edit(), 502, "upstream_error", /OpenAI failed to complete the edit: OpenAI answered 503 \(server_error\): Service unavailable/);
    assert.equal(fake.received.length, 3);
  });

  test("an upstream that answers 200 with something that is not an image is a 502, and nothing is stored", async () => {
    const before = await readdir(join(gw.config.dataDir, "files"));
    fake.reply((res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ created: 1, data: [{ b64_json: Buffer.from("<html>oops</html>").toString("base64") }] }));
    });
    await expectError(await edit(), 502, "upstream_error", /not a PNG, JPEG or WebP image/);
    assert.deepEqual(await readdir(join(gw.config.dataDir, "files")), before);
  });
});

test("OPENAI_BASE_URL without /v1: start-up warns naming it, and an edit is a 502 with OpenAI's 404; one that is not a URL stops start-up (exit 2)", async () => {
  const bare = await startTestGateway({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.origin });
  try {
    const warned = (logs: string[]) => logs.some((line) => line.includes('"level":40') && line.includes("OPENAI_BASE_URL has no path"));
    assert.ok(warned(bare.logs), bare.logs.join(""));
    assert.ok(!warned(gw.logs), "not said of a base URL ending in /v1");
    await expectError(await bare.postJson({ model: MODEL, prompt: "p", image: dataUri(png) }), 502, "upstream_error", /OpenAI answered 404/);
  } finally {
    await bare.close();
  }
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-openai-url-"));
  try {
    const run = await runCli(["serve"], { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: "api.openai.com/v1", RETOUCH_PAYMENTS: "off", PORT: "0", RETOUCH_DATA_DIR: dataDir });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /OPENAI_BASE_URL must be an http\(s\) URL, got "api\.openai\.com\/v1"/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("an upstream slower than RETOUCH_UPSTREAM_TIMEOUT_MS is a 504, and the upstream call is cancelled", async () => {
  const slow = await startTestGateway({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseUrl, RETOUCH_UPSTREAM_TIMEOUT_MS: "400" });
  try {
    fake.reply(hang());
    const response = await slow.postJson({ model: MODEL, prompt: "p", image: dataUri(png) });
    await expectError(response, 504, "edit_timeout", /did not finish within 400 ms/);
    for (let i = 0; i < 50 && fake.abandoned === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(fake.abandoned, 1, "the gateway hung up on the upstream");
    assert.equal(fake.received.length, 1, "no retry after the budget ran out");
  } finally {
    await slow.close();
  }
});
