// Providers: the adapters that run edits (embedded engine, upstream APIs).
export { createProviderRegistry, type ProviderRegistry } from "./registry.ts";
export type { EditedImage, EditOutput, Provider } from "./types.ts";
export { checkResult, expectedResult, providerName, resultLimits, RESULT_LIMITS } from "./result-check.ts";
export { upstreamFailed } from "./upstream.ts";
