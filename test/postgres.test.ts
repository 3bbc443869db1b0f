// Scale-out ledger: the same paid flow with DATABASE_URL pointing at the real
// PostgreSQL, with one payment sent twice at once (one edit, one settlement,
// agreed through conditional updates in the database).

import { test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { openLedger } from "../src/payments/index.ts";
import { openPostgres, type Db } from "../src/storage/index.ts";
import { startTestGateway } from "./support/gateway.ts";
import { createTestDatabase } from "./support/postgres.ts";
import { signV2 } from "./support/buyer.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const EDIT = "/api/v1/images/image2image";

test("paid edits keep their ledger in PostgreSQL", async () => {
  const gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", DATABASE_URL });
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const edit = await sceneEdit(128);
    const { header } = await signV2(gw, "solana", EDIT, jsonInit(edit));
    const [a, b] = await Promise.all([
      gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header })),
      gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header })),
    ]);
    const bodies = (await Promise.all([a.json(), b.json()])) as { payment: { status: string; tx_hash: string } }[];
    assert.deepEqual(bodies.map((body) => body.payment.status).sort(), ["already_settled", "settled"]);
    const { rows } = await db.query("SELECT status, amount, network FROM paid_edits WHERE tx_hash = $1", [bodies[0].payment.tx_hash]);
    assert.deepEqual(rows, [{ status: "settled", amount: "1000", network: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" }]);
    await db.query("DELETE FROM paid_edits WHERE tx_hash = $1", [bodies[0].payment.tx_hash]);
  } finally {
    await db.end();
    await gw.close();
  }
});

test("processes of a fleet starting together on a new database each set up the ledger without colliding", async () => {
  const database = await createTestDatabase();
  const dbs: Db[] = [];
  try {
    for (let i = 0; i < 5; i++) dbs.push(await openPostgres(database.url));
    await Promise.all(dbs.map((db) => openLedger(db)));
    await Promise.all(dbs.map((db) => openLedger(db)));
    const [{ count }] = await dbs[0].query<{ count: string }>("SELECT count(*) FROM paid_edits");
    assert.equal(count, "0");
  } finally {
    await Promise.all(dbs.map((db) => db.close()));
    await database.drop();
  }
});
