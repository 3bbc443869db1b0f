// One error family for the whole gateway. Each error knows its HTTP status and
// its OpenAI-style type/code/param; the server maps it to a response in one place.

export type ErrorType =
  | "invalid_request_error"
  | "payment_required"
  | "rate_limit_error"
  | "server_error"
  | "timeout_error"
  | "upstream_error";

export interface RetouchErrorOptions {
  status: number;
  type: ErrorType;
  code: string;
  param?: string | null;
  cause?: unknown;
  /** Extra response headers (Retry-After, ...). */
  headers?: Record<string, string>;
  /** A body other than the error envelope (x402's 402 body). */
  body?: unknown;
}

export class RetouchError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  readonly body: unknown;

  constructor(message: string, options: RetouchErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "RetouchError";
    this.status = options.status;
    this.type = options.type;
    this.code = options.code;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
    this.body = options.body;
  }

  /** The response body: the OpenAI error envelope unless a body was given. */
  toJSON(): unknown {
    return this.body ?? { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400: the request cannot be served as sent; `param` names the field to fix. */
export function invalidRequest(param: string | null, message: string, code = "invalid_request"): RetouchError {
  return new RetouchError(message, { status: 400, type: "invalid_request_error", code, param });
}

/** 504: the upstream model or the embedded engine ran past its time budget. */
export function editTimedOut(ms: number): RetouchError {
  return new RetouchError(`the edit did not finish within ${ms} ms; nothing was charged`, {
    status: 504,
    type: "timeout_error",
    code: "edit_timeout",
  });
}
