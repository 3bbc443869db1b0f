// retouch's masks are grey levels with WHITE = edit; OpenAI's are PNGs whose
// TRANSPARENT pixels (alpha 0) mark the edit. This turns one into the other.

import sharp from "sharp";
import type { EditMask } from "../../edits/index.ts";

/**
 * An RGBA PNG at the mask's (= the first image's) exact width and height with
 * alpha = 255 - grey: white (edit) becomes transparent, black (keep) opaque.
 * The colour channels are black; OpenAI ignores them.
 */
export async function toOpenAiMask(mask: EditMask): Promise<Uint8Array> {
  const { width, height, grey } = mask;
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < grey.length; i++) rgba[i * 4 + 3] = 255 - grey[i];
  const png = await sharp(rgba, { raw: { width, height, channels: 4 } }).png({ compressionLevel: 9 }).toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}
