// Checks one source image or mask before any work is done: real format from the
// magic bytes, a whole file structure, dimensions from the header (a decompression
// bomb is refused before a single pixel is decoded), the size limits, and only
// then a decode of every pixel, so a damaged file is a 400 before any quote.

import sharp, { type Sharp } from "sharp";
import { invalidRequest } from "../errors.ts";
import { decodeFailure, findDamage } from "./integrity.ts";
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
}

export async function inspectImage(bytes: Uint8Array, param: string, maxSide: number): Promise<SourceImage> {
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
  try {
    // metadata() parses the header only; pixels are not decoded here.
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
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
  const failure = await decodeFailure(bytes, format, width * height);
  if (failure) throw invalidRequest(param, `${param} is ${failure}`, "invalid_image");
  return { bytes, format, width, height };
}

/** Decodes a checked image; the pixel limit guards against a lying header. */
export function decoder(image: SourceImage): Sharp {
  return sharp(image.bytes, { limitInputPixels: image.width * image.height, failOn: "error" });
}
