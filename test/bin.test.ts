// bin/retouch.js runs the bundle in dist/ only while it was built from the sources as they are
// now; a stale bundle would run yesterday's code, so every way of going stale must fall back.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, test } from "node:test";
// @ts-expect-error: a plain JavaScript module without types
import { bundleIsCurrent } from "../bin/bundle.js";
import { VERSION } from "../src/version.ts";

const ROOT = join(import.meta.dirname, "..");

describe("which code `retouch` runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "retouch-bin-"));
  const root = pathToFileURL(`${dir}/`);
  after(() => rmSync(dir, { recursive: true, force: true }));
  const current = (env: Record<string, string> = {}) => bundleIsCurrent(root, env) as boolean;

  /** A package folder with two sources, both older than a build that lists them. */
  function build(): void {
    mkdirSync(join(dir, "src"), { recursive: true });
    mkdirSync(join(dir, "dist"), { recursive: true });
    for (const name of ["a.ts", "b.ts"]) {
      writeFileSync(join(dir, "src", name), "export {};\n");
      utimesSync(join(dir, "src", name), new Date(1_000_000), new Date(1_000_000));
    }
    writeFileSync(join(dir, "dist", "build.json"), JSON.stringify({ builtAt: 2_000_000, inputs: ["src/a.ts", "src/b.ts"] }));
  }

  test("the bundle, when every source it was built from is older than it", () => {
    build();
    assert.equal(current(), true);
  });

  test("the sources, when one of them changed after the build", () => {
    build();
    utimesSync(join(dir, "src", "b.ts"), new Date(), new Date());
    assert.equal(current(), false);
  });

  test("the sources, when one of them was removed or renamed", () => {
    build();
    rmSync(join(dir, "src", "a.ts"));
    assert.equal(current(), false);
  });

  test("the sources, when there is no build or it is unreadable", () => {
    build();
    writeFileSync(join(dir, "dist", "build.json"), "{ half a file");
    assert.equal(current(), false);
    rmSync(join(dir, "dist"), { recursive: true });
    assert.equal(current(), false);
  });

  test("the sources, when RETOUCH_FROM_SOURCE=1 asks for them", () => {
    build();
    assert.equal(current({ RETOUCH_FROM_SOURCE: "1" }), false);
  });

  test("both ways start the real command", () => {
    for (const env of [{}, { RETOUCH_FROM_SOURCE: "1" }]) {
      const run = spawnSync(process.execPath, ["bin/retouch.js", "--version"], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout.trim(), VERSION);
    }
  });

  // The test run built dist/ (scripts/run-tests.js) from this very checkout.
  const dist = join(ROOT, "dist");

  test("the real build goes stale when the dependencies are installed again: it lists npm's record of them", () => {
    const build = JSON.parse(readFileSync(join(dist, "build.json"), "utf8")) as { inputs: string[] };
    assert.ok(build.inputs.includes("node_modules/.package-lock.json"), "an npm install of other versions must make the bundle stale");
    assert.ok(build.inputs.includes("src/cli/index.ts"));
  });

  test("the buyer commands' pure-JavaScript dependencies are in the bundle, not read from node_modules at each start", () => {
    const imported = new Set<string>();
    for (const name of readdirSync(dist).filter((file) => file.endsWith(".js"))) {
      for (const [, specifier] of readFileSync(join(dist, name), "utf8").matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s*"([^"]+)"/g)) {
        if (!specifier.startsWith(".") && !specifier.startsWith("node:")) imported.add(specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/"));
      }
    }
    for (const bundled of ["viem", "ox", "@x402/core", "@x402/evm", "@x402/svm", "@x402/extensions", "@x402/fetch", "commander"]) {
      assert.ok(!imported.has(bundled), `dist/ imports ${bundled} from node_modules`);
    }
    // Native or shared with an unbundled package: these must stay single copies in node_modules.
    for (const kept of ["sharp", "zod"]) assert.ok(imported.has(kept), `dist/ should import ${kept} from node_modules`);
  });
});
