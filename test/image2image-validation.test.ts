// Every bad input to the edit endpoints gets a 400/413/415 whose message names
// the field and the fix, before any work and before any price is quoted. The
// gateway runs with payments on (devchain), where a request that passes
// validation is answered 402: every case checks that it got no quote, no x402
// body, no ledger row and no file.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { CONTENT_TYPES, type ImageFormat } from "../src/edits/index.ts";
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
} from "./support/damage.ts";
import { dataUri, solidImage, squareMaskPng, startTestGateway, type TestGateway } from "./support/gateway.ts";
import { makeScene } from "./support/scene.ts";

const LOCAL = "local/content-aware-fill";
const OPENAI = "openai/gpt-image-1";
const SIDE = 256;

let gw: TestGateway;
let png: string;
let mask: string;
/** Good files of the test scene and of its mask, in each format. */
let pictures: Record<ImageFormat, { image: Buffer; mask: Buffer }>;

before(async () => {
  gw = await startTestGateway({
    RETOUCH_PAYMENTS: "devchain",
    RETOUCH_MAX_BODY_BYTES: String(2 * 1024 * 1024),
    // Makes OpenAI models available so their requests get past the availability check;
    // nothing is ever sent there, because every request here fails validation first.
    OPENAI_API_KEY: "sk-test-unused",
    OPENAI_BASE_URL: "http://127.0.0.1:9/v1",
  });
  png = dataUri(await solidImage(64, 64));
  mask = dataUri(await solidImage(64, 64, "png", "#fff")); // covers everything: only for tests that fail earlier
  const scene = sharp(makeScene({ width: SIDE, height: SIDE }).rgb, { raw: { width: SIDE, height: SIDE, channels: 3 } });
  const maskPng = await squareMaskPng(SIDE, SIDE, SIDE / 2, SIDE / 2, SIDE / 4);
  pictures = {
    png: { image: await scene.clone().png().toBuffer(), mask: maskPng },
    jpeg: { image: await scene.clone().jpeg({ quality: 90 }).toBuffer(), mask: await sharp(maskPng).jpeg().toBuffer() },
    webp: { image: await scene.clone().webp({ quality: 80 }).toBuffer(), mask: await sharp(maskPng).webp().toBuffer() },
  };
});
after(() => gw.close());

const uri = (bytes: Uint8Array, format: ImageFormat) => dataUri(bytes, CONTENT_TYPES[format]);

async function paidEditRows(): Promise<number> {
  const [row] = await gw.gateway.ledger!.db.query<{ n: unknown }>("SELECT count(*) AS n FROM paid_edits");
  return Number(row.n);
}

async function resultFiles(): Promise<number> {
  return (await readdir(join(gw.config.dataDir, "files"))).length;
}

/**
 * Sends one request and checks that the answer is this error and nothing else:
 * no quote (no PAYMENT-REQUIRED header, no x402 body), no ledger row, no file.
 */
async function expectError(
  send: () => Promise<Response>,
  status: number,
  param: string | null,
  message: RegExp,
): Promise<void> {
  const rowsBefore = await paidEditRows();
  const filesBefore = await resultFiles();
  const response = await send();
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(response.status, status, JSON.stringify(body).slice(0, 400));
  assert.equal(response.headers.get("payment-required"), null, "the answer carries a quote (PAYMENT-REQUIRED)");
  assert.ok(!("x402Version" in body) && !("accepts" in body), `the answer is an x402 body: ${JSON.stringify(body).slice(0, 200)}`);
  assert.deepEqual(Object.keys(body), ["error"]);
  const error = body.error as { message: string; type: string; param: string | null; code: string };
  assert.equal(error.param, param, error.message);
  assert.match(error.message, message);
  assert.equal(typeof error.type, "string");
  assert.equal(typeof error.code, "string");
  assert.equal(await paidEditRows(), rowsBefore, "a paid_edits row was written");
  assert.equal(await resultFiles(), filesBefore, "a result file was written");
}

