import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import {
  corruptIdatKeepingCrc,
  cutJpegWithEoi,
  cutPngReframed,
  cutWebpResized,
  dropLast,
  flipPngCrc,
  overwriteMiddle,
  stripJpegEoi,
  truncateAt,
  withUnknownAdobeTransform,
} from "../../test/support/damage.ts";
import { makeScene } from "../../test/support/scene.ts";
import { decodeFailure, findDamage } from "./integrity.ts";
import type { ImageFormat } from "./sniff.ts";

const SIDE = 192;
const PIXELS = SIDE * SIDE;
let png: Buffer;
let jpeg: Buffer;
let webp: Buffer;
let good: Record<string, [Buffer, ImageFormat]>;

before(async () => {
  const { rgb } = makeScene({ width: SIDE, height: SIDE });
  const picture = () => sharp(rgb, { raw: { width: SIDE, height: SIDE, channels: 3 } });
  png = await picture().png().toBuffer();
  jpeg = await picture().jpeg({ quality: 90 }).toBuffer();
  webp = await picture().webp({ quality: 80 }).toBuffer();
  good = {
    "PNG, RGB": [png, "png"],
    "PNG, interlaced with alpha": [await picture().ensureAlpha().png({ progressive: true }).toBuffer(), "png"],
    "PNG, 16-bit grey": [await picture().toColourspace("grey16").png().toBuffer(), "png"],
    "PNG, palette": [await picture().png({ palette: true }).toBuffer(), "png"],
    "JPEG, baseline": [jpeg, "jpeg"],
    "JPEG, progressive with EXIF and ICC": [await picture().jpeg({ progressive: true }).withMetadata().withExif({ IFD0: { Copyright: "x" } }).toBuffer(), "jpeg"],
    "JPEG, unknown Adobe transform (libjpeg warns, viewers show it)": [withUnknownAdobeTransform(jpeg), "jpeg"],
    "WebP, lossy": [webp, "webp"],
    "WebP, lossless with alpha": [await picture().ensureAlpha(0.5).webp({ lossless: true }).toBuffer(), "webp"],
  };
});

describe("good files pass both checks", () => {
  test("every variant", async () => {
    for (const [name, [bytes, format]] of Object.entries(good)) {
      assert.equal(findDamage(bytes, format), undefined, name);
      assert.equal(await decodeFailure(bytes, format, PIXELS), undefined, name);
    }
  });
});

describe("findDamage names what is wrong with the structure", () => {
  const cases: [string, () => [Buffer, ImageFormat], RegExp][] = [
    ["PNG cut at 10%", () => [truncateAt(png, 0.1), "png"], /^a PNG whose data ends early \(truncated file\)$/],
    ["PNG cut at 95%", () => [truncateAt(png, 0.95), "png"], /^a PNG whose data ends early \(truncated file\)$/],
    ["PNG minus its last byte", () => [dropLast(png, 1), "png"], /^a PNG whose data ends early \(truncated file\)$/],
    ["PNG without IEND", () => [dropLast(png, 12), "png"], /^a PNG whose data ends early \(truncated file\)$/],
    ["PNG with a bad IDAT CRC", () => [flipPngCrc(png), "png"], /^a PNG whose IDAT chunk has a bad checksum \(corrupt file\)$/],
    ["PNG overwritten in the middle", () => [overwriteMiddle(png), "png"], /^a PNG whose IDAT chunk has a bad checksum \(corrupt file\)$/],
    ["JPEG without EOI", () => [stripJpegEoi(jpeg), "jpeg"], /^a JPEG with no end marker \(truncated file\)$/],
    ["JPEG cut at 50%", () => [truncateAt(jpeg, 0.5), "jpeg"], /^a JPEG with no end marker \(truncated file\)$/],
    ["JPEG cut inside its headers", () => [truncateAt(jpeg, 0.02), "jpeg"], /^a JPEG with no end marker \(truncated file\)$/],
    ["WebP cut at 95%", () => [truncateAt(webp, 0.95), "webp"], /^a WebP whose data ends early \(truncated file\)$/],
    ["WebP minus its last byte", () => [dropLast(webp, 1), "webp"], /^a WebP whose data ends early \(truncated file\)$/],
  ];
  for (const [name, damaged, message] of cases) {
    test(name, () => {
      const [bytes, format] = damaged();
      assert.match(findDamage(bytes, format) ?? "(passed)", message);
    });
  }
  test("a JPEG whose marker is overwritten", () => {
    const bytes = Buffer.from(jpeg);
    bytes[2] = 0x12; // the first segment's 0xFF
    assert.equal(findDamage(bytes, "jpeg"), "a JPEG with a damaged marker at byte 2 (corrupt file)");
  });
  test("a PNG whose chunk length is overwritten", () => {
    const bytes = Buffer.from(png);
    bytes.writeUInt32BE(0xfffffff0, 8); // IHDR's length
    assert.equal(findDamage(bytes, "png"), "a PNG whose IHDR chunk has an impossible length (corrupt file)");
  });
  test("a PNG whose first chunk is not IHDR", () => {
    const bytes = Buffer.from(png);
    bytes.write("IHDX", 12, "latin1");
    assert.equal(findDamage(bytes, "png"), "a PNG that does not start with its IHDR header chunk (corrupt file)");
  });
});

describe("decodeFailure catches what a well-formed structure hides", () => {
  const cases: [string, () => [Buffer, ImageFormat]][] = [
    ["PNG: IDAT data overwritten, CRC recomputed", () => [corruptIdatKeepingCrc(png), "png"]],
    ["PNG: cut at 50%, re-framed with a right CRC and IEND", () => [cutPngReframed(png, 0.5), "png"]],
    ["PNG: cut at 95%, re-framed", () => [cutPngReframed(png, 0.95), "png"]],
    ["JPEG: cut at 50%, EOI appended", () => [cutJpegWithEoi(jpeg, 0.5), "jpeg"]],
    ["JPEG: cut at 95%, EOI appended", () => [cutJpegWithEoi(jpeg, 0.95), "jpeg"]],
    ["WebP: cut at 95%, sizes rewritten", () => [cutWebpResized(webp, 0.95), "webp"]],
  ];
  for (const [name, damaged] of cases) {
    test(name, async () => {
      const [bytes, format] = damaged();
      assert.equal(findDamage(bytes, format), undefined, "the structure looks whole: only the decode can tell");
      const names = { png: "PNG", jpeg: "JPEG", webp: "WebP" };
      assert.match((await decodeFailure(bytes, format, PIXELS)) ?? "(passed)", new RegExp(`^a ${names[format]} whose image data`));
    });
  }
  test("a JPEG cut short says its data ends early", async () => {
    assert.equal(
      await decodeFailure(cutJpegWithEoi(jpeg, 0.5), "jpeg", PIXELS),
      "a JPEG whose image data ends early (truncated or corrupt file)",
    );
  });
  test("the pixel limit is the header's size: a lying header cannot make it decode more", async () => {
    assert.match((await decodeFailure(png, "png", PIXELS - 1)) ?? "(passed)", /^a PNG whose image data/);
  });
});
