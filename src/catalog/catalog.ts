// The catalog answers "which models exist, what do they offer, what does this
// request cost". One table, one margin, exact prices.

import { z } from "zod";
import { invalidRequest } from "../errors.ts";
import { AUTO_SIZE, BUILTIN_MODELS, EDIT_OPTIONS, sizeRuleCost, sizeRuleProblem, type ModelEntry, type Quality } from "./models.ts";
import { formatUsd, parseDecimal, priceWithMargin } from "./money.ts";

export interface Quote {
  model: string;
  size: string;
  n: number;
  quality?: Quality;
  /** Price of one image in USDC atomic units. */
  unitPrice: bigint;
  /** Price of the whole request in USDC atomic units. */
  total: bigint;
  /** The total as an exact decimal string in USD. */
  amount: string;
}

export interface Catalog {
  readonly margin: string;
  list(): readonly ModelEntry[];
  /** The model by id or alias (OpenAI's own names), or a 400 naming the known ones. */
  resolve(id: string): ModelEntry;
  /** Price of one image of every size the model offers. */
  prices(model: ModelEntry): Record<string, string>;
  /** Price of one image of every size, for each quality the model prices. */
  qualityPrices(model: ModelEntry): Partial<Record<Quality, Record<string, string>>>;
  quote(model: ModelEntry, size: string, n: number, quality?: Quality): Quote;
  /** Why the model does not make `size`, or undefined when it does (a listed size, or one its size rule allows). */
  sizeProblem(model: ModelEntry, size: string): string | undefined;
  /** The configured fallbacks of `model` that can serve this size, n, image count and mask. */
  fallbacksFor(model: ModelEntry, request: { size: string; n: number; images: number; mask: boolean }): ModelEntry[];
}

const decimalString = z.string().refine(
  (text) => {
    try {
      parseDecimal(text);
      return true;
    } catch {
      return false;
    }
  },
  { message: "must be a non-negative decimal string like \"0.05\"" },
);

const modelOverride = z
  .object({
    provider: z.string().min(1),
    upstreamModel: z.string().min(1),
    aliases: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/)).max(8),
    description: z.string(),
    sizes: z.record(z.string().regex(/^(\d+x\d+|auto)$/), decimalString),
    defaultSize: z.string(),
    mask: z.enum(["required", "optional", "unsupported"]),
    maxImages: z.number().int().min(1).max(16),
    maxN: z.number().int().min(1).max(10),
    margin: decimalString,
    usesPrompt: z.boolean(),
    fallbacks: z.array(z.string()).max(4),
    options: z.array(z.enum(EDIT_OPTIONS)),
    qualityCosts: z.record(z.enum(["low", "medium", "high"]), z.record(z.string(), decimalString)),
    customSizes: z
      .object({
        multiple: z.number().int().min(1).max(256),
        maxSide: z.number().int().min(16).max(16384),
        maxPixels: z.number().int().min(256),
        minPixels: z.number().int().min(1),
        maxAspect: z.number().min(1).max(16),
        costPerMegapixel: decimalString,
        qualityCostPerMegapixel: z.record(z.enum(["low", "medium", "high"]), decimalString).optional(),
        inputCost: decimalString.optional(),
      })
      .strict(),
    transparentBackground: z.boolean(),
  })
  .partial()
  .strict();

/** What an operator may put in the config file's "catalog" section. */
export const catalogConfigSchema = z
  .object({
    margin: decimalString.optional(),
    /** Models by id: fields override the built-in entry, or define a new model. */
    models: z.record(z.string().regex(/^[a-z0-9-]+\/[A-Za-z0-9._-]+$/), modelOverride).optional(),
    /** Model ids to remove from the catalog. */
    disable: z.array(z.string()).optional(),
  })
  .strict();

export type CatalogConfig = z.infer<typeof catalogConfigSchema>;

