// The ledger's tables. One row per payment identity: the edit it paid for, its
// state, the price, who paid, and the settlement; and the sign-in nonces that
// polls spend once each. Same SQL on PGlite and PostgreSQL.

export const LEDGER_SCHEMA = `
-- Processes of a fleet start together: one sets up at a time (the lock lasts until this batch commits),
-- or two CREATE TABLE IF NOT EXISTS collide and the ALTERs deadlock.
SELECT pg_advisory_xact_lock(${0x7265746f});
CREATE TABLE IF NOT EXISTS paid_edits (
  payment_id    TEXT PRIMARY KEY,
  job_id        TEXT NOT NULL UNIQUE,
  status        TEXT NOT NULL,
  x402_version  INTEGER NOT NULL,
  network       TEXT NOT NULL,
  payer         TEXT NOT NULL,
  amount        TEXT NOT NULL,
  price_usd     TEXT NOT NULL,
  model         TEXT NOT NULL,
  size          TEXT NOT NULL,
  n             INTEGER NOT NULL,
  fingerprint   TEXT NOT NULL,
  payload       JSONB NOT NULL,
  requirements  JSONB NOT NULL,
  result        JSONB,
  error         JSONB,
  usage         JSONB,
  tx_hash       TEXT,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  settled_at    TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS paid_edits_status ON paid_edits (status, updated_at);
-- Recreated on every start, so a ledger made by an older version learns new states.
ALTER TABLE paid_edits DROP CONSTRAINT IF EXISTS paid_edits_status_check;
ALTER TABLE paid_edits ADD CONSTRAINT paid_edits_status_check
  CHECK (status IN ('verified', 'running', 'completed', 'settling', 'uncertain', 'settled', 'failed', 'interrupted'));
-- Why a row was left as it is (a completed edit not settled because its client had gone).
ALTER TABLE paid_edits ADD COLUMN IF NOT EXISTS note TEXT;
-- The buyer's payment identifier (x402 payment-identifier extension), scoped to its payer: "payer:id".
-- One live edit per identifier; a failed one (never charged) frees it for a new attempt.
ALTER TABLE paid_edits ADD COLUMN IF NOT EXISTS payment_ref TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS paid_edits_payment_ref ON paid_edits (payment_ref) WHERE payment_ref IS NOT NULL AND status <> 'failed';

-- Sign-In-With-X challenges issued for polls: each nonce belongs to one job, expires, and is used once.
CREATE TABLE IF NOT EXISTS siwx_nonces (
  nonce       TEXT PRIMARY KEY,
  job_id      TEXT NOT NULL,
  issued_at   TIMESTAMPTZ NOT NULL,
  expires_at  TIMESTAMPTZ NOT NULL,
  used_at     TIMESTAMPTZ,
  used_by     TEXT
);
CREATE INDEX IF NOT EXISTS siwx_nonces_expires ON siwx_nonces (expires_at);
`;
