#!/usr/bin/env node
// Entry point of the `retouch` command: the bundle in dist/ when `npm run build` made it from
// the sources as they are now (about 1 s faster to start), else the TypeScript sources through tsx.
import { bundleIsCurrent } from "./bundle.js";

if (bundleIsCurrent(new URL("../", import.meta.url))) {
  // Stacks (RETOUCH_DEBUG=1) then name the source files, not the bundle's chunks.
  process.setSourceMapsEnabled(true);
  await import("../dist/retouch.js");
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/index.ts");
}
