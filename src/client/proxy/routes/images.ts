// GET /images/<file>: a saved result, streamed from RETOUCH_IMAGE_DIR. Only names the
// proxy itself writes match, so no request can reach a file outside that folder.

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Context } from "hono";
import { RetouchError } from "../../../errors.ts";
import { CONTENT_TYPES, type ImageFormat } from "../../../edits/index.ts";
import type { ProxyContext } from "../context.ts";

/** retouch-<model>-<yyyymmdd>-<hhmmss>-<n>[-k].<png|jpeg|webp>, as results.ts names them. */
export const SAVED_IMAGE_NAME = /^retouch-[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.(png|jpeg|webp)$/;

function notFound(): RetouchError {
  return new RetouchError("no such image", { status: 404, type: "invalid_request_error", code: "image_not_found" });
}

export function images(ctx: ProxyContext) {
  return async (c: Context): Promise<Response> => {
    const name = c.req.param("file") ?? "";
    const match = SAVED_IMAGE_NAME.exec(name);
    if (!match || name.includes("..")) throw notFound();
    const path = join(ctx.settings.imageDir, name);
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw notFound();
      size = info.size;
    } catch {
      throw notFound();
    }
    const body = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
    return new Response(body, {
      headers: { "content-type": CONTENT_TYPES[match[1] as ImageFormat], "content-length": String(size), "cache-control": "private, max-age=31536000, immutable" },
    });
  };
}
