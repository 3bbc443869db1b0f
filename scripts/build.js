#!/usr/bin/env node
// Bundles the command line into dist/ so a `retouch` process starts without compiling
// TypeScript on the fly (about 1 s less per start). bin/retouch.js runs dist/ only while every
// source file it was built from, and the installed dependencies, are unchanged (dist/build.json
// lists them), else the sources.
//
// The pure-JavaScript packages the buyer commands load are bundled too: viem alone is 1,137
// module files for one `retouch edit`, and opening and compiling them cost about half its start.
// Everything else stays in node_modules: native code (sharp, litesvm), files read at run time
// (PGlite's wasm, ganache), worker threads (pino), and packages an unbundled one imports too
// (zod, shared with the OpenAPI packages): two copies of one package break its instanceof checks.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DIST = `${ROOT}dist`;

const esbuild = await import("esbuild");

const BUNDLED = /^(viem|ox|abitype|@noble\/.*|@scure\/.*|@x402\/.*|@coinbase\/x402|@payai\/facilitator|@signinwithethereum\/siwe|ajv|commander)$/;
/** The packages a bundled one imports: they stay in node_modules. */
const SHARED = ["zod", "ws", "jose", "tweetnacl", "semver", "@solana/*", "@solana-program/*", "@coinbase/cdp-sdk"];
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8"));
const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]
  .filter((name) => !BUNDLED.test(name))
  .concat(SHARED)
  .flatMap((name) => (name.endsWith("/*") ? [name] : [name, `${name}/*`]));
// npm rewrites this file on every install: a bundle older than it may hold other versions.
const INSTALLED = "node_modules/.package-lock.json";

const startedAt = Date.now();
// Built beside dist/ and swapped in whole, so a process starting meanwhile never sees half a bundle.
const staging = `${DIST}.${process.pid}`;
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging);
const result = await esbuild.build({
  absWorkingDir: ROOT,
  // Both entries and every shared chunk land directly in dist/, one folder below the package
  // root like src/, so src/paths.ts finds package files from either.
  entryPoints: { retouch: "src/cli/index.ts", "engine-worker": "src/engine/worker.ts" },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  external,
  // The bundled CommonJS packages (commander, ajv) call require(), which an ES module has not.
  banner: { js: 'import { createRequire as retouchCreateRequire } from "node:module"; const require = retouchCreateRequire(import.meta.url);' },
  // Stacks need only the mappings; without the sources' text the maps are a fifth the size.
  sourcemap: "linked",
  sourcesContent: false,
  metafile: true,
  logLevel: "warning",
});
const inputs = Object.keys(result.metafile.inputs)
  .filter((path) => !path.startsWith("node_modules/"))
  .concat(existsSync(`${ROOT}${INSTALLED}`) ? [INSTALLED] : []);
// Taken before the build started: a source saved during the build makes the bundle stale.
writeFileSync(`${staging}/build.json`, `${JSON.stringify({ builtAt: startedAt, inputs }, null, 1)}\n`);
const old = `${DIST}.old.${process.pid}`;
try {
  renameSync(DIST, old);
} catch (error) {
  if (error.code !== "ENOENT") throw error;
}
renameSync(staging, DIST);
rmSync(old, { recursive: true, force: true });
console.log(`built dist/ from ${inputs.length} source files in ${Date.now() - startedAt} ms`);
