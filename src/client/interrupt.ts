// Ctrl-C during a paid command: erase the spinner, say plainly whether anything was
// paid and how to get a paid result, and exit 130 (the message goes where --json says).

import { CliError, EXIT } from "./errors.ts";
import { reportFailure } from "./run.ts";
import { stopSpinners } from "./spinner.ts";

export const RESUME_COMMAND = "retouch edit --resume";

/** Where a paid request stands: nothing sent yet, or a signed payment sent to the gateway. */
export type PaymentStage = "before_paying" | "after_paying";

export function interruptedError(stage: PaymentStage): CliError {
  return stage === "before_paying"
    ? new CliError("interrupted before paying: not charged", EXIT.interrupted, { code: "interrupted_before_paying" })
    : new CliError(
        `interrupted after paying: the payment is kept; run \`${RESUME_COMMAND}\` to fetch the result without paying again`,
        EXIT.interrupted,
        { code: "interrupted_after_paying" },
      );
}

/**
 * Until the returned function is called, SIGINT reports `stage()` and exits 130.
 * @example
 * const release = onInterrupt(() => stage);
 * try { ... } finally { release(); }
 */
export function onInterrupt(stage: () => PaymentStage): () => void {
  const handler = () => {
    stopSpinners();
    reportFailure(interruptedError(stage()));
    process.exit(EXIT.interrupted);
  };
  process.on("SIGINT", handler);
  return () => process.off("SIGINT", handler);
}
