// The JSON API's images arrive as base64 data URIs: what is accepted, and the
// exact refusal (naming the field and the fix) of everything else.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { RetouchError } from "../errors.ts";
import { decodeDataUri } from "./data-uri.ts";

const BYTES = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff]);
const B64 = BYTES.toString("base64"); // 12 characters

function refusal(value: string, param = "image"): { message: string; param?: string | null; code?: string } {
  try {
    decodeDataUri(value, param);
  } catch (error) {
    assert.ok(error instanceof RetouchError);
    assert.equal(error.status, 400);
    return { message: error.message, param: error.param, code: error.code };
  }
  assert.fail(`${JSON.stringify(value.slice(0, 60))} was accepted`);
}

describe("accepted", () => {
  const cases: [string, string, string | undefined][] = [
    ["a PNG data URI", `data:image/png;base64,${B64}`, "image/png"],
    ["the type in capitals, read in lower case", `DATA:IMAGE/PNG;BASE64,${B64}`, "image/png"],
    ["no type at all", `data:;base64,${B64}`, undefined],
    ["parameters before base64", `data:image/png;name=photo.png;charset=utf-8;base64,${B64}`, "image/png"],
    ["line breaks in the payload", `data:image/webp;base64,${B64.slice(0, 4)}\r\n${B64.slice(4, 8)}\n${B64.slice(8)}`, "image/webp"],
  ];
  for (const [name, value, declaredType] of cases) {
    test(name, () => {
      const decoded = decodeDataUri(value, "image");
      assert.equal(decoded.declaredType, declaredType);
      assert.deepEqual(Buffer.from(decoded.bytes), BYTES);
    });
  }
  test("payloads of every valid length, with or without padding", () => {
    for (const payload of ["AA", "AAA", "AAAA", "AA==", "AAA=", "AAAAAA=="]) {
      assert.deepEqual(Buffer.from(decodeDataUri(`data:image/png;base64,${payload}`, "image").bytes), Buffer.from(payload, "base64"), payload);
    }
  });
  test("a header of up to 256 characters", () => {
    const header = (length: number) => `data:image/png;x=${"a".repeat(length - "data:image/png;x=;base64,".length)};base64,`;
    assert.equal(header(256).length, 256);
    assert.deepEqual(Buffer.from(decodeDataUri(header(256) + B64, "image").bytes), BYTES);
    assert.match(refusal(header(257) + B64).message, /^image must be a base64 data URI/);
  });
});

describe("refused, naming the field", () => {
  test("a value that is not a data URI, quoted whole when short", () => {
    assert.deepEqual(refusal("https://example.com/cat.png", "image[1]"), {
      message: 'image[1] must be a base64 data URI such as "data:image/png;base64,iVBOR...", got "https://example.com/cat.png"',
      param: "image[1]",
      code: "invalid_image",
    });
  });
  test("a long one quoted by its first 40 characters", () => {
    const value = `/9j/${"A".repeat(100)}`;
    assert.equal(refusal(value, "mask").message, `mask must be a base64 data URI such as "data:image/png;base64,iVBOR...", got "${value.slice(0, 40)}..."`);
    const forty = "B".repeat(40);
    assert.match(refusal(forty).message, new RegExp(`got "${forty}"$`));
  });
  test("text before data:", () => {
    assert.match(refusal(` data:image/png;base64,${B64}`).message, /must be a base64 data URI/);
  });
  test("a payload that is not base64", () => {
    for (const payload of ["", "A", "AAAAA", "A===", "AA=A", "AA-_", "@AAA", "AAA@", "AA AA"]) {
      assert.deepEqual(
        refusal(`data:image/png;base64,${payload}`),
        { message: "image is a data URI whose payload is not valid base64", param: "image", code: "invalid_image" },
        JSON.stringify(payload),
      );
    }
  });
});
