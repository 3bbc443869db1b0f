// Providers: the adapters that run edits (embedded engine, upstream APIs).
export { createProviderRegistry, type ProviderRegistry } from "./registry.ts";
export type { EditedImage, EditOutput, PartialImage, Provider } from "./types.ts";
export { checkResult, expectedResult, providerName, resultLimits, RESULT_LIMITS } from "./result-check.ts";
export { upstreamFailed, UPSTREAM_QUOTA_EXHAUSTED, UPSTREAM_REFUSED } from "./upstream.ts";
export {
  upstreamAnswerLimit,
  UPSTREAM_ANSWER_BYTES_PER_IMAGE,
  UPSTREAM_ANSWER_OVERHEAD_BYTES,
  UPSTREAM_ERROR_BODY_BYTES,
} from "./answer-limits.ts";
