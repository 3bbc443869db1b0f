// Masks arrive as pictures (white = edit, black = keep). They are brought to
// the image's exact width and height as one grey level per pixel. On OpenAI's
// route a mask may also speak OpenAI's language: transparent = edit.

import { invalidRequest } from "../errors.ts";
import { decoder, type SourceImage } from "./image-input.ts";
import type { DecodedPixels } from "./integrity.ts";
import { decodeSlots } from "./slots.ts";

export interface EditMask {
  width: number;
  height: number;
  /** 0 = keep, 255 = edit; grey levels in between are kept for upstreams that use them. */
  grey: Uint8Array;
}

/** Aspect ratios closer than this count as equal (rounding when the mask was scaled). */
const ASPECT_TOLERANCE = 0.01;

/**
 * How a mask marks the area to edit: "white" (retouch's contract), or "openai": a mask with
 * transparent pixels marks the edit by them (alpha 0 = edit, as OpenAI reads its masks); one
 * without transparency is read as white = edit.
 */
export type MaskPolarity = "white" | "openai";

export async function normaliseMask(mask: SourceImage, image: SourceImage, polarity: MaskPolarity = "white"): Promise<EditMask> {
  const maskAspect = mask.width / mask.height;
  const imageAspect = image.width / image.height;
  if (Math.abs(maskAspect / imageAspect - 1) > ASPECT_TOLERANCE) {
    throw invalidRequest(
      "mask",
      `mask is ${mask.width}x${mask.height} but image is ${image.width}x${image.height}: ` +
        "the mask must have the same aspect ratio as the image (same size, or scaled)",
      "mask_size_mismatch",
    );
  }
  // inspectImage() proved the mask decodes; should the decoder still fail, it is the mask's fault: a 400, never a 500.
  const grey = await decodeSlots.run(() => greyLevels(mask, image, polarity)).catch(() => {
    throw invalidRequest("mask", "mask could not be decoded: the file is truncated or corrupt", "invalid_image");
  });
  return { width: image.width, height: image.height, grey: new Uint8Array(grey.buffer, grey.byteOffset, grey.length) };
}

async function greyLevels(mask: SourceImage, image: SourceImage, polarity: MaskPolarity): Promise<Buffer> {
  const sameSize = mask.width === image.width && mask.height === image.height;
  // A JPEG's fourth band is CMYK's black, not alpha.
  const quick = mask.decoded && sameSize && !(mask.format === "jpeg" && mask.decoded.channels > 3) ? fromPixels(mask.decoded, polarity) : undefined;
  if (quick) return quick;
  const resized = () => decoder(mask).resize(image.width, image.height, { fit: "fill" });
  if (polarity === "openai") {
    const { data, info } = await decoder(mask).ensureAlpha().extractChannel("alpha").raw().toBuffer({ resolveWithObject: true });
    if (data.some((alpha) => alpha < 255)) {
      // OpenAI's mask: the less opaque, the more it is edited.
      const alpha = info.width === image.width && info.height === image.height ? data : await resized().ensureAlpha().extractChannel("alpha").raw().toBuffer();
      for (let i = 0; i < alpha.length; i++) alpha[i] = 255 - alpha[i];
      return alpha;
    }
  }
  // Transparent mask pixels count as black (keep).
  return resized().flatten({ background: "#000000" }).toColourspace("b-w").extractChannel(0).raw().toBuffer();
}

/**
 * The grey levels straight from a mask's decoded pixels, when that gives exactly what the libvips
 * path above gives: every pixel neutral (grey, or R = G = B) and fully opaque or fully transparent
 * (then flattening on black and converting to grey change nothing but zeroing the transparent).
 * Masks painted in black and white are; anything else (colour, soft alpha) takes the path above.
 */
function fromPixels({ data, channels, width, height }: DecodedPixels, polarity: MaskPolarity): Buffer | undefined {
  const pixels = width * height;
  // sharp hands a 16-bit picture's pixels out as 8 bits; should that change, such data goes to libvips.
  if (data.length !== pixels * channels) return undefined;
  if (channels === 1) return data; // grey, opaque: as it is
  const alphaAt = channels === 2 || channels === 4 ? channels - 1 : -1;
  const grey = Buffer.alloc(pixels);
  const rowBytes = width * channels;
  const rows = Buffer.from(data.buffer, data.byteOffset, data.length);
  // A mask repeats its rows where its shapes do not change; such a row's grey is the one above's.
  const repeated = (y: number) => y > 0 && rows.compare(rows, (y - 1) * rowBytes, y * rowBytes, y * rowBytes, (y + 1) * rowBytes) === 0;
  const copyAbove = (y: number) => grey.copyWithin(y * width, (y - 1) * width, y * width);
  if (alphaAt >= 0 && polarity === "openai") {
    let transparent = false;
    for (let y = 0; y < height; y++) {
      if (repeated(y)) {
        copyAbove(y);
        continue;
      }
      for (let i = y * width, at = y * rowBytes + alphaAt; i < (y + 1) * width; i++, at += channels) {
        const alpha = data[at];
        grey[i] = 255 - alpha;
        transparent ||= alpha < 255;
      }
    }
    if (transparent) return grey; // OpenAI's mask: the less opaque, the more it is edited.
  }
  for (let y = 0; y < height; y++) {
    if (repeated(y)) {
      copyAbove(y); // and it passed the checks below as the row above did
      continue;
    }
    for (let i = y * width, at = y * rowBytes; i < (y + 1) * width; i++, at += channels) {
      const value = data[at];
      if (channels >= 3 && (data[at + 1] !== value || data[at + 2] !== value)) return undefined;
      if (alphaAt < 0) {
        grey[i] = value;
        continue;
      }
      const alpha = data[at + alphaAt];
      if (alpha !== 0 && alpha !== 255) return undefined;
      grey[i] = alpha === 0 ? 0 : value;
    }
  }
  return grey;
}
