// validateEdit on its own: each rule at its edge, each refusal's field, code and words, and the
// order of the checks (cheap ones before any image is decoded; nothing refused after a quote).

import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { createCatalog } from "../catalog/index.ts";
import { RetouchError } from "../errors.ts";
import { MAX_N, MAX_PROMPT_CHARS, outputSize, validateEdit, type RawEdit, type ValidateOptions } from "./validate.ts";

const catalog = createCatalog({ margin: "0" });
const options: ValidateOptions = { catalog, maxImageSide: 4096, unavailableReason: () => undefined };

const png = (width: number, height: number, background = "#808080") =>
  sharp({ create: { width, height, channels: 3, background } }).png().toBuffer();

const square = await png(64, 64);
const wide = await png(96, 48);
const tall = await png(48, 96);
const whiteMask = await png(64, 64, "#ffffff");
/** A PNG cut in half: its header and size are readable, its pixels are not. */
const damaged = square.subarray(0, Math.floor(square.length / 2));

const edit = (fields: Partial<RawEdit> = {}): RawEdit => ({
  model: "openai/gpt-image-1",
  prompt: "paint the sky red",
  images: [{ bytes: square, param: "image" }],
  n: 1,
  ...fields,
});

async function refusal(raw: RawEdit, validateOptions = options) {
  try {
    await validateEdit(raw, validateOptions);
  } catch (error) {
    assert.ok(error instanceof RetouchError, String(error));
    return { status: error.status, param: error.param, code: error.code, message: error.message };
  }
  assert.fail("the edit was accepted");
}

test("a prompt must say something, within 32,000 characters", async () => {
  assert.deepEqual(await refusal(edit({ prompt: " \n\t " })), {
    status: 400,
    param: "prompt",
    code: "invalid_request",
    message: "prompt must not be empty: describe the edit you want",
  });
  const atLimit = await validateEdit(edit({ prompt: "x".repeat(MAX_PROMPT_CHARS) }), options);
  assert.equal(atLimit.prompt.length, MAX_PROMPT_CHARS);
  assert.deepEqual(await refusal(edit({ prompt: "x".repeat(MAX_PROMPT_CHARS + 1) })), {
    status: 400,
    param: "prompt",
    code: "invalid_request",
    message: "prompt is 32001 characters; the limit is 32000",
  });
});

test("n is a whole number from 1 to the model's limit", async () => {
  for (const n of [0, -1, 1.5, MAX_N + 1, Number.NaN]) {
    assert.deepEqual(await refusal(edit({ n })), {
      status: 400,
      param: "n",
      code: "invalid_request",
      message: `n must be a whole number from 1 to 10, got ${n}`,
    });
  }
  const most = await validateEdit(edit({ n: MAX_N }), options);
  assert.equal(most.n, MAX_N);
  assert.equal(most.quote.total, most.quote.unitPrice * 10n, "the quote is for every image");
  assert.deepEqual(await refusal(edit({ model: "google/nano-banana", n: 2 })), {
    status: 400,
    param: "n",
    code: "invalid_request",
    message: "google/nano-banana makes at most 1 image(s) per request, got n=2",
  });
});

test("a size the model does not make is refused naming it; none means the model's default", async () => {
  const refused = await refusal(edit({ size: "999x999" }));
  assert.deepEqual({ ...refused, message: undefined }, { status: 400, param: "size", code: "invalid_size", message: undefined });
  assert.match(refused.message, /^size "999x999" is not offered by openai\/gpt-image-1: ./);
  const plain = await validateEdit(edit(), options);
  assert.equal(plain.size, "1024x1024");
  assert.equal(plain.quote.size, "1024x1024");
  // A size asked for is kept whatever the picture's shape (only "auto" follows the picture).
  const asked = await validateEdit(edit({ images: [{ bytes: tall, param: "image" }], size: "1536x1024" }), options);
  assert.deepEqual([asked.size, asked.quote.size], ["1536x1024", "1536x1024"]);
  const local = await validateEdit(edit({ model: "local/content-aware-fill", mask: { bytes: whiteMask, param: "mask" } }), options);
  assert.equal(local.size, "auto", "the embedded engine keeps the picture's own size");
  assert.deepEqual(outputSize(local), { width: 64, height: 64 });
  assert.deepEqual(outputSize({ size: "1536x1024", images: local.images }), { width: 1536, height: 1024 });
});

