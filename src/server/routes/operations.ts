// Operations endpoints: /healthz, /metrics, /openapi.json and /docs.

import type { App, ServerDeps } from "../context.ts";
import { renderDocs } from "../docs-page.ts";
import { metricsHandler } from "../metrics-access.ts";
import { Health } from "../schemas.ts";

const started = Date.now();

export function registerOperations(app: App, deps: ServerDeps): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/healthz",
    summary: "Liveness",
    responses: { 200: { description: "Up", content: { "application/json": { schema: Health } } } },
  });
  app.get("/healthz", (c) =>
    c.json({ status: "ok" as const, version: deps.version, uptime_seconds: Math.round((Date.now() - started) / 1000) }),
  );

  // With a listen address of its own, /metrics is not on the API's port at all.
  if (!deps.config.metrics.listen) app.get("/metrics", metricsHandler(deps.metrics, deps.config.metrics.token));

  const document = () =>
    app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "retouch",
        version: deps.version,
        description: "Pay-per-edit AI image editing. Masks are white = edit, black = keep.",
      },
      servers: [{ url: deps.config.publicUrl }],
    });
  app.get("/openapi.json", (c) => c.json(document()));
  app.get("/docs", (c) => c.html(renderDocs(document())));
}
