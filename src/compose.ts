// The composition root: the one place that picks adapters for this
// configuration and wires the gateway together.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createCatalog } from "./catalog/index.ts";
import type { Config } from "./config.ts";
import { createEnginePool } from "./engine/index.ts";
import { createEditService } from "./gateway/index.ts";
import { createProviderRegistry } from "./providers/index.ts";
import { createApp, createLogger, createMetrics, type App, type Logger } from "./server/index.ts";
import { createFilesystemBlobStore } from "./storage/index.ts";

export const VERSION: string = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
).version;

export interface Gateway {
  app: App;
  logger: Logger;
  close(): Promise<void>;
}

export async function createGateway(config: Config, options: { logger?: Logger } = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const catalog = createCatalog({ margin: config.margin, config: config.catalog });
  const blobs = await createFilesystemBlobStore(join(config.dataDir, "files"));
  const engine = createEnginePool({ threads: config.engineThreads });
  const providers = createProviderRegistry(config, engine);
  const edits = createEditService({
    catalog,
    providers,
    blobs,
    publicUrl: config.publicUrl,
    timeoutMs: config.upstreamTimeoutMs,
    maxImageSide: config.maxImageSide,
  });
  const app = createApp({ config, catalog, edits, blobs, logger, metrics: createMetrics(), version: VERSION });
  return { app, logger, close: () => providers.close() };
}
