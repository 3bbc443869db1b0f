// The scale-out database: PostgreSQL through a `pg` connection pool.

import pg from "pg";
import type { Db } from "./types.ts";

export async function openPostgres(url: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query("SELECT 1");
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      return (await pool.query(sql, params)).rows as Row[];
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async close() {
      // pool.end() resolves once its clients are told to end, not once their connections are closed;
      // wait for those too, or a database dropped right after still sees (and kills) them.
      let open = pool.totalCount;
      const closed = new Promise<void>((resolve) => {
        if (open === 0) resolve();
        pool.on("remove", () => {
          if (--open <= 0) resolve();
        });
      });
      await pool.end();
      await closed;
    },
  };
}
