// What route handlers are given: the domain services and the operations kit.

import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Catalog } from "../catalog/index.ts";
import type { Config } from "../config.ts";
import type { EditService, PaidEdits } from "../gateway/index.ts";
import type { BlobStore } from "../storage/index.ts";
import type { Logger, Metrics } from "./observability.ts";

export interface ServerDeps {
  config: Config;
  catalog: Catalog;
  edits: EditService;
  /** Present when payments are on. */
  paidEdits?: PaidEdits;
  blobs: BlobStore;
  logger: Logger;
  metrics: Metrics;
  version: string;
}

export type App = OpenAPIHono<{ Variables: { requestId: string } }>;
