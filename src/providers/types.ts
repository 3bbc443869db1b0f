// The Provider port: one upstream (or the embedded engine) that can run an
// edit. Adding an upstream is a folder implementing this plus one line in
// registry.ts.

import type { EditRequest, ImageFormat } from "../edits/index.ts";

export interface EditedImage {
  bytes: Uint8Array;
  format: ImageFormat;
}

export interface EditOutput {
  images: EditedImage[];
  /** What the model made of the prompt, or a note that it did not read it. */
  revisedPrompt?: string;
  /** The upstream's billing data (tokens), recorded in the ledger beside the price. */
  usage?: Record<string, unknown>;
  /** The settings the upstream says it used (OpenAI echoes them), where they differ from or fill in the request's. */
  settings?: { size?: string; quality?: string; background?: string };
}

/** A preview of the image being made, sent while an edit streams (OpenAI's partial_images). */
export interface PartialImage {
  image: EditedImage;
  /** 0, 1, 2: the order the previews came in. */
  index: number;
}

export interface Provider {
  readonly name: string;
  /** Why it cannot run on this server (e.g. missing credentials), or undefined. */
  unavailableReason(): string | undefined;
  /** Refuses (with a 400) a valid request this provider cannot serve, before any money moves. */
  precheck?(request: EditRequest): void;
  /**
   * Runs the edit; must stop work and reject when `signal` aborts. When the request streams,
   * `onPartial` is given the previews the provider makes on the way (if it makes any).
   */
  edit(request: EditRequest, signal: AbortSignal, onPartial?: (partial: PartialImage) => void): Promise<EditOutput>;
  close?(): Promise<void>;
}
