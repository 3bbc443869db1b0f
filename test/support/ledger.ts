// A payment ledger of a test's own: PGlite in a folder of its own, removed on close.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLedger, type Ledger } from "../../src/payments/index.ts";
import { openPglite } from "../../src/storage/index.ts";

export async function tempLedger(name: string): Promise<{ ledger: Ledger; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `retouch-${name}-`));
  const db = await openPglite(dir);
  return {
    ledger: await openLedger(db),
    async close() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
