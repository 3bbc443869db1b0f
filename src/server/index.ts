// The HTTP layer.
export { createApp } from "./app.ts";
export type { App, ServerDeps } from "./context.ts";
export { createLogger, createMetrics, type Logger, type Metrics } from "./observability.ts";
export { metricsApp } from "./metrics-access.ts";
export { editRouteOffers } from "./discovery.ts";
export { EDIT_PATHS } from "./routes/image2image.ts";
