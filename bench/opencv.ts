// OpenCV's Telea inpainting (WASM build of @techstark/opencv-js) as the benchmark's baseline:
// loading it safely, and running it on the same RGB buffer and hole as the engine.

import { createRequire } from "node:module";

/** The few parts of the OpenCV.js API the benchmark touches. */
interface Mat {
  data: Uint8Array;
  delete(): void;
}
interface OpenCv {
  Mat: new () => Mat;
  matFromArray(rows: number, cols: number, type: number, data: ArrayLike<number>): Mat;
  inpaint(src: Mat, mask: Mat, dst: Mat, radius: number, flags: number): void;
  CV_8UC1: number;
  CV_8UC3: number;
  INPAINT_TELEA: number;
  onRuntimeInitialized?: () => void;
}

/**
 * The Emscripten module is a thenable: awaiting or returning it from an async function makes the
 * promise adopt it forever. So wait for onRuntimeInitialized and hand it back wrapped.
 */
export async function loadOpenCv(): Promise<{ cv: OpenCv }> {
  const cv = createRequire(import.meta.url)("@techstark/opencv-js") as OpenCv;
  if (typeof cv.Mat !== "function") {
    await new Promise<void>((resolve) => {
      cv.onRuntimeInitialized = resolve;
    });
  }
  return { cv };
}

/** Telea with radius 3 over the pixels where `hole` is non-zero; returns a new RGB buffer. */
export function teleaInpaint(cv: OpenCv, width: number, height: number, rgb: Uint8Array, hole: Uint8Array): Uint8Array {
  const src = cv.matFromArray(height, width, cv.CV_8UC3, rgb);
  const mask = cv.matFromArray(height, width, cv.CV_8UC1, hole);
  const dst = new cv.Mat();
  try {
    cv.inpaint(src, mask, dst, 3, cv.INPAINT_TELEA);
    return dst.data.slice();
  } finally {
    src.delete();
    mask.delete();
    dst.delete();
  }
}
