// Blob store on the local disk ($RETOUCH_DATA_DIR/files). Writes go to a
// temporary file first and are renamed into place, so a crash never leaves a
// half-written image under a real key.

import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ImageFormat } from "../../edits/index.ts";
import { BLOB_KEY, CONTENT_TYPE_BY_EXTENSION, EXTENSIONS, type BlobExtension, type BlobStore } from "./types.ts";

/** `fileMode`: what results are written with (owner-only unless the operator grants group access). */
export async function createFilesystemBlobStore(directory: string, fileMode = 0o600): Promise<BlobStore> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  return {
    async put(bytes: Uint8Array, format: ImageFormat): Promise<string> {
      const key = `${randomBytes(16).toString("base64url")}.${EXTENSIONS[format]}`;
      const temporary = join(directory, `.${key}.${process.pid}.tmp`);
      try {
        await writeFile(temporary, bytes, { flag: "wx", mode: fileMode });
        // The umask may have narrowed the mode further (or a looser one widened it): set it exactly.
        await chmod(temporary, fileMode);
        await rename(temporary, join(directory, key));
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      return key;
    },

    async get(key: string) {
      // The pattern admits no "/", "..", or dot files, so no path leaves the folder.
      if (!BLOB_KEY.test(key)) return undefined;
      const path = join(directory, key);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) return undefined;
      const extension = key.slice(key.lastIndexOf(".") + 1) as BlobExtension;
      return {
        body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
        size: info.size,
        contentType: CONTENT_TYPE_BY_EXTENSION[extension],
      };
    },
  };
}