/** The same request made valid must be quoted: it proves the errors above come before the 402. */
async function expectQuote(send: () => Promise<Response>): Promise<void> {
  const rowsBefore = await paidEditRows();
  const response = await send();
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(response.status, 402, JSON.stringify(body).slice(0, 400));
  assert.ok(response.headers.get("payment-required"));
  assert.ok("accepts" in body);
  assert.equal(await paidEditRows(), rowsBefore);
}

const post = (body: unknown) => () => gw.postJson(body);

describe("prompt", () => {
  test("missing", async () => {
    await expectError(post({ model: LOCAL, image: png, mask }), 400, "prompt", /prompt is required/);
  });
  test("empty or blank", async () => {
    await expectError(post({ model: LOCAL, prompt: "  ", image: png, mask }), 400, "prompt", /must not be empty/);
  });
  test("longer than 32,000 characters", async () => {
    const request = post({ model: LOCAL, prompt: "x".repeat(32_001), image: png, mask });
    await expectError(request, 400, "prompt", /32001 characters; the limit is 32000/);
  });
  test("not a string", async () => {
    await expectError(post({ model: LOCAL, prompt: 42, image: png, mask }), 400, "prompt", /prompt must be a text/);
  });
});

describe("image", () => {
  test("missing", async () => {
    await expectError(post({ model: LOCAL, prompt: "p", mask }), 400, "image", /image is required/);
  });
  test("not a data URI", async () => {
    const request = post({ model: LOCAL, prompt: "p", image: "https://example.com/cat.png", mask });
    await expectError(request, 400, "image", /must be a base64 data URI/);
  });
  test("a data URI that is not base64", async () => {
    const request = post({ model: LOCAL, prompt: "p", image: "data:image/png;base64,@@not*base64@@", mask });
    await expectError(request, 400, "image", /not valid base64/);
  });
  test("bytes that are not PNG, JPEG or WebP, whatever the declared type", async () => {
    const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "binary");
    const request = post({ model: LOCAL, prompt: "p", image: dataUri(gif, "image/png"), mask });
    await expectError(request, 400, "image", /not a PNG, JPEG or WebP image/);
  });
  test("a corrupt header", async () => {
    const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40, 7)]);
    const request = post({ model: LOCAL, prompt: "p", image: dataUri(bytes), mask });
    await expectError(request, 400, "image", /^image is a PNG with an unreadable chunk at byte 8 \(corrupt file\)$/);
  });
  test("over the pixel limit: refused from the header, before decoding", async () => {
    // 5000x5000 of one colour compresses to a few KB: a small decompression bomb.
    const bomb = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: "#000" } }).png().toBuffer();
    assert.ok(bomb.length < 200_000);
    const request = post({ model: LOCAL, prompt: "p", image: dataUri(bomb), mask });
    await expectError(request, 400, "image", /5000x5000; the largest accepted is 4096x4096/);
  });
  test("under 16x16", async () => {
    const request = post({ model: LOCAL, prompt: "p", image: dataUri(await solidImage(8, 12)), mask });
    await expectError(request, 400, "image", /8x12; the smallest accepted is 16x16/);
  });
  test("more images than the model takes", async () => {
    const request = post({ model: LOCAL, prompt: "p", image: [png, png], mask });
    await expectError(request, 400, "image", /takes at most 1 source image\(s\), got 2/);
  });
  test("the bad one of several is named by index", async () => {
    const request = post({ model: OPENAI, prompt: "p", image: [png, "nope"] });
    await expectError(request, 400, "image[1]", /image\[1\] must be a base64 data URI/);
  });
});

