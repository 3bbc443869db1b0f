// Masks arrive as pictures (white = edit, black = keep). They are brought to
// the image's exact width and height as one grey level per pixel.

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

export async function normaliseMask(mask: SourceImage, image: SourceImage): Promise<EditMask> {
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
  // Transparent mask pixels count as black (keep). inspectImage() proved the mask
  // decodes; should the decoder still fail, it is the mask's fault: a 400, never a 500.
  const grey = await decodeSlots
    .run(() =>
      decoder(mask)
        .flatten({ background: "#000000" })
        .resize(image.width, image.height, { fit: "fill" })
        .toColourspace("b-w")
        .extractChannel(0)
        .raw()
        .toBuffer(),
    )
    .catch(() => {
      throw invalidRequest("mask", "mask could not be decoded: the file is truncated or corrupt", "invalid_image");
    });
  return { width: image.width, height: image.height, grey: new Uint8Array(grey.buffer, grey.byteOffset, grey.length) };
}
