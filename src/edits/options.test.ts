// checkOptions on its own: each optional field against what the model takes, with the refusal's
// field, code and words.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createCatalog } from "../catalog/index.ts";
import { RetouchError } from "../errors.ts";
import { checkOptions, type EditOptions } from "./options.ts";

const catalog = createCatalog({ margin: "0" });
const gptImage1 = catalog.resolve("openai/gpt-image-1");
const mini = catalog.resolve("openai/gpt-image-1-mini");
const gptImage2 = catalog.resolve("openai/gpt-image-2");
const local = catalog.resolve("local/content-aware-fill");

function refusal(options: EditOptions, model = gptImage1) {
  try {
    checkOptions(options, model);
  } catch (error) {
    assert.ok(error instanceof RetouchError, String(error));
    return { status: error.status, param: error.param, code: error.code, message: error.message };
  }
  assert.fail("the options were accepted");
}

test("every option a model takes is accepted; a field left undefined counts as not sent", () => {
  checkOptions({ quality: "high", background: "opaque", output_format: "webp", output_compression: 80, input_fidelity: "low" }, gptImage1);
  checkOptions({ background: "transparent", output_format: "webp" }, gptImage1);
  checkOptions({ background: "transparent" }, gptImage1);
  checkOptions({ output_compression: 50, output_format: "jpeg" }, mini);
  checkOptions({ quality: undefined, background: undefined }, local);
  checkOptions({}, local);
});

test("an option the model does not take is refused by name, listing what it takes", () => {
  assert.deepEqual(refusal({ quality: "low" }, mini), {
    status: 400,
    param: "quality",
    code: "unsupported_parameter",
    message: "openai/gpt-image-1-mini does not take quality; it takes background, output_format, output_compression. Remove quality.",
  });
  assert.deepEqual(refusal({ background: "opaque" }, local), {
    status: 400,
    param: "background",
    code: "unsupported_parameter",
    message: "local/content-aware-fill does not take background. Remove background.",
  });
});

test("a quality without a price for the model is refused, naming the priced ones", () => {
  const unpriced = { ...gptImage1, qualityCosts: { high: gptImage1.qualityCosts!.high! } };
  assert.deepEqual(refusal({ quality: "low" }, unpriced), {
    status: 400,
    param: "quality",
    code: "invalid_request",
    message: 'quality "low" has no price for openai/gpt-image-1; choose one of high',
  });
  const two = { ...gptImage1, qualityCosts: { medium: gptImage1.qualityCosts!.medium!, high: gptImage1.qualityCosts!.high! } };
  assert.equal(refusal({ quality: "low" }, two).message, 'quality "low" has no price for openai/gpt-image-1; choose one of medium, high');
  const none = { ...gptImage1, qualityCosts: undefined };
  assert.equal(refusal({ quality: "medium" }, none).message, 'quality "medium" has no price for openai/gpt-image-1; choose one of (none)');
});

test("output_compression needs jpeg or webp, PNG being the default", () => {
  const expected = {
    status: 400,
    param: "output_compression",
    code: "invalid_request",
    message: "output_compression applies to output_format jpeg or webp only",
  };
  assert.deepEqual(refusal({ output_compression: 80 }), expected);
  assert.deepEqual(refusal({ output_compression: 0, output_format: "png" }), expected);
  checkOptions({ output_compression: 0, output_format: "webp" }, gptImage1);
});

test("a transparent background: refused by a model that cannot make it, and with JPEG", () => {
  assert.deepEqual(refusal({ background: "transparent" }, gptImage2), {
    status: 400,
    param: "background",
    code: "invalid_request",
    message: "openai/gpt-image-2 does not make transparent backgrounds; use opaque or auto",
  });
  checkOptions({ background: "opaque" }, gptImage2);
  assert.deepEqual(refusal({ background: "transparent", output_format: "jpeg" }), {
    status: 400,
    param: "background",
    code: "invalid_request",
    message: "a transparent background needs output_format png or webp, not jpeg",
  });
  checkOptions({ background: "opaque", output_format: "jpeg" }, gptImage1);
});