describe("model, size, n", () => {
  test("unknown model lists the known ones", async () => {
    const request = post({ model: "acme/magic", prompt: "p", image: png, mask });
    await expectError(request, 400, "model", /unknown model "acme\/magic"; known models: .*openai\/gpt-image-1.*local\/content-aware-fill/);
  });
  test("a size the model does not offer lists the offered ones", async () => {
    const request = post({ model: OPENAI, prompt: "p", image: png, size: "800x600" });
    await expectError(request, 400, "size", /"800x600" is not offered by openai\/gpt-image-1: choose one of 1024x1024, 1536x1024, 1024x1536, auto/);
  });
  for (const n of [0, 11, 1.5, "2"]) {
    test(`n=${JSON.stringify(n)} is outside 1..10`, async () => {
      await expectError(post({ model: LOCAL, prompt: "p", image: png, mask, n }), 400, "n", /n must be a whole number from 1 to 10/);
    });
  }
  test("n above the model's cap", async () => {
    const request = post({ model: LOCAL, prompt: "p", image: png, mask, n: 2 });
    await expectError(request, 400, "n", /makes at most 1 image\(s\) per request, got n=2/);
  });
  test("a model without credentials says which env var enables it", async () => {
    const request = post({ model: "google/nano-banana", prompt: "p", image: png });
    await expectError(request, 400, "model", /set GEMINI_API_KEY/);
  });
  test("a model name is bounded in length", async () => {
    const request = post({ model: "x".repeat(5000), prompt: "p", image: png, mask });
    await expectError(request, 400, "model", /at most 200 characters/);
  });
});

describe("mask", () => {
  test("required by the embedded engine", async () => {
    await expectError(post({ model: LOCAL, prompt: "p", image: png }), 400, "mask", /needs a mask/);
  });
  test("another aspect ratio than the image", async () => {
    const wide = dataUri(await solidImage(128, 64, "png", "#fff"));
    const request = post({ model: LOCAL, prompt: "p", image: png, mask: wide });
    await expectError(request, 400, "mask", /mask is 128x64 but image is 64x64/);
  });
  test("with several images", async () => {
    const request = post({ model: OPENAI, prompt: "p", image: [png, png], mask });
    await expectError(request, 400, "mask", /only be sent with a single image/);
  });
  test("sent to a prompt-only model", async () => {
    const request = post({ model: "google/nano-banana", prompt: "p", image: png, mask });
    await expectError(request, 400, "mask", /prompt-only and does not take a mask/);
  });
  test("not an image", async () => {
    const request = post({ model: LOCAL, prompt: "p", image: png, mask: dataUri(Buffer.from("hello")) });
    await expectError(request, 400, "mask", /mask is not a PNG, JPEG or WebP/);
  });
  test("covering the whole picture: refused before any work", async () => {
    await expectError(post({ model: LOCAL, prompt: "p", image: png, mask }), 400, "mask", /covers 100.0% of the image/);
  });
  test("all black (nothing to fill)", async () => {
    const black = dataUri(await solidImage(64, 64, "png", "#000"));
    await expectError(post({ model: LOCAL, prompt: "p", image: png, mask: black }), 400, "mask", /no white pixels/);
  });
});

describe("the body itself", () => {
  test("malformed JSON is a 400", async () => {
    const request = () =>
      gw.request("/api/v1/images/image2image", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"prompt": "p", ',
      });
    await expectError(request, 400, null, /not valid JSON/);
  });
  test("a JSON body that is not an object is a 400", async () => {
    await expectError(post([1, 2]), 400, null, /must be a JSON object/);
  });
  test("a body over the limit is a 413", async () => {
    const request = post({ model: LOCAL, prompt: "p", image: "data:image/png;base64," + "A".repeat(3 * 1024 * 1024) });
    await expectError(request, 413, null, /larger than the limit of 2097152 bytes/);
  });
  test("a wrong content type is a 415", async () => {
    const request = () =>
      gw.request("/api/v1/images/image2image", { method: "POST", headers: { "content-type": "text/plain" }, body: "edit my picture" });
    await expectError(request, 415, null, /Content-Type must be application\/json or multipart\/form-data, got "text\/plain"/);
  });
  test("multipart without a prompt is a 400", async () => {
    const form = new FormData();
    form.append("image", new Blob([await solidImage(64, 64)], { type: "image/png" }), "a.png");
    await expectError(() => gw.request("/v1/images/edits", { method: "POST", body: form }), 400, "prompt", /prompt is required/);
  });
  test("multipart with a non-numeric n is a 400", async () => {
    const form = new FormData();
    form.append("prompt", "p");
    form.append("n", "two");
    form.append("image", new Blob([await solidImage(64, 64)], { type: "image/png" }), "a.png");
    await expectError(() => gw.request("/v1/images/edits", { method: "POST", body: form }), 400, "n", /n must be a whole number/);
  });
});

