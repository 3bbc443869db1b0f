// google/nano-banana end to end: the gateway, the real @google/genai SDK, and a
// local fake of POST /v1beta/models/{model}:generateContent. Checks what Gemini
// receives and what the caller gets for images, refusals and failures.

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createCatalog } from "../../src/catalog/index.ts";
import { inspectImage } from "../../src/edits/index.ts";
import { googleProvider } from "../../src/providers/google/index.ts";
import { dataUri, solidImage, squareMaskPng, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { dropConnection, hang } from "./fake-server.ts";
import { expectError } from "./expect.ts";
import { candidate, failure, promptBlocked, startFakeGemini, success, USAGE_METADATA, type FakeGemini } from "./fake-gemini.ts";

const KEY = "AIzaSyFAKE-test-key-0123456789abcdefghij";
const MODEL = "google/nano-banana";

let fake: FakeGemini;
let gw: TestGateway;
let result: Buffer;
let png: Buffer;

before(async () => {
  result = await solidImage(1024, 1024, "png", "#fc0");
  png = await solidImage(64, 64, "png", "#3a7");
  fake = await startFakeGemini(KEY, result);
  gw = await startTestGateway({ GEMINI_API_KEY: KEY, GEMINI_BASE_URL: fake.origin, RETOUCH_UPSTREAM_TIMEOUT_MS: "20000" });
});
after(async () => {
  await gw.close();
  await fake.close();
});
beforeEach(() => fake.reset());

interface EditBody {
  data: { url: string }[];
  price: { amount: string };
}

const edit = (body: Record<string, unknown> = {}) => gw.postJson({ model: MODEL, prompt: "add a hat", image: dataUri(png), ...body });

describe("requests Gemini receives", () => {
  test("images as inlineData parts with their real types, then the prompt; the URL serves Gemini's image", async () => {
    const jpeg = await solidImage(48, 48, "jpeg");
    const response = await edit({ image: [dataUri(png), dataUri(jpeg, "image/png")] });
    const body = (await response.json()) as EditBody;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.price.amount, "0.0525");
    const file = await gw.request(new URL(body.data[0].url).pathname);
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), result);

    assert.equal(fake.received.length, 1);
    const sent = fake.received[0];
    assert.equal(sent.body.model, "gemini-2.5-flash-image");
    assert.equal(sent.headers["x-goog-api-key"], KEY);
    const parts = sent.body.contents[0].parts;
    assert.deepEqual(
      parts.map((part) => part.inlineData?.mimeType ?? part.text),
      ["image/png", "image/jpeg", "add a hat"],
    );
    assert.deepEqual(Buffer.from(parts[0].inlineData!.data, "base64"), png);
    assert.deepEqual(Buffer.from(parts[1].inlineData!.data, "base64"), jpeg);
    assert.equal(sent.body.generationConfig?.imageConfig?.aspectRatio, "1:1", "asks for the quoted 1024x1024's shape");
    assert.ok(sent.body.generationConfig?.responseModalities?.includes("IMAGE"));
  });

  test("a JPEG answer is stored and served as JPEG", async () => {
    const jpeg = await solidImage(1024, 1024, "jpeg", "#0cf");
    fake.reply(success(jpeg, "image/jpeg"));
    const body = (await (await edit()).json()) as EditBody;
    const file = await gw.request(new URL(body.data[0].url).pathname);
    assert.equal(file.headers.get("content-type"), "image/jpeg");
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), jpeg);
  });

  test("a mask is refused before Gemini is called (nano-banana is prompt-only)", async () => {
    const response = await edit({ mask: dataUri(await squareMaskPng(64, 64, 32, 32, 16)) });
    await expectError(response, 400, "invalid_request", /prompt-only and does not take a mask/);
    assert.equal(fake.received.length, 0);
  });
});

test("the adapter hands Gemini's usageMetadata to the gateway for the ledger", async () => {
  const catalog = createCatalog({ margin: "0.05" });
  const model = catalog.resolve(MODEL);
  const provider = googleProvider({ apiKey: KEY, baseUrl: fake.origin, timeoutMs: 5_000 });
  const output = await provider.edit(
    { model, prompt: "p", images: [await inspectImage(png, "image", 4096)], size: "1024x1024", n: 1, options: {}, quote: catalog.quote(model, "1024x1024", 1) },
    AbortSignal.timeout(5_000),
  );
  assert.deepEqual(output.usage, USAGE_METADATA);
  assert.deepEqual(output.images, [{ bytes: new Uint8Array(result), format: "png" }]);
});

