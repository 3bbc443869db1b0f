// The embedded engine as a Provider: model local/content-aware-fill. Brings the
// image and mask to the output size (scale to cover, centre-crop), fills the
// masked area in a worker thread, encodes PNG.

import sharp from "sharp";
import { collectGarbageSoon, type EnginePool } from "../../engine/index.ts";
import { createSlots, decoder, outputSize, type EditRequest } from "../../edits/index.ts";
import { invalidRequest } from "../../errors.ts";
import type { EditOutput, PartialImage, Provider } from "../types.ts";

export const PROMPT_NOTE =
  "local/content-aware-fill does not read the prompt: the masked area was filled from the rest of the picture";

/** Edits of pictures this big leave enough garbage to be worth a collection once they are done. */
const LARGE_PICTURE_PIXELS = 1_000_000;

/** Above this share of masked pixels there is too little picture left to copy from. */
const MAX_MASKED_SHARE = 0.95;

export function localProvider(pool: EnginePool): Provider {
  const admission = createSlots(pool.size);
  return {
    name: "local",
    unavailableReason: () => undefined,
    precheck(request: EditRequest): void {
      const grey = request.mask!.grey;
      let masked = 0;
      for (let i = 0; i < grey.length; i++) if (grey[i] >= 128) masked++;
      if (masked === 0) {
        throw invalidRequest("mask", "the mask has no white pixels, so there is nothing to fill; paint the area to remove white");
      }
      if (masked > grey.length * MAX_MASKED_SHARE) {
        throw invalidRequest(
          "mask",
          `the mask covers ${((100 * masked) / grey.length).toFixed(1)}% of the image; content-aware fill needs ` +
            "part of the picture to fill from. Paint only the object you want removed (white) and leave the rest black.",
        );
      }
    },
    // A slot per engine thread, taken before the picture is decoded: edits waiting for the engine
    // hold their compressed bytes only, not 3 bytes a pixel twice over.
    async edit(request: EditRequest, signal: AbortSignal, onPartial?: (partial: PartialImage) => void): Promise<EditOutput> {
      try {
        return await admission.run(() => fill(request, signal, onPartial), signal);
      } finally {
        // The last of a burst of large edits: its pixel buffers go back now, not at some later collection.
        if (admission.waiting === 0 && request.images[0].width * request.images[0].height >= LARGE_PICTURE_PIXELS) collectGarbageSoon();
      }
    },
    close: () => pool.close(),
  };

  async function fill(request: EditRequest, signal: AbortSignal, onPartial?: (partial: PartialImage) => void): Promise<EditOutput> {
    const { width, height } = outputSize(request);
    const cover = { width, height, fit: "cover", position: "centre" } as const;
    const rgb = await decoder(request.images[0])
      .toColourspace("srgb")
      .removeAlpha()
      .resize(cover)
      .raw()
      .toBuffer()
      .catch(() => {
        throw invalidRequest("image", "image could not be decoded: the file is truncated or corrupt", "invalid_image");
      });
    const mask = request.mask!;
    const grey = await sharp(mask.grey, { raw: { width: mask.width, height: mask.height, channels: 1 } })
      .resize(cover)
      .extractChannel(0)
      .raw()
      .toBuffer();
    signal.throwIfAborted();
    // Previews (coarse estimates of the fill, scaled up), encoded and handed on in the order they come.
    const previews = onPartial ? (request.stream?.partialImages ?? 0) : 0;
    let encoding = Promise.resolve();
    let index = 0;
    const onPreview = (preview: Uint8Array) => {
      const at = index++;
      encoding = encoding
        .then(() => sharp(preview, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer())
        .then((png) => onPartial!({ image: { bytes: png, format: "png" }, index: at }))
        .catch(() => {}); // a preview that cannot be made is skipped; the result still comes
    };
    const filled = await pool.fill({ width, height, rgb: bytes(rgb), mask: bytes(grey) }, { signal, ...(previews > 0 ? { previews, onPreview } : {}) });
    await encoding;
    const png = await sharp(filled, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 4 }).toBuffer();
    return { images: [{ bytes: png, format: "png" }], revisedPrompt: PROMPT_NOTE };
  }
}

function bytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}
