// The catalog's public face: models, sizes, prices and quotes.
export { createCatalog, catalogConfigSchema, type Catalog, type CatalogConfig, type Quote } from "./catalog.ts";
export {
  answersInBase64,
  AUTO_SIZE,
  BUILTIN_MODELS,
  DEFAULT_MODEL_ID,
  EDIT_OPTIONS,
  type EditOptionName,
  type MaskSupport,
  type ModelEntry,
  type Quality,
  type SizeRule,
} from "./models.ts";
export { formatUsd, parseUsd, priceWithMargin, USDC_DECIMALS } from "./money.ts";
