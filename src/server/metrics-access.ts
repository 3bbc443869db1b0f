// Who may read /metrics (payment volume, memory, versions): anyone by default,
// only callers with RETOUCH_METRICS_TOKEN as a bearer token when it is set, and
// only on RETOUCH_METRICS_ADDR (not on the API's port) when that is set.

import { timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import { RetouchError } from "../errors.ts";
import type { Metrics } from "./observability.ts";

/** Answers GET /metrics, refusing callers without the token (when there is one). */
export function metricsHandler(metrics: Metrics, token: string | undefined) {
  const expected = token === undefined ? undefined : Buffer.from(`Bearer ${token}`);
  return async (c: Context): Promise<Response> => {
    if (expected && !sameBytes(Buffer.from(c.req.header("authorization") ?? ""), expected)) {
      const error = new RetouchError("/metrics needs the operator's token: send Authorization: Bearer <RETOUCH_METRICS_TOKEN>", {
        status: 401,
        type: "invalid_request_error",
        code: "unauthorized",
        headers: { "WWW-Authenticate": 'Bearer realm="metrics"' },
      });
      return c.json(error.toJSON(), 401, error.headers);
    }
    return c.body(await metrics.registry.metrics(), 200, { "Content-Type": metrics.registry.contentType });
  };
}

/** The app of the separate metrics listener: /metrics and nothing else. */
export function metricsApp(metrics: Metrics, token: string | undefined): Hono {
  const app = new Hono();
  app.get("/metrics", metricsHandler(metrics, token));
  app.notFound((c) => c.json({ error: { message: "only /metrics is served here", type: "invalid_request_error", code: "not_found", param: null } }, 404));
  return app;
}

function sameBytes(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
