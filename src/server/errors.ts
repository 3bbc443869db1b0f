// Maps every failure to the OpenAI error envelope in one place. Unexpected
// errors become a 500 carrying the request id, never a stack trace.

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { RetouchError } from "../errors.ts";
import type { Logger } from "./observability.ts";

export function errorResponse(error: unknown, c: Context, logger: Logger): Response {
  if (error instanceof RetouchError) {
    if (error.status >= 500) logger.error({ req_id: c.get("requestId"), code: error.code, err: error }, error.message);
    return c.json(error.toJSON(), error.status as ContentfulStatusCode, error.headers);
  }
  if (error instanceof HTTPException && error.status < 500) {
    const wrapped = new RetouchError(error.message || "invalid request", {
      status: error.status,
      type: "invalid_request_error",
      code: "invalid_request",
    });
    return c.json(wrapped.toJSON(), error.status);
  }
  const requestId = c.get("requestId") as string | undefined;
  logger.error({ req_id: requestId, err: error }, "unexpected error");
  const internal = new RetouchError(`internal server error; quote request id ${requestId ?? "unknown"} when reporting it`, {
    status: 500,
    type: "server_error",
    code: "internal_error",
  });
  return c.json(internal.toJSON(), 500);
}

export function notFound(c: Context): Response {
  const error = new RetouchError(`no route for ${c.req.method} ${c.req.path}; see /docs`, {
    status: 404,
    type: "invalid_request_error",
    code: "not_found",
  });
  return c.json(error.toJSON(), 404);
}

export function payloadTooLarge(maxBytes: number): RetouchError {
  return new RetouchError(`request body is larger than the limit of ${maxBytes} bytes`, {
    status: 413,
    type: "invalid_request_error",
    code: "payload_too_large",
  });
}
