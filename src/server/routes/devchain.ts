// GET /api/v1/devchain: where the local chains of a devchain gateway answer, so
// buyer tools find them without being told the ports. 404 in any other mode.

import type { App, ServerDeps } from "../context.ts";
import { notFound } from "../errors.ts";
import { DevchainInfo, ErrorBody } from "../schemas.ts";

export function registerDevchain(app: App, deps: ServerDeps): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/v1/devchain",
    summary: "The local chains' JSON-RPC endpoints (RETOUCH_PAYMENTS=devchain only)",
    responses: {
      200: { description: "The devchain's Base and Solana endpoints", content: { "application/json": { schema: DevchainInfo } } },
      404: { description: "This gateway does not run a devchain", content: { "application/json": { schema: ErrorBody } } },
    },
  });

  app.get("/api/v1/devchain", (c) => (deps.devchain ? c.json(deps.devchain) : notFound(c)));
}
