// The embedded database: PGlite (PostgreSQL compiled to WASM) in a folder.

import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { narrowFiles, PRIVATE_MODES } from "../private-dir.ts";
import type { Db } from "./types.ts";

export async function openPglite(directory: string): Promise<Db> {
  await mkdir(directory, { recursive: true, mode: PRIVATE_MODES.dir });
  const pg = await PGlite.create(directory);
  // PGlite sets its files' modes itself (0666 from its initdb image, 0644 for caches), whatever the
  // umask: narrowed to 0600 once it has opened and again when it closes. In between, the
  // owner-only folders keep what it writes private.
  await narrowFiles(directory);
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      return (await pg.query<Row>(sql, params)).rows;
    },
    async exec(sql) {
      await pg.exec(sql);
    },
    async close() {
      await pg.close();
      await narrowFiles(directory);
    },
  };
}
