// The sign-in nonces of polls, in the ledger's database so that every gateway
// process sharing it agrees: a nonce is issued for one job, expires, and is
// used at most once (a conditional update, like the ledger's own states).

import type { Db } from "../../storage/index.ts";

export interface SiwxNonce {
  nonce: string;
  jobId: string;
  issuedAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  /** The address whose proof used it. */
  usedBy: string | null;
}

export interface SiwxNonces {
  issue(nonce: Pick<SiwxNonce, "nonce" | "jobId" | "issuedAt" | "expiresAt">): Promise<void>;
  find(nonce: string): Promise<SiwxNonce | undefined>;
  /** Marks the nonce used by `address`; false when another request used it first. */
  use(nonce: string, address: string): Promise<boolean>;
}

/** Nonces are kept this long after they expire, so a late replay is told "expired" rather than "unknown". */
const KEEP_EXPIRED = "1 day";

interface Row {
  nonce: string;
  job_id: string;
  issued_at: Date | string;
  expires_at: Date | string;
  used_at: Date | string | null;
  used_by: string | null;
}

/** Expects the ledger's schema (schema.ts) to be in place. */
export function siwxNonces(db: Db): SiwxNonces {
  return {
    async issue({ nonce, jobId, issuedAt, expiresAt }) {
      await db.query(`DELETE FROM siwx_nonces WHERE expires_at < now() - interval '${KEEP_EXPIRED}'`);
      await db.query("INSERT INTO siwx_nonces (nonce, job_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)", [
        nonce,
        jobId,
        issuedAt.toISOString(),
        expiresAt.toISOString(),
      ]);
    },
    async find(nonce) {
      const [row] = await db.query<Row>("SELECT * FROM siwx_nonces WHERE nonce = $1", [nonce]);
      if (!row) return undefined;
      return {
        nonce: row.nonce,
        jobId: row.job_id,
        issuedAt: new Date(row.issued_at),
        expiresAt: new Date(row.expires_at),
        usedAt: row.used_at === null ? null : new Date(row.used_at),
        usedBy: row.used_by,
      };
    },
    async use(nonce, address) {
      const rows = await db.query("UPDATE siwx_nonces SET used_at = now(), used_by = $2 WHERE nonce = $1 AND used_at IS NULL RETURNING nonce", [
        nonce,
        address,
      ]);
      return rows.length === 1;
    },
  };
}
