// Proves an edited image is good before anyone pays for it: within a byte and a
// pixel limit, at a size the request allows, and whole (the same structure walk
// and full decode that source images get, edits/integrity.ts).

import sharp from "sharp";
import { AUTO_SIZE } from "../catalog/index.ts";
import { decodeFailure, findDamage, outputSize, sniffImageFormat, type EditRequest } from "../edits/index.ts";
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
  /**
   * For models that pick their own shape at a resolution tier (Gemini 3's 1K/2K/4K): any size whose
   * pixels are within this range is good as well.
   */
  pixels?: { min: number; max: number };
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
  const expected = { requested, accepted: modelPicks ? documented.sizes.map(parseSize) : [asked], model: request.model.upstreamModel };
  if (!TIERED_MODELS.test(model)) return expected;
  // The tier's square size, give or take its widest and tallest shapes (21:9 at 1K is 1584x672).
  const tier = asked.width * asked.height;
  return { ...expected, pixels: { min: Math.floor(tier * 0.5), max: Math.ceil(tier * 1.5) } };
}

/** Gemini 3 image models: asked for a resolution tier, they answer the shape they choose at about that many pixels. */
const TIERED_MODELS = /^google\/gemini-3/;

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
  // Cut off or damaged, named from the file's structure before any pixel is read.
  const damage = findDamage(bytes, format);
  if (damage) throw fail(`its image is ${damage}`);

  let width: number | undefined;
  let height: number | undefined;
  try {
    // The header only: nothing is decoded before the size is known to be sane.
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch {
    throw fail(`its image is a ${format === "webp" ? "WebP" : format.toUpperCase()} whose header is corrupt`);
  }
  if (!width || !height) throw fail("its image has no readable width and height");
  if (width > limits.maxSide || height > limits.maxSide) {
    const megapixels = ((limits.maxSide * limits.maxSide) / 1e6).toFixed(1);
    throw fail(`the image is ${width}x${height}, over the limit of ${limits.maxSide}x${limits.maxSide} (${megapixels} megapixels)`);
  }
  const withinTier = expected.pixels !== undefined && width * height >= expected.pixels.min && width * height <= expected.pixels.max;
  if (!withinTier && !expected.accepted.some((size) => size.width === width && size.height === height)) {
    const choices = expected.accepted.length > 1 ? `; ${expected.model} makes only ${listSizes(expected.accepted)}` : "";
    throw fail(`it returned a ${width}x${height} image for a ${expected.requested} edit${choices}`);
  }
  // Every pixel, the header's size as the ceiling.
  const failure = await decodeFailure(bytes, format, width * height);
  if (failure) throw fail(`its image is ${failure}`);
  return { bytes, format };
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
