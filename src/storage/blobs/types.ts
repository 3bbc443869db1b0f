// The blob store port: where result images live. Keys are unguessable and
// immutable, so they can be cached forever.

import type { ImageFormat } from "../../edits/index.ts";

export type BlobExtension = "png" | "jpg" | "webp";

export const EXTENSIONS: Record<ImageFormat, BlobExtension> = { png: "png", jpeg: "jpg", webp: "webp" };

export const CONTENT_TYPE_BY_EXTENSION: Record<BlobExtension, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  webp: "image/webp",
};

/** 22 url-safe base64 characters (128 random bits) and an extension. */
export const BLOB_KEY = /^[A-Za-z0-9_-]{22}\.(png|jpg|webp)$/;

/** A scratch key: a job's id and the part's name, e.g. `job_x.image0`. Never a result key, never served. */
export const SCRATCH_KEY = /^[A-Za-z0-9_-]{1,64}\.[a-z0-9]{1,16}$/;

export interface StoredBlob {
  body: ReadableStream<Uint8Array>;
  size: number;
  contentType: string;
}

export interface BlobStore {
  /** Stores the bytes whole (never half-written) and returns the key. */
  put(bytes: Uint8Array, format: ImageFormat): Promise<string>;
  /** The blob, or undefined for any key that is not a stored blob. */
  get(key: string): Promise<StoredBlob | undefined>;
  /**
   * Private space for the inputs of queued edits (images, masks), which a worker on another machine
   * reads back: never served under /api/v1/files, removed when the job ends. Keys match SCRATCH_KEY.
   */
  scratch: ScratchSpace;
  /** Throws, with a message naming what to fix, when the store cannot be read (or, with `writes`, written). */
  check?(writes?: boolean): Promise<void>;
  close?(): Promise<void>;
}

export interface ScratchSpace {
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes, or undefined when nothing is stored under the key. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Removes what is stored under the keys (missing ones are fine). */
  remove(keys: string[]): Promise<void>;
}

export function checkScratchKey(key: string): string {
  if (!SCRATCH_KEY.test(key)) throw new Error(`not a scratch key: ${JSON.stringify(key.slice(0, 80))}`);
  return key;
}
