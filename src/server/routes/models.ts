// GET /api/v1/models: the catalog with sizes, mask support, prices and
// whether each model can run on this server.

import { formatUsd, priceWithMargin, type ModelEntry } from "../../catalog/index.ts";
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
        ...(model.customSizes ? { custom_sizes: customSizes(model, deps.catalog.margin) } : {}),
        options: model.options ?? [],
        available: reason === undefined,
        ...(reason === undefined ? {} : { unavailable_reason: reason }),
      };
    });
    return c.json({ object: "list" as const, data });
  });
}

/** A model's size rule as callers need it: the limits, and the prices (margin included, rounded up) it is quoted at. */
function customSizes(model: ModelEntry, margin: string) {
  const rule = model.customSizes!;
  const price = (cost: string) => formatUsd(priceWithMargin(cost, model.margin ?? margin));
  return {
    multiple: rule.multiple,
    max_side: rule.maxSide,
    max_pixels: rule.maxPixels,
    min_pixels: rule.minPixels,
    max_aspect: rule.maxAspect,
    price_per_megapixel: price(rule.costPerMegapixel),
    ...(rule.qualityCostPerMegapixel
      ? { prices_per_megapixel_by_quality: Object.fromEntries(Object.entries(rule.qualityCostPerMegapixel).map(([quality, cost]) => [quality, price(cost)])) }
      : {}),
    ...(rule.inputCost ? { price_per_image_for_inputs: price(rule.inputCost) } : {}),
  };
}
