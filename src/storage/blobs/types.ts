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
  /** Throws, with a message naming what to fix, when the store cannot be read (or, with `writes`, written). */
  check?(writes?: boolean): Promise<void>;
  close?(): Promise<void>;
}
