// Proves an edited image is good before anyone pays for it: within a byte and a
// pixel limit, at a size the request allows, and decoded to its last byte.

import sharp from "sharp";
import { AUTO_SIZE } from "../catalog/index.ts";
import { outputSize, sniffImageFormat, type EditRequest, type ImageFormat } from "../edits/index.ts";
import type { EditedImage } from "./types.ts";
import { upstreamFailed } from "./upstream.ts";

export interface Size {
  width: number;
  height: number;
}

/** What a good result looks like for one request on one model. */
export interface ExpectedResult {
  /** The size the caller asked for, as they wrote it ("1024x1024", or "auto (640x480)"). */
  requested: string;
  /** The sizes a good result may have: the one asked for, or those the model picks from itself. */
  accepted: Size[];
  /** The upstream model, named when it picks its own size. */
  model: string;
}

export interface ResultLimits {
  /** Bytes of one encoded image. */
  maxBytes: number;
  /** Width and height of one image; its pixels are at most maxSide². */
  maxSide: number;
}

/**
 * 4096: the largest input side (RETOUCH_MAX_IMAGE_SIDE's default), which the
 * engine's "auto" keeps. 50 MB: about that picture as raw RGB, far above any
 * real answer (OpenAI's and Gemini's are a few MB; the engine's PNG at 2048x2048
 * is at most 12.6 MB).
 */
export const RESULT_LIMITS: ResultLimits = { maxBytes: 50_000_000, maxSide: 4096 };

/** RESULT_LIMITS, grown with the largest input side when an operator raises it. */
export function resultLimits(maxInputSide: number): ResultLimits {
  const maxSide = Math.max(RESULT_LIMITS.maxSide, maxInputSide);
  return { maxSide, maxBytes: Math.round(RESULT_LIMITS.maxBytes * (maxSide / RESULT_LIMITS.maxSide) ** 2) };
}

/**
 * Sizes each upstream model documents, for models that pick the size
 * themselves. `always`: it may answer any of them whatever was asked;
 * otherwise only when sent "auto". Models not listed must answer the size asked.
 */
const MODEL_SIZES: Record<string, { always: boolean; sizes: string[] }> = {
  // images/edits `size`: an explicit size is honoured; "auto" picks one of the three.
  "openai/gpt-image-1": { always: false, sizes: ["1024x1024", "1536x1024", "1024x1536"] },
  "openai/gpt-image-1-mini": { always: false, sizes: ["1024x1024", "1536x1024", "1024x1536"] },
  "openai/gpt-image-1.5": { always: false, sizes: ["1024x1024", "1536x1024", "1024x1536"] },
  // One size per aspect ratio (Gemini API image generation docs, 1290 tokens each).
  // retouch asks for the aspect ratio, but an edit may keep its source's instead.
  "google/gemini-2.5-flash-image": {
    always: true,
    sizes: ["1024x1024", "832x1248", "1248x832", "864x1184", "1184x864", "896x1152", "1152x896", "768x1344", "1344x768", "1536x672"],
  },
};

const PROVIDER_NAMES: Record<string, string> = { openai: "OpenAI", google: "Google Gemini", local: "the embedded engine" };

/** The name of a provider as callers know it, for messages. */
export function providerName(provider: string): string {
  return PROVIDER_NAMES[provider] ?? provider;
}

/** The sizes a result of `request` may have on the model it ran on. */
export function expectedResult(request: Pick<EditRequest, "model" | "size" | "images">): ExpectedResult {
  const asked = outputSize(request);
  const requested = request.size === AUTO_SIZE ? `auto (${asked.width}x${asked.height})` : request.size;
  const model = `${request.model.provider}/${request.model.upstreamModel}`;
  const documented = MODEL_SIZES[model];
  const modelPicks = documented && (documented.always || request.size === AUTO_SIZE);
  return { requested, accepted: modelPicks ? documented.sizes.map(parseSize) : [asked], model: request.model.upstreamModel };
}

