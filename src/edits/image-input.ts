// Checks one source image or mask before any work is done: real format from the
// magic bytes, a whole file structure, dimensions from the header (a decompression
// bomb is refused before a single pixel is decoded), the size limits, and only
// then a decode of every pixel, so a damaged file is a 400 before any quote.

import sharp, { type Sharp } from "sharp";
import { invalidRequest } from "../errors.ts";
import { decodeChecked, findDamage, type DecodedPixels } from "./integrity.ts";
import { sniffImageFormat, type ImageFormat } from "./sniff.ts";

// libvips keeps the pixels of recent operations (up to 50 MB) to answer a repeat at once; every
// request here brings a new picture, so that cache only holds memory after a burst.
sharp.cache(false);

export const MIN_IMAGE_SIDE = 16;

export interface SourceImage {
  bytes: Uint8Array;
  format: ImageFormat;
  width: number;
  height: number;
  /**
   * Its pixels, when inspectImage was asked to keep them (a mask is read once, not twice): one grey
   * band (libvips' conversion) for a picture without transparency, all bands for one with it.
   */
  decoded?: DecodedPixels;
}

export async function inspectImage(bytes: Uint8Array, param: string, maxSide: number, options: { keepPixels?: boolean } = {}): Promise<SourceImage> {
  const format = sniffImageFormat(bytes);
  if (!format) {
    throw invalidRequest(
      param,
      `${param} is not a PNG, JPEG or WebP image (checked by its content, not its declared type)`,
      "invalid_image_format",
    );
  }
  const damage = findDamage(bytes, format);
  if (damage) throw invalidRequest(param, `${param} is ${damage}`, "invalid_image");
  let width: number | undefined;
  let height: number | undefined;
  let hasAlpha: boolean | undefined;
  try {
    // metadata() parses the header only; pixels are not decoded here.
    ({ width, height, hasAlpha } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch {
    throw invalidRequest(param, `${param} looks like ${format.toUpperCase()} but its header is corrupt`, "invalid_image");
  }
  if (!width || !height) {
    throw invalidRequest(param, `${param} has no readable width and height`, "invalid_image");
  }
  if (width > maxSide || height > maxSide) {
    throw invalidRequest(
      param,
      `${param} is ${width}x${height}; the largest accepted is ${maxSide}x${maxSide} pixels. Scale it down first.`,
      "image_too_large",
    );
  }
  if (width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE) {
    throw invalidRequest(
      param,
      `${param} is ${width}x${height}; the smallest accepted is ${MIN_IMAGE_SIDE}x${MIN_IMAGE_SIDE} pixels`,
      "image_too_small",
    );
  }
  // A picture without transparency is kept as the one grey band a mask needs; with it, all bands (its alpha may be the mask).
  const keep = options.keepPixels ? (hasAlpha ? "all" : "grey") : undefined;
  const outcome = await decodeChecked(bytes, format, width * height, keep);
  if ("failure" in outcome) throw invalidRequest(param, `${param} is ${outcome.failure}`, "invalid_image");
  return { bytes, format, width, height, ...(outcome.decoded ? { decoded: outcome.decoded } : {}) };
}

/** Decodes a checked image; the pixel limit guards against a lying header. */
export function decoder(image: SourceImage): Sharp {
  return sharp(image.bytes, { limitInputPixels: image.width * image.height, failOn: "error" });
}