test('size "auto" on fixed sizes picks the offered shape nearest the picture\'s, and is priced at it', async () => {
  const picked = async (bytes: Buffer) => (await validateEdit(edit({ size: "auto", images: [{ bytes, param: "image" }] }), options)).size;
  assert.equal(await picked(wide), "1536x1024");
  assert.equal(await picked(tall), "1024x1536");
  assert.equal(await picked(square), "1024x1024");
  // 1536x1024 and 1024x1536 are equally far from a square; the default wins, not the first listed.
  const defaultLast = createCatalog({ margin: "0", config: { models: { "openai/gpt-image-1": { defaultSize: "1024x1536" } } } });
  const tie = await validateEdit(edit({ size: "auto", images: [{ bytes: await png(80, 80), param: "image" }] }), { ...options, catalog: defaultLast });
  assert.equal(tie.size, "1024x1024", "the square itself is nearest");
  const noSquare = createCatalog({
    margin: "0",
    config: { models: { "openai/gpt-image-1": { sizes: { "1536x1024": "0.04", "1024x1536": "0.04" }, defaultSize: "1024x1536" } } },
  });
  const tied = await validateEdit(edit({ size: "auto" }), { ...options, catalog: noSquare });
  assert.equal(tied.size, "1024x1536", "a tie goes to the default size");
  assert.equal(tied.quote.size, "1024x1536");
  const defaultFirst = createCatalog({
    margin: "0",
    config: { models: { "openai/gpt-image-1": { sizes: { "1536x1024": "0.04", "1024x1536": "0.04" }, defaultSize: "1536x1024" } } },
  });
  assert.equal((await validateEdit(edit({ size: "auto" }), { ...options, catalog: defaultFirst })).size, "1536x1024", "the default wins a tie listed first too");
  const defaultFar = createCatalog({
    margin: "0",
    config: {
      models: { "openai/gpt-image-1": { sizes: { "1024x1024": "0.02", "2048x2048": "0.08", "1536x1024": "0.04" }, defaultSize: "1536x1024" } },
    },
  });
  assert.equal((await validateEdit(edit({ size: "auto" }), { ...options, catalog: defaultFar })).size, "1024x1024", "without the default in a tie, the first listed wins");
  const wideQuote = await validateEdit(edit({ size: "auto", images: [{ bytes: wide, param: "image" }] }), options);
  assert.equal(wideQuote.quote.amount, "0.04");
});

test("images: at least one, at most the model's count", async () => {
  assert.deepEqual(await refusal(edit({ images: [] })), {
    status: 400,
    param: "image",
    code: "invalid_request",
    message: "image is required: send the picture to edit",
  });
  const four = Array.from({ length: 4 }, (_, i) => ({ bytes: square, param: `image[${i}]` }));
  assert.equal((await validateEdit(edit({ images: four }), options)).images.length, 4);
  assert.deepEqual(await refusal(edit({ images: [...four, { bytes: square, param: "image[4]" }] })), {
    status: 400,
    param: "image",
    code: "too_many_images",
    message: "openai/gpt-image-1 takes at most 4 source image(s), got 5",
  });
});

test("a mask: refused by prompt-only models and beside several images, required by the embedded engine", async () => {
  const mask = { bytes: whiteMask, param: "mask" };
  assert.deepEqual(await refusal(edit({ model: "google/nano-banana", mask })), {
    status: 400,
    param: "mask",
    code: "invalid_request",
    message: "google/nano-banana is prompt-only and does not take a mask; remove the mask",
  });
  const two = [
    { bytes: square, param: "image[0]" },
    { bytes: square, param: "image[1]" },
  ];
  assert.deepEqual(await refusal(edit({ images: two, mask })), {
    status: 400,
    param: "mask",
    code: "invalid_request",
    message: "a mask can only be sent with a single image; send one image or no mask",
  });
  assert.deepEqual(await refusal(edit({ model: "local/content-aware-fill" })), {
    status: 400,
    param: "mask",
    code: "mask_required",
    message: "local/content-aware-fill needs a mask: a picture of the same aspect ratio, white where the image should be filled",
  });
  const masked = await validateEdit(edit({ mask: { bytes: await png(32, 32, "#ffffff"), param: "mask" } }), options);
  assert.deepEqual({ width: masked.mask?.width, height: masked.mask?.height }, { width: 64, height: 64 }, "brought to the image's size");
  assert.ok(masked.mask?.grey.every((level) => level === 255), "white is edit");
  assert.equal((await validateEdit(edit(), options)).mask, undefined);
});

