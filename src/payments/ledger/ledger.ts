// The payment ledger: claims a payment identity exactly once, moves a paid
// edit through its states with conditional updates (so that concurrent
// requests and processes agree on who runs and who settles), and keeps the
// result for replays.

import type { Db } from "../../storage/index.ts";
import { LEDGER_SCHEMA } from "./schema.ts";
import { siwxNonces, type SiwxNonces } from "./siwx-nonces.ts";

/**
 * `uncertain`: a settlement was attempted but neither the facilitator nor the chain could say
 * whether it landed; the next replay or poll settles again (at most once on chain) or finds it landed.
 */
/**
 * `interrupted`: the edit was cut off by a restart before it finished; nothing was charged, and
 * sending the same request with the same payment runs it again.
 */
export type PaidEditStatus = "verified" | "running" | "completed" | "settling" | "uncertain" | "settled" | "failed" | "interrupted";

export interface StoredError {
  status: number;
  message: string;
  type: string;
  code: string;
  param: string | null;
  /** Headers the answer carried, e.g. a 429's Retry-After. */
  headers?: Record<string, string>;
}

export interface PaidEdit {
  paymentId: string;
  jobId: string;
  status: PaidEditStatus;
  x402Version: number;
  network: string;
  payer: string;
  amount: string;
  priceUsd: string;
  model: string;
  size: string;
  n: number;
  fingerprint: string;
  payload: unknown;
  requirements: unknown;
  result: unknown;
  error: StoredError | null;
  usage: unknown;
  txHash: string | null;
  /** Why the row was left as it is, e.g. a completed edit not settled because its client had gone. */
  note: string | null;
  /** The buyer's payment identifier scoped to its payer ("payer:id"), when the payment carried one. */
  paymentRef: string | null;
  createdAt: Date;
}

/** What an interrupted edit answers until its payment is sent again. */
export const INTERRUPTED: StoredError = {
  status: 503,
  message:
    "the edit was interrupted by a server restart before it finished; nothing was charged. " +
    "Send the same request with the same payment again to run it (while the payment is valid)",
  type: "server_error",
  code: "edit_interrupted",
  param: null,
  headers: { "Retry-After": "1" },
};

export type NewPaidEdit = Omit<PaidEdit, "status" | "result" | "error" | "usage" | "txHash" | "note" | "createdAt" | "paymentRef"> & {
  paymentRef?: string;
};

interface Row {
  payment_id: string;
  job_id: string;
  status: PaidEditStatus;
  x402_version: number;
  network: string;
  payer: string;
  amount: string;
  price_usd: string;
  model: string;
  size: string;
  n: number;
  fingerprint: string;
  payload: unknown;
  requirements: unknown;
  result: unknown;
  error: StoredError | null;
  usage: unknown;
  tx_hash: string | null;
  note: string | null;
  payment_ref: string | null;
  created_at: Date | string;
}

const fromRow = (row: Row): PaidEdit => ({
  paymentId: row.payment_id,
  jobId: row.job_id,
  status: row.status,
  x402Version: row.x402_version,
  network: row.network,
  payer: row.payer,
  amount: row.amount,
  priceUsd: row.price_usd,
  model: row.model,
  size: row.size,
  n: row.n,
  fingerprint: row.fingerprint,
  payload: row.payload,
  requirements: row.requirements,
  result: row.result,
  error: row.error,
  usage: row.usage,
  txHash: row.tx_hash,
  note: row.note,
  paymentRef: row.payment_ref,
  createdAt: new Date(row.created_at),
});

export interface Ledger {
  /** Records a verified payment; false when its identity, or its live payment identifier, is already in the ledger. */
  claim(edit: NewPaidEdit): Promise<boolean>;
  byPayment(paymentId: string): Promise<PaidEdit | undefined>;
  /** The live (not failed) edit holding one of these payment identifiers ("payer:id"), if any. */
  byReference(refs: string[]): Promise<PaidEdit | undefined>;
  byJob(jobId: string): Promise<PaidEdit | undefined>;
  /** Moves `from` -> `to` only if the row is still in `from`; true when this caller made the move. */
  transition(jobId: string, from: PaidEditStatus, to: PaidEditStatus, fields?: TransitionFields): Promise<boolean>;
  /** Records why a row in `status` stays there (its state is unchanged); false when it has moved on. */
  annotate(jobId: string, status: PaidEditStatus, note: string): Promise<boolean>;
  /**
   * Edits a stopped process left unfinished, untouched for `olderThanMs`, become `interrupted`:
   * never charged, and the same payment sent again runs them.
   */
  recoverAbandoned(olderThanMs: number): Promise<{ interrupted: number }>;
  /**
   * Takes up to `limit` settlements nobody has touched for `olderThanMs`: `settling` (a process
   * stopped mid-settlement), `uncertain` (the chain had not decided yet) and `completed` edits
   * never settled (a stop right after the edit; not those kept on purpose for their client's
   * replay, which carry a note). Each comes back `settling` and touched now, so no other sweeper
   * takes it; rows older than a day are left (their authorizations expired long ago).
   */
  takeStaleSettlements(olderThanMs: number, limit: number): Promise<StaleSettlement[]>;
  /** The single-use sign-in nonces of polls. */
  nonces: SiwxNonces;
  db: Db;
}

