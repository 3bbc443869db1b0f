// Whether dist/ (written by `npm run build`) was built from the sources as they are now: every
// source file dist/build.json lists exists and is older than the build. Anything else, or
// RETOUCH_FROM_SOURCE=1, means "run the TypeScript sources", never a stale bundle.
import { readFileSync, statSync } from "node:fs";

/** @param {URL} root the package folder, ending in "/" */
export function bundleIsCurrent(root, env = process.env) {
  if (env.RETOUCH_FROM_SOURCE === "1") return false;
  try {
    const build = JSON.parse(readFileSync(new URL("dist/build.json", root), "utf8"));
    return build.inputs.length > 0 && build.inputs.every((path) => statSync(new URL(path, root)).mtimeMs < build.builtAt);
  } catch {
    return false; // no build, or a source file removed or renamed since
  }
}
