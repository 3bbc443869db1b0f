// The embedded database: PGlite (PostgreSQL compiled to WASM) in a folder.

import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import type { Db } from "./types.ts";

export async function openPglite(directory: string): Promise<Db> {
  await mkdir(directory, { recursive: true });
  const pg = await PGlite.create(directory);
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      return (await pg.query<Row>(sql, params)).rows;
    },
    async exec(sql) {
      await pg.exec(sql);
    },
    close: () => pg.close(),
  };
}
