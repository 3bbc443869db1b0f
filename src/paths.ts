// Files the program reads from its own package. Both src/ (run through tsx) and dist/ (the
// bundle `npm run build` writes) sit one folder below the package root, so one relative URL
// serves both; only the engine's worker-thread module has a different name in each.

const HERE = import.meta.url;

/** True when running the TypeScript sources, false when running the built bundle in dist/. */
export const FROM_SOURCE = HERE.endsWith(".ts");

/** A file of the package, e.g. packageFile("web/dist/") or packageFile("contracts/DevUSDC.json"). */
export function packageFile(path: string): URL {
  return new URL(`../${path}`, HERE);
}

/** The module each engine worker thread runs. */
export const ENGINE_WORKER_URL = packageFile(FROM_SOURCE ? "src/engine/worker.ts" : "dist/engine-worker.js");
