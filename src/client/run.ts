// Runs one CLI command: a CliError becomes one line on stderr and its exit code;
// anything else is a bug and keeps its stack.

import { CliError } from "./errors.ts";

export async function runCommand(command: () => Promise<unknown>): Promise<void> {
  try {
    await command();
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    console.error(`retouch: ${error.message}`);
    process.exitCode = error.exitCode;
  }
}