/**
 * Resolves to the image (its format read from its bytes) when it is good;
 * otherwise throws a 502 `upstream_error` naming what is wrong with it.
 *
 * @example
 * const checked = await checkResult(output.images[0], expectedResult(request), "OpenAI");
 */
export async function checkResult(
  image: EditedImage,
  expected: ExpectedResult,
  provider: string,
  limits: ResultLimits = RESULT_LIMITS,
): Promise<EditedImage> {
  const fail = (detail: string) => upstreamFailed(provider, `${detail}; nothing was charged`);
  const { bytes } = image;
  if (bytes.length > limits.maxBytes) {
    throw fail(`its answer is ${megabytes(bytes.length)}, over the limit of ${megabytes(limits.maxBytes)} per image`);
  }
  const format = sniffImageFormat(bytes);
  if (!format) throw fail(`its answer (${bytes.length} bytes) is not a PNG, JPEG or WebP image`);
  const kind = format.toUpperCase();
  // libpng decodes a PNG cut off right after its pixel data without a word: the end chunk must be there.
  if (format === "png" && !endsWithIend(bytes)) throw fail(`the PNG image data ends early (${bytes.length} bytes, no IEND chunk)`);

  let width: number | undefined;
  let height: number | undefined;
  try {
    // The header only: nothing is decoded before the size is known to be sane.
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch {
    throw fail(unreadable(format, bytes, `the ${kind} header is corrupt`));
  }
  if (!width || !height) throw fail(`the ${kind} image has no readable width and height`);
  if (width > limits.maxSide || height > limits.maxSide) {
    const megapixels = ((limits.maxSide * limits.maxSide) / 1e6).toFixed(1);
    throw fail(`the image is ${width}x${height}, over the limit of ${limits.maxSide}x${limits.maxSide} (${megapixels} megapixels)`);
  }
  if (!expected.accepted.some((size) => size.width === width && size.height === height)) {
    const choices = expected.accepted.length > 1 ? `; ${expected.model} makes only ${listSizes(expected.accepted)}` : "";
    throw fail(`it returned a ${width}x${height} image for a ${expected.requested} edit${choices}`);
  }
  try {
    // Every pixel, failing on truncation and decoder errors; the header's size is the ceiling.
    await sharp(bytes, { failOn: "error", limitInputPixels: width * height, sequentialRead: true }).raw().toBuffer();
  } catch {
    throw fail(unreadable(format, bytes, `the ${kind} image data is corrupt and does not decode`));
  }
  return { bytes, format };
}

/** "ends early" when the file is visibly cut off, else `otherwise`. */
function unreadable(format: ImageFormat, bytes: Uint8Array, otherwise: string): string {
  const cut =
    (format === "jpeg" && !(bytes.at(-2) === 0xff && bytes.at(-1) === 0xd9)) ||
    // RIFF's size field counts the bytes after its first 8.
    (format === "webp" && bytes.length >= 8 && new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) + 8 > bytes.length);
  return cut ? `the ${format.toUpperCase()} image data ends early (${bytes.length} bytes)` : otherwise;
}

/** The 12 bytes every PNG ends with: length 0, "IEND", its CRC. */
const IEND = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

function endsWithIend(bytes: Uint8Array): boolean {
  return bytes.length >= IEND.length && IEND.every((byte, i) => bytes[bytes.length - IEND.length + i] === byte);
}

function parseSize(size: string): Size {
  const [width, height] = size.split("x").map(Number);
  return { width, height };
}

function listSizes(sizes: Size[]): string {
  const names = sizes.map((size) => `${size.width}x${size.height}`);
  return `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

/** In MB with one decimal, rounded up so that an answer over a limit never reads as equal to it. */
function megabytes(bytes: number): string {
  return `${Math.ceil(bytes / 1e5) / 10} MB`;
}
