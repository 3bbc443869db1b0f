// The embedded content-aware-fill engine: a pure synchronous fill, and a worker-thread pool that
// runs it off the event loop with cancellation. Other folders import the engine only from here.

export type { FillInput } from "./input.ts";
export { contentAwareFill } from "./fill.ts";
export { createEnginePool, type EnginePool } from "./pool.ts";
export { collectGarbage, collectGarbageSoon } from "./collect-garbage.ts";
