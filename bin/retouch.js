#!/usr/bin/env node
// Entry point of the `retouch` command: the bundle in dist/ when `npm run build` made it from
// the sources as they are now (about 1 s faster to start), else the TypeScript sources: natively
// where Node strips types itself (22.18+, 24), through tsx on older Node.
import { bundleIsCurrent } from "./bundle.js";

/** The commands that run until stopped and log the stacks of unexpected errors. */
const SERVERS = new Set(["serve", "worker", "facilitator", "devchain"]);

if (bundleIsCurrent(new URL("../", import.meta.url))) {
  // Stacks then name the source files, not the bundle's chunks. Reading every chunk's map
  // costs a short command (edit, wallet, --help) about a fifth of its start, so those read
  // them only when their stack will be printed (RETOUCH_DEBUG=1).
  if (SERVERS.has(process.argv[2]) || process.env.RETOUCH_DEBUG) process.setSourceMapsEnabled(true);
  await import("../dist/retouch.js");
} else {
  if (!process.features.typescript) (await import("tsx/esm/api")).register();
  await import("../src/cli/index.ts");
}
