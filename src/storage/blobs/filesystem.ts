// Blob store on the local disk ($RETOUCH_DATA_DIR/files). Writes go to a
// temporary file first and are renamed into place, so a crash never leaves a
// half-written image under a real key.

import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import type { ImageFormat } from "../../edits/index.ts";
import { BLOB_KEY, checkScratchKey, CONTENT_TYPE_BY_EXTENSION, EXTENSIONS, type BlobExtension, type BlobStore } from "./types.ts";

/** The folder beside the results where queued edits' inputs wait for their worker. */
export const SCRATCH_FOLDER = "scratch";

/** `fileMode`: what results are written with (owner-only unless the operator grants group access). */
export async function createFilesystemBlobStore(directory: string, fileMode = 0o600): Promise<BlobStore> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  // Beside the results, never among them: /api/v1/files cannot serve an input. Made on first use.
  const scratch = join(dirname(directory), SCRATCH_FOLDER);

  /** Writes to a temporary file and renames it into place: a crash never leaves half a file under the name. */
  async function writeWhole(folder: string, name: string, bytes: Uint8Array, mode: number): Promise<void> {
    const temporary = join(folder, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      await writeFile(temporary, bytes, { flag: "wx", mode });
      // The umask may have narrowed the mode further (or a looser one widened it): set it exactly.
      await chmod(temporary, mode);
      await rename(temporary, join(folder, name));
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  return {
    async put(bytes: Uint8Array, format: ImageFormat): Promise<string> {
      const key = `${randomBytes(16).toString("base64url")}.${EXTENSIONS[format]}`;
      await writeWhole(directory, key, bytes, fileMode);
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

    scratch: {
      async put(key, bytes) {
        await mkdir(scratch, { recursive: true, mode: 0o700 });
        await writeWhole(scratch, checkScratchKey(key), bytes, 0o600);
      },
      get: (key) => readFile(join(scratch, checkScratchKey(key))).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      }),
      async remove(keys) {
        await Promise.all(keys.map((key) => rm(join(scratch, checkScratchKey(key)), { force: true })));
      },
    },
  };
}
