// The ledger on the embedded database: one row per payment, moves only from the
// state the caller saw, and a restart's clean-up that fails unfinished edits (never
// charged) and leaves unrecorded settlements for the chain to decide.

import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPglite } from "../../storage/index.ts";
import { INTERRUPTED, openLedger, type Ledger, type NewPaidEdit, type PaidEditStatus } from "./ledger.ts";

/** A ledger on a fresh database of its own; `close` removes it. */
async function openFreshLedger(): Promise<Ledger & { close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "retouch-ledger-"));
  const db = await openPglite(dir);
  const ledger = await openLedger(db);
  return {
    ...ledger,
    async close() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** For a test that looks at every row (the restart clean-up): a database of its own. */
async function freshLedger(t: TestContext): Promise<Ledger> {
  const ledger = await openFreshLedger();
  t.after(() => ledger.close());
  return ledger;
}

let serial = 0;
function paidEdit(change: Partial<NewPaidEdit> = {}): NewPaidEdit {
  serial++;
  return {
    paymentId: `eip155:8453:0xpayer:0x${serial}`,
    jobId: `job_${serial}`,
    x402Version: 2,
    network: "eip155:8453",
    payer: "0xpayer",
    amount: "1000",
    priceUsd: "0.001",
    model: "local/content-aware-fill",
    size: "512x512",
    n: 1,
    fingerprint: "f".repeat(64),
    payload: { x402Version: 2, payload: { authorization: { nonce: `0x${serial}` } } },
    requirements: { scheme: "exact", amount: "1000" },
    ...change,
  };
}

/** Makes the row look `minutes` old, as a row a stopped process left behind. */
async function age(ledger: Ledger, jobId: string, minutes: number): Promise<void> {
  await ledger.db.query(`UPDATE paid_edits SET updated_at = now() - ($2::text || ' minutes')::interval WHERE job_id = $1`, [jobId, String(minutes)]);
}

/** A claimed row moved along `path` (each step from the previous state). */
async function rowIn(ledger: Ledger, path: PaidEditStatus[]): Promise<string> {
  const edit = paidEdit();
  assert.equal(await ledger.claim(edit), true);
  let from: PaidEditStatus = "verified";
  for (const to of path) {
    assert.equal(await ledger.transition(edit.jobId, from, to), true);
    from = to;
  }
  return edit.jobId;
}

describe("rows of one payment each (one database for these tests, each on rows it claims itself)", () => {
  let shared: Awaited<ReturnType<typeof openFreshLedger>>;
  before(async () => {
    shared = await openFreshLedger();
  });
  after(() => shared.close());

  test("a payment is claimed once: the second claim is refused and the first job keeps the row", async () => {
    const ledger = shared;
    const first = paidEdit();
    assert.equal(await ledger.claim(first), true);
    assert.equal(await ledger.claim({ ...first, jobId: "job_other", fingerprint: "0".repeat(64) }), false);

    const row = await ledger.byPayment(first.paymentId);
    assert.equal(row?.jobId, first.jobId);
    assert.equal(row?.status, "verified");
    assert.equal(row?.fingerprint, first.fingerprint);
    assert.deepEqual(row?.payload, first.payload);
    assert.deepEqual(row?.requirements, first.requirements);
    assert.equal(row?.txHash, null);
    assert.ok(row && Math.abs(row.createdAt.getTime() - Date.now()) < 60_000, "created now");
    assert.equal(await ledger.byJob("job_other"), undefined);
    assert.equal(await ledger.byPayment("eip155:8453:nobody:0x0"), undefined);
  });

  test("a move happens only from the state the caller saw, and keeps what earlier moves stored", async () => {
    const ledger = shared;
    const edit = paidEdit();
    await ledger.claim(edit);
    assert.equal(await ledger.transition(edit.jobId, "running", "completed"), false, "not running yet");
    assert.equal(await ledger.transition(edit.jobId, "verified", "running"), true);
    assert.equal(await ledger.transition(edit.jobId, "verified", "running"), false, "a second caller loses");

    const result = { data: [{ url: "http://gw/api/v1/files/x.png" }] };
    await ledger.transition(edit.jobId, "running", "completed", { result, usage: { tokens: 7 } });
    await ledger.transition(edit.jobId, "completed", "settling");
    await ledger.transition(edit.jobId, "settling", "settled", { txHash: "0xsettled" });

    const row = await ledger.byJob(edit.jobId);
    assert.equal(row?.status, "settled");
    assert.deepEqual(row?.result, result, "the result stored when completed is still there after settling");
    assert.deepEqual(row?.usage, { tokens: 7 });
    assert.equal(row?.txHash, "0xsettled");
    assert.equal(row?.error, null);
    const [{ settled_at }] = await ledger.db.query<{ settled_at: Date | null }>("SELECT settled_at FROM paid_edits WHERE job_id = $1", [edit.jobId]);
    assert.ok(settled_at, "settled_at is set by the move to settled");
  });

  test("a failed edit keeps its error and has no settlement time", async () => {
    const ledger = shared;
    const jobId = await rowIn(ledger, ["running"]);
    const error = { status: 502, message: "upstream said no", type: "upstream_error", code: "upstream_error", param: null };
    assert.equal(await ledger.transition(jobId, "running", "failed", { error }), true);
    const row = await ledger.byJob(jobId);
    assert.deepEqual(row?.error, error);
    assert.equal(row?.result, null);
    assert.equal(row?.txHash, null);
    const [{ settled_at }] = await ledger.db.query<{ settled_at: Date | null }>("SELECT settled_at FROM paid_edits WHERE job_id = $1", [jobId]);
    assert.equal(settled_at, null);
  });
});

test("after a restart, edits a dead process left unfinished are interrupted (not charged); settlements are left to the sweep", async (t) => {
  const ledger = await freshLedger(t);
  const verified = await rowIn(ledger, []);
  const running = await rowIn(ledger, ["running"]);
  const completed = await rowIn(ledger, ["running", "completed"]);
  const settling = await rowIn(ledger, ["running", "completed", "settling"]);
  const settled = await rowIn(ledger, ["running", "completed", "settling", "settled"]);
  for (const jobId of [verified, running, completed, settling, settled]) await age(ledger, jobId, 10);

  assert.deepEqual(await ledger.recoverAbandoned(60_000), { interrupted: 2 });

  const status = async (jobId: string) => (await ledger.byJob(jobId))?.status;
  assert.equal(await status(verified), "interrupted");
  assert.equal(await status(running), "interrupted");
  assert.equal(await status(completed), "completed");
  assert.equal(await status(settling), "settling");
  assert.equal(await status(settled), "settled");
  assert.deepEqual((await ledger.byJob(running))?.error, INTERRUPTED);
  assert.equal(INTERRUPTED.status, 503, "not a 500: nothing is broken, the edit can run again");
  assert.deepEqual(await ledger.recoverAbandoned(60_000), { interrupted: 0 }, "a second clean-up finds nothing");

  // Run again: back to verified, its stale error cleared.
  assert.equal(await ledger.transition(running, "interrupted", "verified"), true);
  assert.equal((await ledger.byJob(running))?.error, null);
});

test("rows younger than the window may belong to a live process sharing the database: left alone", async (t) => {
  const ledger = await freshLedger(t);
  const young = await rowIn(ledger, ["running"]);
  const youngSettling = await rowIn(ledger, ["running", "completed", "settling"]);
  const old = await rowIn(ledger, ["running"]);
  await age(ledger, young, 1);
  await age(ledger, youngSettling, 1);
  await age(ledger, old, 5);

  assert.deepEqual(await ledger.recoverAbandoned(3 * 60_000), { interrupted: 1 });
  assert.deepEqual(await ledger.takeStaleSettlements(3 * 60_000, 10), []);
  assert.equal((await ledger.byJob(young))?.status, "running");
  assert.equal((await ledger.byJob(youngSettling))?.status, "settling");
  assert.equal((await ledger.byJob(old))?.status, "interrupted");
});

test("the sweep takes stale settlements once each, oldest first, and leaves rows kept for their client, finished rows and young rows", async (t) => {
  const ledger = await freshLedger(t);
  const settling = await rowIn(ledger, ["running", "completed", "settling"]);
  const uncertain = await rowIn(ledger, ["running", "completed", "settling", "uncertain"]);
  const completed = await rowIn(ledger, ["running", "completed"]);
  const keptForClient = await rowIn(ledger, ["running", "completed"]);
  assert.equal(await ledger.annotate(keptForClient, "completed", "the client disconnected"), true);
  const young = await rowIn(ledger, ["running", "completed"]);
  const settled = await rowIn(ledger, ["running", "completed", "settling", "settled"]);
  const failed = await rowIn(ledger, ["running", "failed"]);
  const ancient = await rowIn(ledger, ["running", "completed", "settling"]);
  await age(ledger, settling, 7);
  await age(ledger, uncertain, 9);
  await age(ledger, completed, 8);
  for (const jobId of [keptForClient, settled, failed]) await age(ledger, jobId, 30);
  await ledger.db.query("UPDATE paid_edits SET created_at = now() - interval '2 days', updated_at = now() - interval '2 days' WHERE job_id = $1", [ancient]);

  const first = await ledger.takeStaleSettlements(5 * 60_000, 2);
  assert.deepEqual(
    first.map(({ edit, was }) => [edit.jobId, was]),
    [
      [uncertain, "uncertain"],
      [completed, "completed"],
    ],
  );
  assert.ok(first.every(({ edit }) => edit.status === "settling"));
  assert.equal((await ledger.byJob(completed))?.status, "settling");
  const rest = await ledger.takeStaleSettlements(5 * 60_000, 10);
  assert.deepEqual(
    rest.map(({ edit, was }) => [edit.jobId, was]),
    [[settling, "settling"]],
  );
  assert.deepEqual(await ledger.takeStaleSettlements(5 * 60_000, 10), [], "taken rows are touched: a second sweeper finds nothing");
  for (const [jobId, status] of [
    [keptForClient, "completed"],
    [young, "completed"],
    [settled, "settled"],
    [failed, "failed"],
    [ancient, "settling"],
  ] as const) {
    assert.equal((await ledger.byJob(jobId))?.status, status, jobId);
  }
});