/** A settlement the sweep took over: its row (now `settling`) and the state it was left in. */
export interface StaleSettlement {
  edit: PaidEdit;
  was: "completed" | "settling" | "uncertain";
}

export interface TransitionFields {
  result?: unknown;
  error?: StoredError;
  usage?: unknown;
  txHash?: string;
}

export async function openLedger(db: Db): Promise<Ledger> {
  await db.exec(LEDGER_SCHEMA);
  const select = "SELECT * FROM paid_edits";
  return {
    db,
    nonces: siwxNonces(db),
    async claim(edit) {
      const rows = await db.query(
        `INSERT INTO paid_edits (payment_id, job_id, status, x402_version, network, payer, amount, price_usd, model, size, n,
           fingerprint, payload, requirements, payment_ref)
         VALUES ($1, $2, 'verified', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT DO NOTHING RETURNING job_id`,
        [
          edit.paymentId,
          edit.jobId,
          edit.x402Version,
          edit.network,
          edit.payer,
          edit.amount,
          edit.priceUsd,
          edit.model,
          edit.size,
          edit.n,
          edit.fingerprint,
          JSON.stringify(edit.payload),
          JSON.stringify(edit.requirements),
          edit.paymentRef ?? null,
        ],
      );
      return rows.length === 1;
    },
    async byReference(refs) {
      if (refs.length === 0) return undefined;
      const [row] = await db.query<Row>(`${select} WHERE payment_ref = ANY($1::text[]) AND status <> 'failed' LIMIT 1`, [refs]);
      return row && fromRow(row);
    },
    async byPayment(paymentId) {
      const [row] = await db.query<Row>(`${select} WHERE payment_id = $1`, [paymentId]);
      return row && fromRow(row);
    },
    async byJob(jobId) {
      const [row] = await db.query<Row>(`${select} WHERE job_id = $1`, [jobId]);
      return row && fromRow(row);
    },
    async transition(jobId, from, to, fields = {}) {
      const rows = await db.query(
        `UPDATE paid_edits SET status = $3, updated_at = now(),
           result = COALESCE($4::jsonb, result),
           error = CASE WHEN $3 = 'verified' THEN NULL ELSE COALESCE($5::jsonb, error) END,
           usage = COALESCE($6::jsonb, usage), tx_hash = COALESCE($7, tx_hash),
           settled_at = CASE WHEN $3 = 'settled' THEN now() ELSE settled_at END
         WHERE job_id = $1 AND status = $2 RETURNING job_id`,
        [
          jobId,
          from,
          to,
          fields.result === undefined ? null : JSON.stringify(fields.result),
          fields.error === undefined ? null : JSON.stringify(fields.error),
          fields.usage === undefined ? null : JSON.stringify(fields.usage),
          fields.txHash ?? null,
        ],
      );
      return rows.length === 1;
    },
    async annotate(jobId, status, note) {
      const rows = await db.query("UPDATE paid_edits SET note = $3, updated_at = now() WHERE job_id = $1 AND status = $2 RETURNING job_id", [
        jobId,
        status,
        note,
      ]);
      return rows.length === 1;
    },
    async recoverAbandoned(olderThanMs) {
      const rows = await db.query(
        `UPDATE paid_edits SET status = 'interrupted', error = $1::jsonb, updated_at = now()
         WHERE status IN ('verified', 'running') AND updated_at < now() - ($2::text || ' milliseconds')::interval RETURNING job_id`,
        [JSON.stringify(INTERRUPTED), String(olderThanMs)],
      );
      return { interrupted: rows.length };
    },
    async takeStaleSettlements(olderThanMs, limit) {
      // One statement: the rows are chosen and moved together, and SKIP LOCKED lets two
      // sweepers on one PostgreSQL take disjoint rows instead of waiting for each other.
      const rows = await db.query<Row & { was: StaleSettlement["was"] }>(
        `WITH stale AS (
           SELECT job_id, status AS was FROM paid_edits
           WHERE (status IN ('settling', 'uncertain') OR (status = 'completed' AND note IS NULL))
             AND updated_at < now() - ($1::text || ' milliseconds')::interval
             AND created_at > now() - interval '1 day'
           ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         UPDATE paid_edits SET status = 'settling', updated_at = now() FROM stale
         WHERE paid_edits.job_id = stale.job_id RETURNING paid_edits.*, stale.was`,
        [String(olderThanMs), limit],
      );
      return rows.map((row) => ({ edit: fromRow(row), was: row.was }));
    },
  };
}
