import { test } from "node:test";
import assert from "node:assert/strict";
import { RetouchError } from "../errors.ts";
import { checkJsonBounds, JsonBoundsScanner } from "./json-bounds.ts";

const BOUNDS = { depth: 8, arrayItems: 64, values: 1000 };

function refusal(text: string): RetouchError {
  try {
    checkJsonBounds(text, BOUNDS);
  } catch (error) {
    assert.ok(error instanceof RetouchError);
    assert.equal(error.status, 400);
    return error;
  }
  assert.fail("the text was let through");
}

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

test("an edit request with 16 images and every option passes", () => {
  const image = `"data:image/png;base64,${"iVBORw0KGgo".repeat(1000)}"`;
  const edit = { model: "m", prompt: "p", size: "1024x1024", n: 2, quality: "high", background: "auto", output_compression: 80 };
  checkJsonBounds(JSON.stringify(edit).replace("}", `,"image":[${Array(16).fill(image).join(",")}],"mask":${image}}`), BOUNDS);
});

test("an array of 1.2 million items is refused at its 65th item, naming the limit", () => {
  const error = refusal(`{"prompt":"p","image":[${"1,".repeat(1_200_000)}1]}`);
  assert.equal(error.code, "json_array_too_long");
  assert.match(error.message, /more than 64 items/);
});

test("an array of exactly 64 items passes (zod then says how many images a model takes)", () => {
  checkJsonBounds(`{"image":[${Array(64).fill('"x"').join(",")}]}`, BOUNDS);
});

test("nesting deeper than 8 is refused; 8 passes", () => {
  checkJsonBounds(nested(8), BOUNDS);
  const error = refusal(`{"prompt":${nested(9)}}`);
  assert.equal(error.code, "json_too_deep");
  assert.match(error.message, /more than 8 deep/);
  assert.equal(refusal(nested(100_000)).code, "json_too_deep");
});

test("an object of 2,000 members is refused by the count of values", () => {
  const members = Array.from({ length: 2000 }, (_, i) => `"k${i}":1`).join(",");
  const error = refusal(`{${members}}`);
  assert.equal(error.code, "json_too_many_values");
  assert.match(error.message, /more than 1000 values/);
});

test("many small arrays, each short, are refused by the count of values", () => {
  assert.equal(refusal(`[${Array(60).fill(`[${Array(60).fill(0).join(",")}]`).join(",")}]`).code, "json_too_many_values");
});

test("brackets, commas and escaped quotes inside strings are not counted", () => {
  const inside = `${"[{".repeat(50)}${",".repeat(5000)}\\"],\\\\`;
  checkJsonBounds(JSON.stringify({ prompt: `${"[{".repeat(50)}${",".repeat(5000)}"],\\` }), BOUNDS);
  checkJsonBounds(`{"prompt":"${inside}"}`, BOUNDS);
});

test("a string ending in an escaped backslash ends there: the array after it is counted", () => {
  const error = refusal(`{"prompt":"a\\\\","image":[${"1,".repeat(64)}1]}`);
  assert.equal(error.code, "json_array_too_long");
});

test("text that is not JSON is left for JSON.parse to name", () => {
  for (const text of ['{"prompt": "never ends', "]]]],,,,", "", '{"a":1}}}]]' + ",".repeat(2000)]) {
    assert.doesNotThrow(() => checkJsonBounds(text, BOUNDS), text.slice(0, 40));
  }
});

test("fed in pieces split anywhere (inside strings, between a backslash and its quote), the verdict is the whole text's", () => {
  const tricky = `{"prompt":"a \\\\\\" [ , ] \\\\","image":["x","y\\\\"],"mask":"[[[[[[[[[["}`;
  JSON.parse(tricky); // it is JSON
  const deep = `{"prompt":"\\\\",${"[".repeat(9)}`;
  for (const [text, verdict] of [[tricky, "ok"], [deep, "json_too_deep"]] as const) {
    for (let cut = 0; cut <= text.length; cut++) {
      for (const size of [1, 2, 3, 7]) {
        const scanner = new JsonBoundsScanner(BOUNDS);
        let got = "ok";
        try {
          scanner.feed(text.slice(0, cut));
          for (let at = cut; at < text.length; at += size) scanner.feed(text.slice(at, at + size));
        } catch (error) {
          got = (error as RetouchError).code;
        }
        assert.equal(got, verdict, `cut at ${cut}, then pieces of ${size}`);
      }
    }
  }
});
