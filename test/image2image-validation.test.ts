// Every bad input to the edit endpoints gets a 400/413/415 whose message names
// the field and the fix, before any work is done.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { dataUri, solidImage, squareMaskPng, startTestGateway, type TestGateway } from "./support/gateway.ts";

const centreMask = async (side: number) => dataUri(await squareMaskPng(side, side, side / 2, side / 2, side / 4));

let gw: TestGateway;
let png: string;
let mask: string;

before(async () => {
  gw = await startTestGateway({ RETOUCH_MAX_BODY_BYTES: String(2 * 1024 * 1024) });
  png = dataUri(await solidImage(64, 64));
  mask = dataUri(await solidImage(64, 64, "png", "#fff")); // covers everything: only for tests that fail earlier
});
after(() => gw.close());

const LOCAL = "local/content-aware-fill";

async function expectError(
  response: Response,
  status: number,
  param: string | null,
  message: RegExp,
): Promise<void> {
  const body = (await response.json()) as { error: { message: string; type: string; param: string | null; code: string } };
  assert.equal(response.status, status, JSON.stringify(body));
  assert.equal(body.error.param, param, body.error.message);
  assert.match(body.error.message, message);
  assert.equal(typeof body.error.type, "string");
  assert.equal(typeof body.error.code, "string");
}

describe("prompt", () => {
  test("missing", async () => {
    await expectError(await gw.postJson({ model: LOCAL, image: png, mask }), 400, "prompt", /prompt is required/);
  });
  test("empty or blank", async () => {
    await expectError(await gw.postJson({ model: LOCAL, prompt: "  ", image: png, mask }), 400, "prompt", /must not be empty/);
  });
  test("longer than 32,000 characters", async () => {
    const response = await gw.postJson({ model: LOCAL, prompt: "x".repeat(32_001), image: png, mask });
    await expectError(response, 400, "prompt", /32001 characters; the limit is 32000/);
  });
  test("not a string", async () => {
    await expectError(await gw.postJson({ model: LOCAL, prompt: 42, image: png, mask }), 400, "prompt", /prompt must be a text/);
  });
});

describe("image", () => {
  test("missing", async () => {
    await expectError(await gw.postJson({ model: LOCAL, prompt: "p", mask }), 400, "image", /image is required/);
  });
  test("not a data URI", async () => {
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: "https://example.com/cat.png", mask });
    await expectError(response, 400, "image", /must be a base64 data URI/);
  });
  test("a data URI that is not base64", async () => {
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: "data:image/png;base64,@@not*base64@@", mask });
    await expectError(response, 400, "image", /not valid base64/);
  });
  test("bytes that are not PNG, JPEG or WebP, whatever the declared type", async () => {
    const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "binary");
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: dataUri(gif, "image/png"), mask });
    await expectError(response, 400, "image", /not a PNG, JPEG or WebP image/);
  });
  test("a corrupt header", async () => {
    const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40, 7)]);
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: dataUri(bytes), mask });
    await expectError(response, 400, "image", /header is corrupt/);
  });
  test("over the pixel limit: refused from the header, before decoding", async () => {
    // 5000x5000 of one colour compresses to a few KB: a small decompression bomb.
    const bomb = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: "#000" } }).png().toBuffer();
    assert.ok(bomb.length < 200_000);
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: dataUri(bomb), mask });
    await expectError(response, 400, "image", /5000x5000; the largest accepted is 4096x4096/);
  });
  test("under 16x16", async () => {
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: dataUri(await solidImage(8, 12)), mask });
    await expectError(response, 400, "image", /8x12; the smallest accepted is 16x16/);
  });
  test("more images than the model takes", async () => {
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: [png, png], mask });
    await expectError(response, 400, "image", /takes at most 1 source image\(s\), got 2/);
  });
  test("the bad one of several is named by index", async () => {
    const response = await gw.postJson({ model: "openai/gpt-image-1", prompt: "p", image: [png, "nope"] });
    await expectError(response, 400, "image[1]", /image\[1\] must be a base64 data URI/);
  });
});

describe("model, size, n", () => {
  test("unknown model lists the known ones", async () => {
    const response = await gw.postJson({ model: "acme/magic", prompt: "p", image: png, mask });
    await expectError(response, 400, "model", /unknown model "acme\/magic"; known models: .*openai\/gpt-image-1.*local\/content-aware-fill/);
  });
  test("a size the model does not offer lists the offered ones", async () => {
    const response = await gw.postJson({ model: "openai/gpt-image-1", prompt: "p", image: png, size: "800x600" });
    await expectError(response, 400, "size", /"800x600" is not offered by openai\/gpt-image-1; choose one of 1024x1024, 1536x1024, 1024x1536/);
  });
  for (const n of [0, 11, 1.5, "2"]) {
    test(`n=${JSON.stringify(n)} is outside 1..10`, async () => {
      await expectError(await gw.postJson({ model: LOCAL, prompt: "p", image: png, mask, n }), 400, "n", /n must be a whole number from 1 to 10/);
    });
  }
  test("n above the model's cap", async () => {
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: png, mask, n: 2 });
    await expectError(response, 400, "n", /makes at most 1 image\(s\) per request, got n=2/);
  });
  test("a model without credentials says which env var enables it", async () => {
    const response = await gw.postJson({ prompt: "p", image: png });
    await expectError(response, 400, "model", /set OPENAI_API_KEY/);
  });
});

