// Builds the Hono application: middleware, routes, the error envelope.

import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import type { App, ServerDeps } from "./context.ts";
import { allowCrossOrigin } from "./cors.ts";
import { errorResponse, notFound } from "./errors.ts";
import { observeRequests } from "./observability.ts";
import { releaseAfterLargeBodies } from "./release-memory.ts";
import { registerDevchain, registerFaucet } from "./routes/devchain.ts";
import { registerFiles } from "./routes/files.ts";
import { registerImageToImage } from "./routes/image2image.ts";
import { registerJobs } from "./routes/jobs.ts";
import { registerModels } from "./routes/models.ts";
import { registerOperations } from "./routes/operations.ts";
import { registerPlayground } from "./routes/playground.ts";

export function createApp(deps: ServerDeps): App {
  const app: App = new OpenAPIHono();
  app.use(requestId({ limitLength: 64 }));
  app.use(observeRequests(deps.logger, deps.metrics));
  app.use(releaseAfterLargeBodies());
  allowCrossOrigin(app, deps.config.corsOrigins);
  registerImageToImage(app, deps);
  registerJobs(app, deps);
  registerFiles(app, deps);
  registerModels(app, deps);
  registerOperations(app, deps);
  registerDevchain(app, deps);
  registerFaucet(app, deps);
  registerPlayground(app, deps);
  app.notFound(notFound);
  app.onError((error, c) => errorResponse(error, c, deps.logger));
  return app;
}