test("streaming makes one image; partial_images needs a stream", async () => {
  assert.deepEqual(await refusal(edit({ stream: true, n: 2 })), {
    status: 400,
    param: "n",
    code: "unsupported_parameter",
    message: "a streamed edit makes one image (as OpenAI's does); send n: 1, or no stream",
  });
  assert.deepEqual(await refusal(edit({ partialImages: 1 })), {
    status: 400,
    param: "partial_images",
    code: "unsupported_parameter",
    message: "partial_images applies only to streamed edits (stream: true); remove it",
  });
  assert.equal((await validateEdit(edit({ partialImages: 0 }), options)).stream, undefined, "0 previews asks for nothing");
  assert.deepEqual((await validateEdit(edit({ stream: true }), options)).stream, { partialImages: 0 });
  assert.deepEqual((await validateEdit(edit({ stream: true, partialImages: 3 }), options)).stream, { partialImages: 3 });
});

test("a model this server cannot run is refused naming why", async () => {
  const reason = "openai/gpt-image-1 needs OPENAI_API_KEY on this server";
  const unavailable = { ...options, unavailableReason: (model: { id: string }) => (model.id === "openai/gpt-image-1" ? reason : undefined) };
  assert.deepEqual(await refusal(edit(), unavailable), { status: 400, param: "model", code: "model_not_available", message: reason });
  assert.equal((await validateEdit(edit({ model: "openai/gpt-image-1-mini" }), unavailable)).model.id, "openai/gpt-image-1-mini");
});

test("the cheap checks come first: a bad field is named before a damaged picture is decoded", async () => {
  const broken = [{ bytes: damaged, param: "image" }];
  assert.equal((await refusal(edit({ images: broken, prompt: "" }))).param, "prompt");
  assert.equal((await refusal(edit({ images: broken, n: 0 }))).param, "n");
  assert.equal((await refusal(edit({ images: broken, size: "1x1" }))).param, "size");
  assert.equal((await refusal(edit({ images: broken, stream: true, n: 2 }))).param, "n");
  assert.equal((await refusal(edit({ images: broken }), { ...options, unavailableReason: () => "no key" })).param, "model");
  assert.equal((await refusal(edit({ images: broken, options: { quality: "ultra" } as never }))).param, "quality");
  // Only then is the picture itself looked at, and each input is named by its field.
  assert.deepEqual(await refusal(edit({ images: [{ bytes: square, param: "image[0]" }, { bytes: damaged, param: "image[1]" }] })).then((r) => [r.param, r.code]), [
    "image[1]",
    "invalid_image",
  ]);
  assert.deepEqual(await refusal(edit({ mask: { bytes: damaged, param: "mask" } })).then((r) => [r.param, r.code]), ["mask", "invalid_image"]);
});

test("what the caller asked is carried through only when asked", async () => {
  const plain = await validateEdit(edit(), options);
  assert.deepEqual(
    Object.keys(plain).sort(),
    ["images", "mask", "model", "n", "options", "prompt", "quote", "size"],
    "no responseFormat, user or stream keys",
  );
  assert.deepEqual(plain.options, {});
  const asked = await validateEdit(edit({ responseFormat: "b64_json", user: "user-42", options: { quality: "high" } }), options);
  assert.equal(asked.responseFormat, "b64_json");
  assert.equal(asked.user, "user-42");
  assert.deepEqual(asked.options, { quality: "high" });
  assert.equal(asked.quote.quality, "high");
  assert.notEqual(asked.quote.total, plain.quote.total, "quality sets the price");
  assert.equal(asked.model.id, "openai/gpt-image-1");
  assert.equal(asked.images[0].width, 64);
});
