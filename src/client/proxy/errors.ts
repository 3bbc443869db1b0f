// Turns whatever went wrong into the OpenAI-style answer an SDK caller expects, in
// one place: a cap or a refused poll by its own code, the buyer library's CliError by
// its exit code, a RetouchError as itself.

import { RetouchError } from "../../errors.ts";
import { CliError, EXIT } from "../errors.ts";
import { PollRefusedError } from "../paid-answer.ts";
import { CapExceededError } from "../spend-caps.ts";

const STATUS_OF_EXIT: Record<number, { status: number; type: RetouchError["type"]; code: string }> = {
  [EXIT.usage]: { status: 400, type: "invalid_request_error", code: "invalid_request" },
  [EXIT.payment]: { status: 402, type: "payment_required", code: "payment_failed" },
  [EXIT.editFailed]: { status: 502, type: "upstream_error", code: "edit_failed" },
  [EXIT.unreachable]: { status: 502, type: "upstream_error", code: "gateway_unreachable" },
};

export function asRetouchError(error: unknown, param: string | null = null): RetouchError {
  if (error instanceof RetouchError) return error;
  if (error instanceof CapExceededError) return capExceeded(error.message, error.cap);
  if (error instanceof PollRefusedError) {
    // The gateway asked for something retouch never gives: its fault, not the caller's.
    return new RetouchError(error.message, { status: 502, type: "upstream_error", code: "poll_refused", cause: error });
  }
  if (error instanceof CliError) {
    const mapped = STATUS_OF_EXIT[error.exitCode];
    return new RetouchError(error.message, { ...mapped, param: error.exitCode === EXIT.usage ? param : null, cause: error });
  }
  return new RetouchError(`the proxy failed: ${(error as Error).message ?? String(error)}`, {
    status: 500,
    type: "server_error",
    code: "proxy_error",
    cause: error,
  });
}

export function errorResponse(error: unknown): Response {
  const e = asRetouchError(error);
  return Response.json(e.toJSON(), { status: e.status, headers: e.headers });
}

/** 402 for a quote over one of the proxy's spending caps. */
export function capExceeded(message: string, code: "max_per_request" | "max_per_day"): RetouchError {
  return new RetouchError(message, { status: 402, type: "payment_required", code });
}
