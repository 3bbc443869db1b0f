// Runs one CLI command and turns its failure into what the user meets: one line on
// stderr (or, with --json, one JSON object on stdout) and the documented exit code.

import { CliError, EXIT } from "./errors.ts";

/** The outcome of a failed command as `--json` prints it. */
export interface JsonFailure {
  ok: false;
  error: { code: string; message: string; exit_code: number };
}

let jsonOutput = false;

/** Set by the CLI's root once commander has parsed the command's options. */
export function setJsonOutput(json: boolean): void {
  jsonOutput = json;
}

/**
 * Reports a failure as --json or as text and sets the exit code. A CliError keeps
 * its message and code; anything else is a bug: one line, its stack only with RETOUCH_DEBUG=1.
 */
export function reportFailure(error: unknown, json = jsonOutput): void {
  const failure = asCliError(error);
  if (json) {
    const body: JsonFailure = { ok: false, error: { code: failure.code, message: failure.message, exit_code: failure.exitCode } };
    process.stdout.write(`${JSON.stringify(body)}\n`);
  } else {
    process.stderr.write(`retouch: ${failure.message}\n`);
  }
  if (!(error instanceof CliError) && process.env.RETOUCH_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = failure.exitCode;
}

export async function runCommand(command: () => Promise<unknown>, options: { json?: boolean } = {}): Promise<void> {
  try {
    await command();
  } catch (error) {
    reportFailure(error, options.json ?? jsonOutput);
  }
}

function asCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  // A file or folder the user named that the system refuses (EACCES, ENOSPC...): theirs to fix, not a bug.
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  if (typeof code === "string" && /^E[A-Z]+$/.test(code) && typeof syscall === "string") {
    return new CliError((error as Error).message, EXIT.usage, { cause: error, code: "file_error" });
  }
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new CliError(`unexpected error: ${message} (this is a bug; RETOUCH_DEBUG=1 shows where)`, EXIT.unexpected, { cause: error });
}
