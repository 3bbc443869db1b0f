// Starts a worker thread whose module is TypeScript, however this process loaded tsx: with
// `--import tsx`, under `node --test`, or through tsx's register() API from a bin script.

import { Worker } from "node:worker_threads";

/**
 * Why not just `new Worker(url)` with the parent's execArgv: on Node 20 tsx skips registering its
 * hooks in worker threads (it expects them to be inherited, and they are not), and hooks set up
 * by register() are never inherited. So each worker registers tsx itself before importing the
 * module. execArgv is emptied so an inherited `--import tsx` (Node 22+/24) cannot register it twice.
 */
export function spawnTypeScriptWorker(moduleUrl: URL): Worker {
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}
