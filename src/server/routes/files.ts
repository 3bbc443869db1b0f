// GET /api/v1/files/{id}.{ext}: result images, immutable, cacheable forever.

import { z } from "@hono/zod-openapi";
import type { App, ServerDeps } from "../context.ts";
import { RetouchError } from "../../errors.ts";
import { notFound } from "../errors.ts";
import { ErrorBody } from "../schemas.ts";

export function registerFiles(app: App, deps: ServerDeps): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/v1/files/{file}",
    summary: "A result image",
    request: { params: z.object({ file: z.string().openapi({ example: "Xc1nq2k0RkqzZ4d3o8m1aA.png" }) }) },
    responses: {
      200: { description: "The image", content: { "image/png": { schema: z.string().openapi({ format: "binary" }) } } },
      304: { description: "Not modified (If-None-Match)" },
      404: { description: "No such file", content: { "application/json": { schema: ErrorBody } } },
      503: { description: "The result storage (S3 bucket) cannot be read right now", content: { "application/json": { schema: ErrorBody } } },
    },
  });

  app.get("/api/v1/files/:file", async (c) => {
    const key = c.req.param("file");
    const blob = await deps.blobs.get(key).catch((error: unknown) => {
      throw new RetouchError("the result storage cannot be read right now; try again shortly", {
        status: 503,
        type: "server_error",
        code: "storage_unavailable",
        headers: { "Retry-After": "5" },
        cause: error,
      });
    });
    if (!blob) return notFound(c);
    // Keys are random and content never changes, so the key is a strong ETag.
    const etag = `"${key.slice(0, key.indexOf("."))}"`;
    const headers = {
      "Content-Type": blob.contentType,
      "Cache-Control": "public, max-age=31536000, immutable",
      ETag: etag,
      "X-Content-Type-Options": "nosniff",
    };
    if (c.req.header("if-none-match")?.split(/\s*,\s*/).includes(etag)) {
      await blob.body.cancel();
      return c.body(null, 304, headers);
    }
    return c.body(blob.body, 200, { ...headers, "Content-Length": String(blob.size) });
  });
}