// ---- damaged files: proven decodable to their end before any quote ------------------

interface Damage {
  name: string;
  format: ImageFormat;
  damage(bytes: Buffer): Buffer;
  /** The message after "<param> is ". */
  says: string | RegExp;
}

const PNG_CUT = "a PNG whose data ends early (truncated file)";
const JPEG_CUT = "a JPEG with no end marker (truncated file)";
const WEBP_CUT = "a WebP whose data ends early (truncated file)";
const DAMAGES: Damage[] = [
  { name: "PNG cut at 10%", format: "png", damage: (b) => truncateAt(b, 0.1), says: PNG_CUT },
  { name: "PNG cut at 50%", format: "png", damage: (b) => truncateAt(b, 0.5), says: PNG_CUT },
  { name: "PNG cut at 95%", format: "png", damage: (b) => truncateAt(b, 0.95), says: PNG_CUT },
  { name: "PNG minus its last byte", format: "png", damage: (b) => dropLast(b, 1), says: PNG_CUT },
  { name: "PNG without its IEND chunk", format: "png", damage: (b) => dropLast(b, 12), says: PNG_CUT },
  { name: "PNG with 64 bytes overwritten in the middle", format: "png", damage: (b) => overwriteMiddle(b), says: "a PNG whose IDAT chunk has a bad checksum (corrupt file)" },
  { name: "PNG with a bad CRC", format: "png", damage: flipPngCrc, says: "a PNG whose IDAT chunk has a bad checksum (corrupt file)" },
  { name: "PNG with its pixel data overwritten and the CRC recomputed", format: "png", damage: (b) => corruptIdatKeepingCrc(b, 16), says: /^a PNG whose image data (is corrupt and cannot be decoded|ends early)/ },
  { name: "PNG cut at 95%, re-framed with a right CRC and IEND", format: "png", damage: (b) => cutPngReframed(b, 0.95), says: /^a PNG whose image data (is corrupt and cannot be decoded|ends early)/ },
  { name: "JPEG cut at 10%", format: "jpeg", damage: (b) => truncateAt(b, 0.1), says: JPEG_CUT },
  { name: "JPEG cut at 50%", format: "jpeg", damage: (b) => truncateAt(b, 0.5), says: JPEG_CUT },
  { name: "JPEG cut at 95%", format: "jpeg", damage: (b) => truncateAt(b, 0.95), says: JPEG_CUT },
  { name: "JPEG without its end marker (EOI)", format: "jpeg", damage: stripJpegEoi, says: JPEG_CUT },
  { name: "JPEG cut at 50% with an end marker appended", format: "jpeg", damage: (b) => cutJpegWithEoi(b, 0.5), says: "a JPEG whose image data ends early (truncated or corrupt file)" },
  { name: "WebP cut at 50%", format: "webp", damage: (b) => truncateAt(b, 0.5), says: WEBP_CUT },
  { name: "WebP cut at 95%", format: "webp", damage: (b) => truncateAt(b, 0.95), says: WEBP_CUT },
  { name: "WebP minus its last byte", format: "webp", damage: (b) => dropLast(b, 1), says: WEBP_CUT },
  { name: "WebP cut at 95% with its sizes rewritten", format: "webp", damage: (b) => cutWebpResized(b, 0.95), says: /^a WebP whose image data (is corrupt and cannot be decoded|ends early)/ },
];

