// The engine's input type and the checks that turn a malformed input into a 400 the caller
// can act on, before any work is done.

import { invalidRequest } from "../errors.ts";

export interface FillInput {
  width: number;
  height: number;
  /** width*height*3 bytes, RGB, row-major. */
  rgb: Uint8Array;
  /** width*height bytes; a value >= 128 means "fill this pixel". */
  mask: Uint8Array;
}

/** Largest side the engine accepts; bounds memory (about 40 bytes per pixel at worst). */
export const MAX_SIDE = 4096;

export function validateFillInput(input: FillInput): void {
  const { width, height, rgb, mask } = input;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw invalidRequest("image", `image size must be positive whole numbers, got ${width}x${height}`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw invalidRequest("image", `image is ${width}x${height}; the embedded engine accepts at most ${MAX_SIDE}x${MAX_SIDE}, downscale it first`);
  }
  if (!(rgb instanceof Uint8Array) || rgb.length !== width * height * 3) {
    throw invalidRequest("image", `image must be ${width}x${height} RGB (${width * height * 3} bytes), got ${rgb?.length ?? 0} bytes`);
  }
  if (!(mask instanceof Uint8Array) || mask.length !== width * height) {
    throw invalidRequest("mask", `mask must be ${width}x${height} with one byte per pixel (${width * height} bytes), got ${mask?.length ?? 0} bytes`);
  }
}