describe("refusals and failures as the caller sees them", () => {
  for (const reason of ["IMAGE_SAFETY", "SAFETY", "PROHIBITED_CONTENT"]) {
    test(`finish reason ${reason} is a 400 content_policy_violation`, async () => {
      fake.reply(candidate({ parts: [], finishReason: reason }));
      const message = new RegExp(`safety system rejected this edit: the edit was stopped \\(${reason}\\)`);
      await expectError(await edit(), 400, "content_policy_violation", message);
    });
  }

  test("a prompt blocked before generation (promptFeedback) is a 400 content_policy_violation", async () => {
    fake.reply(promptBlocked("PROHIBITED_CONTENT"));
    await expectError(await edit(), 400, "content_policy_violation", /blocked \(PROHIBITED_CONTENT\)/);
  });

  test("a prompt blocked for SAFETY is a content_policy_violation; for OTHER it is a 422 upstream_refused, not a safety rejection", async () => {
    fake.reply(promptBlocked("SAFETY"));
    await expectError(await edit(), 400, "content_policy_violation", /safety system rejected this edit: the request was blocked \(SAFETY\)/);
    fake.reply(promptBlocked("OTHER"));
    const body = await expectError(await edit(), 422, "upstream_refused", /^Google Gemini declined to produce an image \(blockReason OTHER\)$/);
    assert.doesNotMatch(body.error.message, /safety/i);
  });

  test("finish reason RECITATION (too close to a source) is a 422 upstream_refused", async () => {
    fake.reply(candidate({ parts: [], finishReason: "IMAGE_RECITATION" }));
    await expectError(await edit(), 422, "upstream_refused", /declined to produce an image \(finishReason IMAGE_RECITATION\)/);
  });

  test("an answer with text but no image is a 502 that quotes the model", async () => {
    fake.reply(candidate({ parts: [{ text: "I can't edit this picture." }], finishReason: "STOP" }));
    await expectError(await edit(), 502, "upstream_error", /no image.*I can't edit this picture/);
  });

  test("inline data that is not an image is a 502", async () => {
    fake.reply(candidate({ parts: [{ inlineData: { mimeType: "image/png", data: Buffer.from("nope").toString("base64") } }], finishReason: "STOP" }));
    await expectError(await edit(), 502, "upstream_error", /not a PNG, JPEG or WebP/);
  });

  test("a bad key (400 API_KEY_INVALID) is a 500 blaming the server's credentials, logged without the key", async () => {
    const misconfigured = await startTestGateway({ GEMINI_API_KEY: "AIzaSyWRONG-key-000000000000000000000", GEMINI_BASE_URL: fake.origin });
    try {
      const response = await misconfigured.postJson({ model: MODEL, prompt: "p", image: dataUri(png) });
      const text = await response.clone().text();
      await expectError(response, 500, "upstream_credentials_refused", /the server's Google Gemini credentials were refused/);
      assert.ok(!text.includes("AIza"));
      assert.ok(misconfigured.logs.some((line) => line.includes('"level":50') && line.includes("API key not valid")));
      assert.ok(misconfigured.logs.every((line) => !line.includes("AIzaSyWRONG")));
    } finally {
      await misconfigured.close();
    }
  });

  test("403 PERMISSION_DENIED is a 500 too", async () => {
    fake.reply(failure(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers."));
    await expectError(await edit(), 500, "upstream_credentials_refused", /credentials were refused/);
  });

  test("other 400s pass Gemini's message on", async () => {
    fake.reply(failure(400, "INVALID_ARGUMENT", "Request contains an invalid argument."));
    const body = await expectError(await edit(), 400, "upstream_invalid_request", /Gemini rejected the request: Request contains an invalid/);
    assert.equal(body.error.param, null);
  });

  test("429 RESOURCE_EXHAUSTED passes on the RetryInfo delay as Retry-After", async () => {
    fake.reply(
      failure(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", [
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "33s" },
      ]),
    );
    const response = await edit();
    await expectError(response, 429, "RATE_LIMITED", /retry after 33 seconds/);
    assert.equal(response.headers.get("retry-after"), "33");
    assert.equal(response.headers.get("x-ratelimit-source"), "upstream");
    assert.equal(fake.received.length, 1, "a 429 is not retried");
  });

  test("429 with a retry-after header uses it; with neither, 60 seconds", async () => {
    fake.reply(failure(429, "RESOURCE_EXHAUSTED", "Slow down.", [], { "retry-after": "12" }));
    assert.equal((await edit()).headers.get("retry-after"), "12");
    fake.reply(failure(429, "RESOURCE_EXHAUSTED", "Slow down."));
    assert.equal((await edit()).headers.get("retry-after"), "60");
  });

  test("a 500 then success is retried; a dropped connection too", async () => {
    fake.reply(failure(500, "INTERNAL", "An internal error has occurred."), dropConnection);
    const response = await edit();
    assert.equal(response.status, 200, await response.text());
    assert.equal(fake.received.length, 3);
  });

  test("a redirect is not followed: the request goes nowhere else, is not retried, and the 502 names GEMINI_BASE_URL", async () => {
    const elsewhere = await startFakeGemini(KEY, result);
    try {
      fake.reply((res, received) => {
        res.writeHead(308, { location: `${elsewhere.origin}${received.path}` });
        res.end();
      });
      await expectError(await edit(), 502, "upstream_error", /it answered with a redirect, which is not followed: the operator's GEMINI_BASE_URL/);
      assert.equal(fake.received.length, 1);
      assert.equal(elsewhere.received.length, 0, "the request was not sent where the redirect pointed");
    } finally {
      await elsewhere.close();
    }
  });

  test("an outage that outlasts the retries is a 502", async () => {
    const outage = failure(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
    fake.reply(outage, outage, outage);
    await expectError(await edit(), 502, "upstream_error", /Gemini answered 503 \(UNAVAILABLE\): The model is overloaded/);
    assert.equal(fake.received.length, 3);
  });

  test("an answer slower than RETOUCH_UPSTREAM_TIMEOUT_MS is a 504, and the call is cancelled", async () => {
    const slow = await startTestGateway({ GEMINI_API_KEY: KEY, GEMINI_BASE_URL: fake.origin, RETOUCH_UPSTREAM_TIMEOUT_MS: "400" });
    try {
      fake.reply(hang());
      await expectError(await slow.postJson({ model: MODEL, prompt: "p", image: dataUri(png) }), 504, "edit_timeout", /400 ms/);
      for (let i = 0; i < 50 && fake.abandoned === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(fake.abandoned, 1, "the gateway hung up on Gemini");
    } finally {
      await slow.close();
    }
  });
});
