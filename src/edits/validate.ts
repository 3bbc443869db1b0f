// Turns what a caller sent into an EditRequest, or a 400 that names the field
// and the fix. Cheap checks run first; images are inspected (headers only)
// after; nothing here spends money or calls an upstream.

import { AUTO_SIZE, type Catalog, type ModelEntry, type Quote } from "../catalog/index.ts";
import { invalidRequest } from "../errors.ts";
import { inspectImage, type SourceImage } from "./image-input.ts";
import { normaliseMask, type EditMask, type MaskPolarity } from "./mask.ts";
import { checkOptions, type EditOptions, type ResponseFormat } from "./options.ts";

export const MAX_PROMPT_CHARS = 32_000;
export const MAX_N = 10;

export interface RawImage {
  bytes: Uint8Array;
  /** The request field it came from, for error messages ("image", "image[1]"). */
  param: string;
}

/** A request after body parsing, before domain validation. */
export interface RawEdit {
  model: string;
  prompt: string;
  images: RawImage[];
  mask?: RawImage;
  size?: string;
  n: number;
  options?: EditOptions;
  /** As the caller asked; the route applies its default when unset. */
  responseFormat?: ResponseFormat;
  /** OpenAI's end-user id. */
  user?: string;
  stream?: boolean;
  partialImages?: number;
  /** How the mask marks the edit: retouch's white, or OpenAI's transparency on OpenAI's route. */
  maskPolarity?: MaskPolarity;
}

export interface EditRequest {
  model: ModelEntry;
  prompt: string;
  images: SourceImage[];
  /** Grey levels at the first image's width and height; 255 = edit. */
  mask?: EditMask;
  /** A size the model offers; "auto" keeps the first image's size. */
  size: string;
  n: number;
  /** Optional upstream fields, already checked against the model. */
  options: EditOptions;
  quote: Quote;
  /** As the caller asked (not part of what is paid for: the same result, in another form). */
  responseFormat?: ResponseFormat;
  /** OpenAI's end-user id, passed to OpenAI models. */
  user?: string;
  /** The answer is streamed (server-sent events), with up to this many previews before the image. */
  stream?: { partialImages: number };
}

export interface ValidateOptions {
  catalog: Catalog;
  maxImageSide: number;
  /** Why a model cannot run on this server (missing credentials), or undefined. */
  unavailableReason(model: ModelEntry): string | undefined;
}

export async function validateEdit(raw: RawEdit, options: ValidateOptions): Promise<EditRequest> {
  const prompt = raw.prompt;
  if (prompt.trim() === "") throw invalidRequest("prompt", "prompt must not be empty: describe the edit you want");
  if (prompt.length > MAX_PROMPT_CHARS) {
    throw invalidRequest("prompt", `prompt is ${prompt.length} characters; the limit is ${MAX_PROMPT_CHARS}`);
  }
  const model = options.catalog.resolve(raw.model);
  const size = raw.size ?? model.defaultSize;
  checkShape(raw, model, size, options.catalog);
  const editOptions = raw.options ?? {};
  checkOptions(editOptions, model);
  checkStreaming(raw);

  const unavailable = options.unavailableReason(model);
  if (unavailable) throw invalidRequest("model", unavailable, "model_not_available");

  const images: SourceImage[] = [];
  for (const image of raw.images) images.push(await inspectImage(image.bytes, image.param, options.maxImageSide));
  const mask = raw.mask
    ? await normaliseMask(await inspectImage(raw.mask.bytes, raw.mask.param, options.maxImageSide, { keepPixels: true }), images[0], raw.maskPolarity)
    : undefined;

  const outSize = size === AUTO_SIZE && !(AUTO_SIZE in model.sizes) ? nearestSize(model, images[0]) : size;
  const quote = options.catalog.quote(model, outSize, raw.n, editOptions.quality);
  const extra = {
    ...(raw.responseFormat ? { responseFormat: raw.responseFormat } : {}),
    ...(raw.user ? { user: raw.user } : {}),
    ...(raw.stream ? { stream: { partialImages: raw.partialImages ?? 0 } } : {}),
  };
  return { model, prompt, images, mask, size: outSize, n: raw.n, options: editOptions, quote, ...extra };
}

/**
 * "auto" on a model with fixed sizes (as OpenAI's gpt-image models have): the offered size whose
 * shape is nearest the picture's, so that the price is known before paying and the result can be checked.
 */
function nearestSize(model: ModelEntry, image: SourceImage): string {
  const aspect = Math.log(image.width / image.height);
  let best = model.defaultSize;
  let distance = Number.POSITIVE_INFINITY;
  for (const size of Object.keys(model.sizes)) {
    const [width, height] = size.split("x").map(Number);
    const away = Math.abs(Math.log(width / height) - aspect);
    // The default size wins ties, then the first listed.
    if (away < distance - 1e-9 || (Math.abs(away - distance) <= 1e-9 && size === model.defaultSize)) {
      best = size;
      distance = away;
    }
  }
  return best;
}

function checkStreaming(raw: RawEdit): void {
  if (raw.stream && raw.n > 1) {
    throw invalidRequest("n", "a streamed edit makes one image (as OpenAI's does); send n: 1, or no stream", "unsupported_parameter");
  }
  if (!raw.stream && raw.partialImages !== undefined && raw.partialImages > 0) {
    throw invalidRequest("partial_images", "partial_images applies only to streamed edits (stream: true); remove it", "unsupported_parameter");
  }
}

function checkShape(raw: RawEdit, model: ModelEntry, size: string, catalog: Catalog): void {
  const problem = size === AUTO_SIZE ? undefined : catalog.sizeProblem(model, size);
  if (problem) {
    throw invalidRequest("size", `size "${size}" is not offered by ${model.id}: ${problem}`, "invalid_size");
  }
  if (!Number.isInteger(raw.n) || raw.n < 1 || raw.n > MAX_N) {
    throw invalidRequest("n", `n must be a whole number from 1 to ${MAX_N}, got ${raw.n}`);
  }
  if (raw.n > model.maxN) {
    throw invalidRequest("n", `${model.id} makes at most ${model.maxN} image(s) per request, got n=${raw.n}`);
  }
  if (raw.images.length === 0) throw invalidRequest("image", "image is required: send the picture to edit");
  if (raw.images.length > model.maxImages) {
    throw invalidRequest(
      "image",
      `${model.id} takes at most ${model.maxImages} source image(s), got ${raw.images.length}`,
      "too_many_images",
    );
  }
  if (raw.mask && model.mask === "unsupported") {
    throw invalidRequest("mask", `${model.id} is prompt-only and does not take a mask; remove the mask`);
  }
  if (raw.mask && raw.images.length > 1) {
    throw invalidRequest("mask", "a mask can only be sent with a single image; send one image or no mask");
  }
  if (!raw.mask && model.mask === "required") {
    throw invalidRequest(
      "mask",
      `${model.id} needs a mask: a picture of the same aspect ratio, white where the image should be filled`,
      "mask_required",
    );
  }
}

/** The output width and height for a size string ("auto" = the first image's). */
export function outputSize(request: Pick<EditRequest, "size" | "images">): { width: number; height: number } {
  if (request.size === AUTO_SIZE) return { width: request.images[0].width, height: request.images[0].height };
  const [width, height] = request.size.split("x").map(Number);
  return { width, height };
}
