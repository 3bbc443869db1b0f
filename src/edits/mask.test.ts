import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { RetouchError } from "../errors.ts";
import { cutPngReframed } from "../../test/support/damage.ts";
import { makeScene } from "../../test/support/scene.ts";
import type { SourceImage } from "./image-input.ts";
import { normaliseMask } from "./mask.ts";

const SIDE = 128;

const source = (bytes: Buffer): SourceImage => ({ bytes, format: "png", width: SIDE, height: SIDE });

test("a mask the decoder chokes on is a 400 naming the mask, not a raw decoder error", async () => {
  // Reached only if a damaged mask got past inspectImage(): the guard behind the guard.
  const { rgb } = makeScene({ width: SIDE, height: SIDE });
  const png = await sharp(rgb, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toBuffer();
  const image = source(png);
  const mask = source(cutPngReframed(png, 0.5));
  await assert.rejects(normaliseMask(mask, image), (error: unknown) => {
    assert.ok(error instanceof RetouchError, String(error));
    assert.deepEqual(
      { status: error.status, param: error.param, code: error.code },
      { status: 400, param: "mask", code: "invalid_image" },
    );
    assert.match(error.message, /mask could not be decoded: the file is truncated or corrupt/);
    return true;
  });
});

test("a good mask comes back at the image's size as grey levels", async () => {
  const white = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#fff" } }).png().toBuffer();
  const mask = await normaliseMask({ bytes: white, format: "png", width: 64, height: 64 }, source(white));
  assert.equal(mask.grey.length, SIDE * SIDE);
  assert.ok(mask.grey.every((v) => v === 255));
});
