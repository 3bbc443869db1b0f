// The format is told by the magic bytes alone, and only when they are all there.

import { test } from "node:test";
import assert from "node:assert/strict";
import { CONTENT_TYPES, sniffImageFormat } from "./sniff.ts";

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const riff = (kind: string) => Buffer.from(`RIFF\x04\x00\x00\x00${kind}`, "latin1");

test("each format by its exact signature, with nothing after it", () => {
  assert.equal(sniffImageFormat(new Uint8Array(PNG)), "png");
  assert.equal(sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff])), "jpeg");
  assert.equal(sniffImageFormat(riff("WEBP")), "webp");
});

test("a signature cut short, or wrong in any byte, is no format", () => {
  assert.equal(sniffImageFormat(new Uint8Array(PNG.slice(0, 7))), undefined);
  for (let i = 0; i < PNG.length; i++) {
    const wrong = [...PNG];
    wrong[i] ^= 0x20;
    assert.equal(sniffImageFormat(new Uint8Array(wrong)), undefined, `PNG byte ${i}`);
  }
  assert.equal(sniffImageFormat(new Uint8Array([0xff, 0xd8])), undefined);
  for (const wrong of [[0xfe, 0xd8, 0xff], [0xff, 0xd9, 0xff], [0xff, 0xd8, 0xfe]]) {
    assert.equal(sniffImageFormat(new Uint8Array(wrong)), undefined, JSON.stringify(wrong));
  }
  assert.equal(sniffImageFormat(riff("WEB")), undefined);
  assert.equal(sniffImageFormat(riff("WAVE")), undefined);
  assert.equal(sniffImageFormat(Buffer.from("RIFX\x04\x00\x00\x00WEBP", "latin1")), undefined);
  assert.equal(sniffImageFormat(new Uint8Array(0)), undefined);
});

test("each format's content type, as results are stored and sent upstream", () => {
  assert.deepEqual(CONTENT_TYPES, { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" });
});
