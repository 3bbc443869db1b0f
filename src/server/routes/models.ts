// GET /api/v1/models: the catalog with sizes, mask support, prices and
// whether each model can run on this server.

import type { App, ServerDeps } from "../context.ts";
import { ModelList } from "../schemas.ts";

export function registerModels(app: App, deps: ServerDeps): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/v1/models",
    summary: "Models, sizes and prices",
    responses: { 200: { description: "The catalog", content: { "application/json": { schema: ModelList } } } },
  });

  app.get("/api/v1/models", (c) => {
    const data = deps.catalog.list().map((model) => {
      const reason = deps.edits.unavailableReason(model);
      return {
        id: model.id,
        object: "model" as const,
        aliases: model.aliases ?? [],
        provider: model.provider,
        description: model.description,
        sizes: Object.keys(model.sizes),
        default_size: model.defaultSize,
        mask: model.mask,
        max_images: model.maxImages,
        max_n: model.maxN,
        uses_prompt: model.usesPrompt,
        prices: deps.catalog.prices(model),
        ...(model.qualityCosts ? { prices_by_quality: deps.catalog.qualityPrices(model) } : {}),
        options: model.options ?? [],
        available: reason === undefined,
        ...(reason === undefined ? {} : { unavailable_reason: reason }),
      };
    });
    return c.json({ object: "list" as const, data });
  });
}
