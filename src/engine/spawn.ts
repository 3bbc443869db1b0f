// Starts a worker thread on a module: a built .js module directly, a TypeScript one natively where
// Node strips types itself (22.18+, 24), else through tsx however this process loaded tsx (with
// `--import tsx`, under `node --test`, or through tsx's register() API from the bin script).

import { Worker } from "node:worker_threads";

/**
 * Why TypeScript workers are not just `new Worker(url)` with the parent's execArgv: on Node 20 tsx
 * skips registering its hooks in worker threads (it expects them to be inherited, and they are not),
 * and hooks set up by register() are never inherited. So each worker registers tsx itself before
 * importing the module. execArgv is emptied so an inherited `--import tsx` (Node 22+/24) cannot
 * register it twice.
 */
export function spawnWorker(moduleUrl: URL): Worker {
  if (!moduleUrl.pathname.endsWith(".ts") || stripsTypes()) return new Worker(moduleUrl, { execArgv: [] });
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}

/** Whether this Node runs TypeScript itself (`process.features.typescript`, which @types/node 20 lacks). */
function stripsTypes(): boolean {
  return Boolean((process.features as { typescript?: string | false }).typescript);
}