export function createCatalog(options: { margin: string; config?: CatalogConfig }): Catalog {
  const margin = options.config?.margin ?? options.margin;
  parseDecimal(margin);
  const models = mergeModels(BUILTIN_MODELS, options.config);
  const byId = new Map(models.map((model) => [model.id, model]));
  const byName = new Map([...models.flatMap((model) => (model.aliases ?? []).map((alias) => [alias, model] as const)), ...byId]);

  const unitPrice = (model: ModelEntry, size: string, quality?: Quality): bigint => {
    const listed = quality ? model.qualityCosts?.[quality]?.[size] : model.sizes[size];
    const byRule = model.customSizes && sizeRuleProblem(model.customSizes, size) === undefined;
    const cost = listed ?? (byRule ? sizeRuleCost(model.customSizes!, size, quality) : undefined);
    if (cost === undefined) throw new Error(`catalog: ${model.id} has no ${quality} price for ${size}`);
    return priceWithMargin(cost, model.margin ?? margin);
  };

  return {
    margin,
    list: () => models,
    resolve(id) {
      const model = byName.get(id);
      if (!model) {
        const known = models.map((m) => (m.aliases?.length ? `${m.id} (${m.aliases.join(", ")})` : m.id));
        throw invalidRequest("model", `unknown model "${id}"; known models: ${known.join(", ")}`, "model_not_found");
      }
      return model;
    },
    prices: (model) =>
      Object.fromEntries(Object.keys(model.sizes).map((size) => [size, formatUsd(unitPrice(model, size))])),
    fallbacksFor(model, request) {
      return (model.fallbacks ?? [])
        .map((id) => byId.get(id)!)
        .filter(
          (fallback) =>
            request.size in fallback.sizes &&
            request.n <= fallback.maxN &&
            request.images <= fallback.maxImages &&
            (request.mask ? fallback.mask !== "unsupported" : fallback.mask !== "required"),
        );
    },
    qualityPrices: (model) =>
      Object.fromEntries(
        Object.entries(model.qualityCosts ?? {}).map(([quality, sizes]) => [
          quality,
          Object.fromEntries(Object.keys(sizes).map((size) => [size, formatUsd(unitPrice(model, size, quality as Quality))])),
        ]),
      ),
    sizeProblem(model, size) {
      if (size in model.sizes) return undefined;
      // "auto" is offered by every model: the listed size nearest the picture's shape, or the picture's own.
      const offered = [...Object.keys(model.sizes), ...(AUTO_SIZE in model.sizes ? [] : [AUTO_SIZE])].join(", ");
      if (!model.customSizes) return `choose one of ${offered}`;
      const problem = sizeRuleProblem(model.customSizes, size);
      return problem && `${problem}; choose one of ${offered}, or any WIDTHxHEIGHT within the model's limits (GET /api/v1/models, custom_sizes)`;
    },
    quote(model, size, n, quality) {
      const unit = unitPrice(model, size, quality);
      const total = unit * BigInt(n);
      return { model: model.id, size, n, quality, unitPrice: unit, total, amount: formatUsd(total) };
    },
  };
}

function mergeModels(builtins: readonly ModelEntry[], config: CatalogConfig | undefined): ModelEntry[] {
  const disabled = new Set(config?.disable ?? []);
  const merged = new Map(builtins.map((model) => [model.id, model]));
  for (const [id, override] of Object.entries(config?.models ?? {})) {
    const base = merged.get(id);
    const entry = { ...base, ...override, id } as Partial<ModelEntry>;
    merged.set(id, completeEntry(entry, base !== undefined));
  }
  const models = [...merged.values()].filter((model) => !disabled.has(model.id));
  const ids = new Set(models.map((model) => model.id));
  const named = new Map<string, string>();
  for (const model of models) {
    for (const alias of model.aliases ?? []) {
      const other = ids.has(alias) ? alias : named.get(alias);
      if (other !== undefined) throw new Error(`catalog: the alias ${alias} of ${model.id} is already the name of ${other}`);
      named.set(alias, model.id);
    }
  }
  for (const model of models) {
    const unknown = (model.fallbacks ?? []).filter((id) => !ids.has(id) || id === model.id);
    if (unknown.length > 0) throw new Error(`catalog: model ${model.id} falls back to ${unknown.join(", ")}, which is not another model in the catalog`);
    if (!(model.defaultSize in model.sizes)) {
      throw new Error(`catalog: model ${model.id} has defaultSize ${model.defaultSize}, which is not among its sizes`);
    }
  }
  return models;
}

function completeEntry(entry: Partial<ModelEntry>, overridesBuiltin: boolean): ModelEntry {
  const required = ["provider", "upstreamModel", "sizes", "defaultSize", "mask", "maxImages", "maxN"] as const;
  const missing = required.filter((key) => entry[key] === undefined);
  if (missing.length > 0 && !overridesBuiltin) {
    throw new Error(`catalog: new model ${entry.id} needs ${missing.join(", ")}`);
  }
  return { description: "", usesPrompt: true, ...entry } as ModelEntry;
}
