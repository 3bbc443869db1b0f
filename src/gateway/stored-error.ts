// Errors kept as data: a failed edit's error is stored (in the ledger, or in a
// queued job's answer) and answered later, maybe by another process, exactly as
// it was raised. Unexpected errors are kept as a generic 500 naming the job.

import { RetouchError } from "../errors.ts";
import type { StoredError } from "../payments/index.ts";

export function storedError(error: unknown, jobId: string): StoredError {
  if (error instanceof RetouchError) {
    const stored: StoredError = { status: error.status, message: error.message, type: error.type, code: error.code, param: error.param };
    return Object.keys(error.headers).length > 0 ? { ...stored, headers: error.headers } : stored;
  }
  return {
    status: 500,
    message: `internal server error; quote job ${jobId} when reporting it. Nothing was charged.`,
    type: "server_error",
    code: "internal_error",
    param: null,
  };
}

export function restoredError(stored: StoredError): RetouchError {
  return new RetouchError(stored.message, {
    status: stored.status,
    type: stored.type as RetouchError["type"],
    code: stored.code,
    param: stored.param,
    headers: stored.headers,
  });
}
