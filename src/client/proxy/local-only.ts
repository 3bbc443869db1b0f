// The proxy spends the user's money, so only this machine's programs may use it: a
// browser page on another site (Origin) or a rebound DNS name (Host) is refused.

import type { MiddlewareHandler } from "hono";
import { RetouchError } from "../../errors.ts";
import { errorResponse } from "./errors.ts";

const LOCAL_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

export const localOnly: MiddlewareHandler = async (c, next) => {
  const host = c.req.header("host") ?? "";
  const origin = c.req.header("origin");
  if (!LOCAL_HOST.test(host) || (origin !== undefined && !LOCAL_HOST.test(hostOf(origin)))) {
    return errorResponse(
      new RetouchError("the retouch proxy only serves programs on this machine (Host and Origin must be localhost)", {
        status: 403,
        type: "invalid_request_error",
        code: "not_local",
      }),
    );
  }
  await next();
};

function hostOf(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return "";
  }
}