describe("mask", () => {
  test("required by the embedded engine", async () => {
    await expectError(await gw.postJson({ model: LOCAL, prompt: "p", image: png }), 400, "mask", /needs a mask/);
  });
  test("another aspect ratio than the image", async () => {
    const wide = dataUri(await solidImage(128, 64, "png", "#fff"));
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: png, mask: wide });
    await expectError(response, 400, "mask", /mask is 128x64 but image is 64x64/);
  });
  test("with several images", async () => {
    const response = await gw.postJson({ model: "openai/gpt-image-1", prompt: "p", image: [png, png], mask });
    await expectError(response, 400, "mask", /only be sent with a single image/);
  });
  test("sent to a prompt-only model", async () => {
    const response = await gw.postJson({ model: "google/nano-banana", prompt: "p", image: png, mask });
    await expectError(response, 400, "mask", /prompt-only and does not take a mask/);
  });
  test("not an image", async () => {
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: png, mask: dataUri(Buffer.from("hello")) });
    await expectError(response, 400, "mask", /mask is not a PNG, JPEG or WebP/);
  });
});

describe("the body itself", () => {
  test("malformed JSON is a 400", async () => {
    const response = await gw.request("/api/v1/images/image2image", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"prompt": "p", ',
    });
    await expectError(response, 400, null, /not valid JSON/);
  });
  test("a JSON body that is not an object is a 400", async () => {
    await expectError(await gw.postJson([1, 2]), 400, null, /must be a JSON object/);
  });
  test("a body over the limit is a 413", async () => {
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: "data:image/png;base64," + "A".repeat(3 * 1024 * 1024) });
    await expectError(response, 413, null, /larger than the limit of 2097152 bytes/);
  });
  test("a wrong content type is a 415", async () => {
    const response = await gw.request("/api/v1/images/image2image", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "edit my picture",
    });
    await expectError(response, 415, null, /Content-Type must be application\/json or multipart\/form-data, got "text\/plain"/);
  });
  test("multipart without a prompt is a 400", async () => {
    const form = new FormData();
    form.append("image", new Blob([await solidImage(64, 64)], { type: "image/png" }), "a.png");
    const response = await gw.request("/v1/images/edits", { method: "POST", body: form });
    await expectError(response, 400, "prompt", /prompt is required/);
  });
  test("multipart with a non-numeric n is a 400", async () => {
    const form = new FormData();
    form.append("prompt", "p");
    form.append("n", "two");
    form.append("image", new Blob([await solidImage(64, 64)], { type: "image/png" }), "a.png");
    const response = await gw.request("/v1/images/edits", { method: "POST", body: form });
    await expectError(response, 400, "n", /n must be a whole number/);
  });
});

test("no bad request left a file behind", async () => {
  assert.deepEqual(await readdir(join(gw.config.dataDir, "files")), []);
});

test("a mask that covers the whole picture is refused before any work", async () => {
  const response = await gw.postJson({ model: LOCAL, prompt: "p", image: png, mask });
  await expectError(response, 400, "mask", /covers 100.0% of the image/);
});

test("a truncated image whose header is fine is a 400, not a crash", async () => {
  const whole = await solidImage(256, 256, "png", "#123456");
  const noisy = await sharp(Buffer.from(Array.from({ length: 256 * 256 * 3 }, (_, i) => (i * 7919) % 251)), {
    raw: { width: 256, height: 256, channels: 3 },
  })
    .png()
    .toBuffer();
  assert.ok(whole.length > 0);
  const truncated = noisy.subarray(0, Math.floor(noisy.length / 2));
  const response = await gw.postJson({ model: LOCAL, prompt: "p", image: dataUri(truncated), mask: await centreMask(256) });
  await expectError(response, 400, "image", /truncated or corrupt/);
});

test("an all-black mask (nothing to fill) is refused", async () => {
  const black = dataUri(await solidImage(64, 64, "png", "#000"));
  await expectError(await gw.postJson({ model: LOCAL, prompt: "p", image: png, mask: black }), 400, "mask", /no white pixels/);
});

test("a model name is bounded in length", async () => {
  const response = await gw.postJson({ model: "x".repeat(5000), prompt: "p", image: png, mask });
  await expectError(response, 400, "model", /at most 200 characters/);
});
