// Masks arrive as pictures (white = edit, black = keep). They are brought to
// the image's exact width and height as one grey level per pixel. On OpenAI's
// route a mask may also speak OpenAI's language: transparent = edit.

import { invalidRequest } from "../errors.ts";
import { decoder, type SourceImage } from "./image-input.ts";
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
