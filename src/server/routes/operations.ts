// Operations endpoints: /healthz, /readyz, /metrics, /openapi.json and /docs.

import type { App, ServerDeps } from "../context.ts";
import { renderDocs } from "../docs-page.ts";
import { metricsHandler } from "../metrics-access.ts";
import { Health, Readiness } from "../schemas.ts";

const started = Date.now();
/** A dependency slower than this to answer counts as down: a load balancer should not wait on it. */
const READY_TIMEOUT_MS = 3_000;

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

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

  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/readyz",
    summary: "Readiness: the database, Redis and the result bucket answer",
    responses: {
      200: { description: "Ready", content: { "application/json": { schema: Readiness } } },
      503: { description: "Not ready: `checks` names what failed (details in the log)", content: { "application/json": { schema: Readiness } } },
    },
  });
  app.get("/readyz", async (c) => {
    const checks: Record<string, "ok" | "failed"> = {};
    await Promise.all(
      Object.entries(deps.readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), READY_TIMEOUT_MS, `no answer within ${READY_TIMEOUT_MS} ms`);
          checks[name] = "ok";
        } catch (error) {
          checks[name] = "failed";
          deps.logger.warn({ check: name, err: error }, `readiness: ${name} failed`);
        }
      }),
    );
    const ready = Object.values(checks).every((state) => state === "ok");
    return c.json({ status: ready ? ("ready" as const) : ("not_ready" as const), checks }, ready ? 200 : 503);
  });

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
