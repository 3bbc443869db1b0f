// The proxy's routes, one file each, and the one place errors become responses.

import { Hono } from "hono";
import { RetouchError } from "../../errors.ts";
import type { ProxyContext } from "./context.ts";
import { errorResponse } from "./errors.ts";
import { localOnly } from "./local-only.ts";
import { edits } from "./routes/edits.ts";
import { image2image } from "./routes/image2image.ts";
import { images } from "./routes/images.ts";
import { models } from "./routes/models.ts";

export function proxyApp(ctx: ProxyContext): Hono {
  const app = new Hono();
  app.use(localOnly);
  app.post("/v1/images/image2image", image2image(ctx));
  app.post("/v1/images/edits", edits(ctx));
  app.get("/v1/models", models(ctx));
  app.get("/images/:file", images(ctx));
  app.notFound(() => errorResponse(new RetouchError("no such route on the retouch proxy", { status: 404, type: "invalid_request_error", code: "not_found" })));
  app.onError((error) => errorResponse(error));
  return app;
}
