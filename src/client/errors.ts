// The buyer CLI's one error type: a message a user can act on, a stable `code` for
// scripts (--json), and the exit code that tells what happened (see EXIT).

/** Exit codes of every `retouch` command; `--help` and the README list the same. */
export const EXIT = {
  ok: 0,
  /** A bug or a failure retouch did not foresee (the message says which). */
  unexpected: 1,
  /** Bad usage or input, refused before anything was paid. */
  usage: 2,
  /** Payment refused, over a cap, or the wallet cannot pay. */
  payment: 3,
  /** The edit failed (not charged). */
  editFailed: 4,
  /** The gateway or an RPC cannot be reached. */
  unreachable: 5,
  /** Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each exit code means, as `--help` prints it. */
export const EXIT_HELP = `Exit codes:
  0    done
  2    bad usage or input (nothing paid)
  3    payment refused, over --max-price or a spend cap, or the wallet cannot pay
  4    the edit failed: not charged (unless the message says the payment is kept for --resume)
  5    gateway or RPC unreachable
  130  interrupted (Ctrl-C); the message says whether anything was paid
  1    unexpected error (a bug: please report it)`;

const DEFAULT_CODES: Record<ExitCode, string> = {
  0: "ok",
  1: "unexpected_error",
  2: "invalid_usage",
  3: "payment_refused",
  4: "edit_failed",
  5: "unreachable",
  130: "interrupted",
};

export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** Stable, machine-readable: `invalid_usage`, `gateway_unreachable`, the gateway's own error code... */
  readonly code: string;
  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.exitCode = exitCode;
    this.code = options?.code ?? DEFAULT_CODES[exitCode];
  }
}

/**
 * The first line of why a library call failed: a socket's code (ECONNREFUSED) found
 * anywhere in its causes, else viem's shortMessage, else its message (with fetch's
 * own cause, as in "fetch failed (bad port)").
 */
export function shortReason(error: unknown): string {
  type Failure = { code?: unknown; cause?: unknown; message?: unknown; shortMessage?: unknown };
  let innermost: Failure | undefined;
  for (let e = error as Failure | undefined, depth = 0; e && typeof e === "object" && depth < 8; e = e.cause as Failure | undefined, depth++) {
    if (typeof e.code === "string" && /^E[A-Z0-9_]+$/.test(e.code)) return e.code;
    innermost = e;
  }
  const e = error as Failure;
  const first = String(e?.shortMessage ?? e?.message ?? error).split("\n")[0];
  const inner = innermost && innermost !== e && typeof innermost.message === "string" ? innermost.message.split("\n")[0] : undefined;
  return inner && inner !== first ? `${first.replace(/\.$/, "")} (${inner})` : first;
}

/**
 * `prefix: reason`, unless the reason already starts with that prefix, so that
 * "payment refused: payment refused: ..." never happens.
 */
export function prefixed(prefix: string, reason: string): string {
  const trimmed = reason.trim();
  return trimmed.toLowerCase().startsWith(prefix.toLowerCase()) ? trimmed : `${prefix}: ${trimmed}`;
}
