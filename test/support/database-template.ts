// A new gateway's first start creates its embedded database: PGlite runs PostgreSQL's initdb
// in WASM, about 3-4 s of CPU, the same files every time. The suite starts about a hundred
// gateways, so each fresh data folder gets a copy of one database made that way instead
// (0.1 s). The copy is what the gateway's own first start would have made, tables and all
// still to come: the gateway opens it and runs its migrations as on any first start.

import { readFileSync } from "node:fs";
import { cp, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPglite } from "../../src/storage/index.ts";

const PGLITE_PACKAGE = join(import.meta.dirname, "../../node_modules/@electric-sql/pglite/package.json");
const PGLITE_VERSION = (JSON.parse(readFileSync(PGLITE_PACKAGE, "utf8")) as { version: string }).version;
/** Shared by the suite's processes (and by runs with the same TMPDIR): it depends on PGlite's version alone. */
const TEMPLATE = join(tmpdir(), `retouch-test-pglite-${PGLITE_VERSION}`);

let made: Promise<string> | undefined;

/**
 * Gives `dataDir` the embedded database a first start makes, unless it already has one (a
 * restart) or the gateway's `env` names PostgreSQL (DATABASE_URL).
 */
export async function seedDatabase(dataDir: string, env: Record<string, string> = {}): Promise<void> {
  if (env.DATABASE_URL) return;
  const target = join(dataDir, "db");
  if (await exists(target)) return;
  await cp(await template(), target, { recursive: true });
}

function template(): Promise<string> {
  made ??= (async () => {
    if (await exists(join(TEMPLATE, "PG_VERSION"))) return TEMPLATE;
    // Made aside and renamed into place, whole: another test process may be making it too.
    const staging = await mkdtemp(`${TEMPLATE}.`);
    const db = await openPglite(join(staging, "db"));
    await db.close();
    try {
      await rename(join(staging, "db"), TEMPLATE);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    return TEMPLATE;
  })();
  return made;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
