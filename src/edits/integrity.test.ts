import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
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
  const corrupt = (name: string) => `a ${name} whose image data is corrupt and cannot be decoded`;
  const endsEarly = (name: string) => `a ${name} whose image data ends early (truncated or corrupt file)`;
  const cases: [string, () => [Buffer, ImageFormat], string][] = [
    ["PNG: IDAT data overwritten, CRC recomputed", () => [corruptIdatKeepingCrc(png), "png"], corrupt("PNG")],
    ["PNG: cut at 50%, re-framed with a right CRC and IEND", () => [cutPngReframed(png, 0.5), "png"], corrupt("PNG")],
    ["PNG: cut at 95%, re-framed", () => [cutPngReframed(png, 0.95), "png"], corrupt("PNG")],
    ["JPEG: cut at 50%, EOI appended", () => [cutJpegWithEoi(jpeg, 0.5), "jpeg"], endsEarly("JPEG")],
    ["JPEG: cut at 95%, EOI appended", () => [cutJpegWithEoi(jpeg, 0.95), "jpeg"], endsEarly("JPEG")],
    ["WebP: cut at 95%, sizes rewritten", () => [cutWebpResized(webp, 0.95), "webp"], corrupt("WebP")],
  ];
  for (const [name, damaged, message] of cases) {
    test(name, async () => {
      const [bytes, format] = damaged();
      assert.equal(findDamage(bytes, format), undefined, "the structure looks whole: only the decode can tell");
      assert.equal(await decodeFailure(bytes, format, PIXELS), message);
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

/** Files built byte by byte: the structure walk's every rule, at its edges. */
describe("findDamage on files built byte by byte", () => {
  const bytes = (...parts: (number[] | Buffer | string)[]) =>
    Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part, "latin1") : Buffer.from(part))));

  describe("PNG", () => {
    const pngChunk = (type: string, data = Buffer.alloc(1)) => {
      const body = bytes(type, data);
      const frame = Buffer.alloc(4);
      frame.writeUInt32BE(data.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body));
      return bytes(frame, body, crc);
    };
    /** The scene PNG's signature and IHDR (bytes 0-32), these chunks, IEND. */
    const pngOf = (...chunks: Buffer[]) => bytes(png.subarray(0, 33), ...chunks, pngChunk("IEND", Buffer.alloc(0)));

    test("a chunk named with the first and last letters of both cases is read on", () => {
      assert.equal(findDamage(pngOf(pngChunk("azAZ"), pngChunk("IDAT")), "png"), undefined);
    });
    for (const type of ["a@ZZ", "a[ZZ", "`aZZ", "{aZZ", "a\0ZZ"]) {
      test(`a chunk named ${JSON.stringify(type)} is unreadable, at its byte`, () => {
        assert.equal(findDamage(pngOf(pngChunk(type), pngChunk("IDAT")), "png"), "a PNG with an unreadable chunk at byte 33 (corrupt file)");
      });
    }
    test("no IDAT between IHDR and IEND is no image data", () => {
      assert.equal(findDamage(pngOf(pngChunk("tEXt")), "png"), "a PNG with no image data (no IDAT chunk)");
    });
    test("a chunk length of 2^31 - 1 is possible (so the file is cut short), 2^31 is not", () => {
      const longest = Buffer.from(png);
      longest.writeUInt32BE(0x7fffffff, 8);
      assert.equal(findDamage(longest, "png"), "a PNG whose data ends early (truncated file)");
      longest.writeUInt32BE(0x80000000, 8);
      assert.equal(findDamage(longest, "png"), "a PNG whose IHDR chunk has an impossible length (corrupt file)");
    });
  });

  describe("JPEG", () => {
    const SOI = [0xff, 0xd8];
    const EOI = [0xff, 0xd9];
    const cases: [string, Buffer, string | undefined][] = [
      ["segments, markers without a length, fill bytes", bytes(SOI, [0xff, 0xfe, 0, 2], [0xff, 0x01], [0xff, 0xd0], [0xff, 0xd7], [0xff, 0xff, 0xff], EOI), undefined],
      ["SOF0, the lowest marker with a length", bytes(SOI, [0xff, 0xc0, 0, 2], EOI), undefined],
      [
        "a scan holding stuffed bytes, restarts 0 to 7 and fill bytes",
        bytes(SOI, [0xff, 0xda, 0, 2], [1, 0xff, 0, 2, 0xff, 0xd0, 3, 0xff, 0xd7, 4, 0xff, 0xff, 0xd3, 5], EOI),
        undefined,
      ],
      ["a marker below 0xC0", bytes(SOI, [0xff, 0xbf, 0, 2], EOI), "a JPEG with a damaged marker at byte 2 (corrupt file)"],
      ["a second SOI", bytes(SOI, SOI, EOI), "a JPEG with a damaged marker at byte 2 (corrupt file)"],
      ["a segment length of 1", bytes(SOI, [0xff, 0xc4, 0, 1], EOI), "a JPEG with a damaged segment at byte 2 (corrupt file)"],
      ["a length cut in half", bytes(SOI, [0xff, 0xc4, 0]), "a JPEG with no end marker (truncated file)"],
      ["a segment longer than the file", bytes(SOI, [0xff, 0xc4, 0, 16, 1, 2], EOI), "a JPEG with no end marker (truncated file)"],
      ["a scan ending in a lone 0xFF", bytes(SOI, [0xff, 0xda, 0, 2], [1, 2, 0xff]), "a JPEG with no end marker (truncated file)"],
      ["fill bytes and then nothing", bytes(SOI, [0xff, 0xff]), "a JPEG with no end marker (truncated file)"],
      ["cut right after a whole segment", bytes(SOI, [0xff, 0xc4, 0, 4, 1, 2]), "a JPEG with no end marker (truncated file)"],
      ["junk between two segments", bytes(SOI, [0xff, 0xc4, 0, 2], [7, 7], [0xff, 0xdb, 0, 2], EOI), "a JPEG with a damaged marker at byte 6 (corrupt file)"],
      ["a scan whose data runs to the end marker", bytes(SOI, [0xff, 0xda, 0, 2], [1, 2, 3], EOI), undefined],
    ];
    for (const [name, file, damage] of cases) {
      test(name, () => assert.equal(findDamage(file, "jpeg"), damage));
    }
  });

  describe("WebP", () => {
    const webpChunk = (fourcc: string, size: number) => {
      const frame = Buffer.alloc(4);
      frame.writeUInt32LE(size);
      return bytes(fourcc, frame, Buffer.alloc(size + (size & 1)));
    };
    const riff = (...chunks: Buffer[]) => {
      const body = bytes("WEBP", ...chunks);
      const size = Buffer.alloc(4);
      size.writeUInt32LE(body.length);
      return bytes("RIFF", size, body);
    };
    const cases: [string, Buffer, string | undefined][] = [
      ["lossy", riff(webpChunk("VP8 ", 4)), undefined],
      ["lossless", riff(webpChunk("VP8L", 4)), undefined],
      ["animated", riff(webpChunk("VP8X", 10), webpChunk("ANIM", 6), webpChunk("ANMF", 24)), undefined],
      ["a chunk of odd size, padded, then the image", riff(webpChunk("EXIF", 3), webpChunk("VP8 ", 4)), undefined],
      ["an empty chunk last", riff(webpChunk("VP8 ", 4), webpChunk("XMP ", 0)), undefined],
      ["no image chunk", riff(webpChunk("EXIF", 2)), "a WebP with no image data (no VP8 or VP8L chunk)"],
      ["four stray bytes after the last chunk", riff(webpChunk("VP8 ", 4), Buffer.alloc(4)), "a WebP with a damaged chunk at its end (corrupt file)"],
      ["a chunk longer than the RIFF", riff(webpChunk("VP8 ", 4), bytes("EXIF", [64, 0, 0, 0])), "a WebP whose data ends early (truncated file)"],
      ["a chunk a few bytes longer than the RIFF", riff(webpChunk("VP8 ", 4), bytes("EXIF", [4, 0, 0, 0], [1])), "a WebP whose data ends early (truncated file)"],
    ];
    for (const [name, file, damage] of cases) {
      test(name, () => assert.equal(findDamage(file, "webp"), damage));
    }
  });
});
