// The database port: parameterised SQL that runs the same on PGlite
// (embedded) and PostgreSQL (scale-out).

export interface Db {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs several statements separated by semicolons (schema set-up). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}
