// The buyer CLI's one error type: a message a user can act on and the exit code
// that tells scripts what happened (2 input, 3 payment, 4 edit failed, 5 unreachable).

export const EXIT = {
  usage: 2,
  payment: 3,
  editFailed: 4,
  unreachable: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** The first line of why a library call failed (viem's shortMessage, a socket's code). */
export function shortReason(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.shortMessage ?? e.message?.split("\n")[0] ?? String(error);
}
