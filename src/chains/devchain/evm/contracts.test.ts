// The committed artifacts must be built from the committed sources: nothing compiles at start-up,
// so a stale artifact would silently run old token code. Rebuild with scripts/build-token.ts.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { loadArtifact } from "./contracts.ts";

for (const name of ["DevUSDC", "Multicall3"] as const) {
  test(`contracts/${name}.json is built from contracts/${name}.sol`, () => {
    const source = readFileSync(new URL(`../../../../contracts/${name}.sol`, import.meta.url), "utf8");
    const artifact = loadArtifact(name);
    assert.equal(artifact.sourceSha256, createHash("sha256").update(source).digest("hex"), "run: node --import tsx scripts/build-token.ts");
    assert.match(artifact.deployedBytecode, /^0x[0-9a-f]{200,}$/);
  });
}
