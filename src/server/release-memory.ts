// A burst of large uploads leaves their buffers to the next garbage collection, and a
// gateway that then sits idle never runs one: its memory would stay at the burst's
// height. Once the last large request has been answered, one collection hands it back.

import type { MiddlewareHandler } from "hono";
import { collectGarbageSoon } from "../engine/index.ts";

/** Bodies from this size on count as large (a 2-3 megapixel photo). */
const LARGE_BODY_BYTES = 4 * 1024 * 1024;

export function releaseAfterLargeBodies(threshold = LARGE_BODY_BYTES): MiddlewareHandler {
  let inFlight = 0;
  return async (c, next) => {
    if (!(Number(c.req.header("content-length")) >= threshold)) return next();
    inFlight++;
    try {
      await next();
    } finally {
      if (--inFlight === 0) collectGarbageSoon();
    }
  };
}