/** Where a damaged file goes, and the rest of a request that would otherwise be quoted. */
const POSITIONS = {
  image: (damaged: string, format: ImageFormat) => ({ model: LOCAL, prompt: "p", image: damaged, mask: uri(pictures[format].mask, format) }),
  mask: (damaged: string, format: ImageFormat) => ({ model: LOCAL, prompt: "p", image: uri(pictures[format].image, format), mask: damaged }),
  "image[1]": (damaged: string, format: ImageFormat) => ({ model: OPENAI, prompt: "p", image: [uri(pictures[format].image, format), damaged] }),
} as const;

function expected(param: string, says: string | RegExp): RegExp {
  const prefix = `^${param.replace(/[[\]]/g, "\\$&")} is `;
  return new RegExp(prefix + (typeof says === "string" ? says.replace(/[()]/g, "\\$&") + "$" : says.source.replace(/^\^/, "")));
}

for (const [param, request] of Object.entries(POSITIONS)) {
  describe(`damaged ${param}: a 400 before any quote`, () => {
    for (const format of ["png", "jpeg", "webp"] as const) {
      test(`control: the undamaged ${format.toUpperCase()} as ${param} is quoted (402)`, async () => {
        const file = param === "mask" ? pictures[format].mask : pictures[format].image;
        await expectQuote(post(request(uri(file, format), format)));
      });
    }
    for (const { name, format, damage, says } of DAMAGES) {
      test(name, async () => {
        const file = param === "mask" ? pictures[format].mask : pictures[format].image;
        const response = post(request(uri(damage(file), format), format));
        await expectError(response, 400, param, expected(param, says));
      });
    }
  });
}

describe("damaged files through the multipart route (/v1/images/edits)", () => {
  const part = (bytes: Uint8Array, format: ImageFormat) => new Blob([bytes], { type: CONTENT_TYPES[format] });
  const send = (form: FormData) => () => gw.request("/v1/images/edits", { method: "POST", body: form });
  function form(fields: Record<string, string>, files: [string, Uint8Array, ImageFormat][]): FormData {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    for (const [name, bytes, format] of files) body.append(name, part(bytes, format), `${name}.${format}`);
    return body;
  }

  test("control: good files are quoted (402)", async () => {
    const { png: p, jpeg: j } = pictures;
    await expectQuote(send(form({ prompt: "p", model: LOCAL }, [["image", p.image, "png"], ["mask", j.mask, "jpeg"]])));
    await expectQuote(send(form({ prompt: "p" }, [["image[]", p.image, "png"], ["image[]", pictures.webp.image, "webp"]])));
  });
  test("a PNG image cut at 95%", async () => {
    const body = form({ prompt: "p", model: LOCAL }, [["image", truncateAt(pictures.png.image, 0.95), "png"], ["mask", pictures.png.mask, "png"]]);
    await expectError(send(body), 400, "image", expected("image", PNG_CUT));
  });
  test("a JPEG mask without its end marker", async () => {
    const body = form({ prompt: "p", model: LOCAL }, [["image", pictures.png.image, "png"], ["mask", stripJpegEoi(pictures.jpeg.mask), "jpeg"]]);
    await expectError(send(body), 400, "mask", expected("mask", JPEG_CUT));
  });
  test("a WebP second image cut short, default model", async () => {
    const body = form({ prompt: "p" }, [["image[]", pictures.png.image, "png"], ["image[]", truncateAt(pictures.webp.image, 0.5), "webp"]]);
    await expectError(send(body), 400, "image[1]", expected("image[1]", WEBP_CUT));
  });
  test("a PNG image with a bad CRC, default model", async () => {
    const body = form({ prompt: "p" }, [["image", flipPngCrc(pictures.png.image), "png"]]);
    await expectError(send(body), 400, "image", expected("image", "a PNG whose IDAT chunk has a bad checksum (corrupt file)"));
  });
});
