// Cross-origin access to the public API, so that a web app on another site can
// quote, pay and read an edit from the browser with x402's own client. The
// payment is the authorisation: no cookies are read, so no credentials mode.
// Operations routes (/healthz, /readyz, /metrics, /docs) are never opened.

import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { CorsOrigins } from "../config.ts";
import { SIWX_HEADER } from "../payments/siwx.ts";
import type { App } from "./context.ts";

/** Routes a page on another origin may call. */
export const CORS_ROUTES = ["/api/*", "/v1/*", "/openapi.json"] as const;

/** Request headers a page may send (the preflight's Access-Control-Allow-Headers). */
export const CORS_REQUEST_HEADERS = [
  "Content-Type",
  "PAYMENT-SIGNATURE", // x402 v2 payment
  "X-PAYMENT", // x402 v1 payment
  SIWX_HEADER, // polls signed by the wallet that paid
  // @x402/fetch sets it on its paid retry (asking for PAYMENT-RESPONSE); without it the preflight fails.
  "Access-Control-Expose-Headers",
  "X-Request-Id",
] as const;

/** Answer headers a page may read (Access-Control-Expose-Headers), on successes and errors alike. */
export const CORS_EXPOSED_HEADERS = [
  "PAYMENT-REQUIRED", // the 402's offer (v2)
  "PAYMENT-RESPONSE", // the settlement (v2)
  "X-PAYMENT-RESPONSE", // the settlement (v1)
  "Retry-After", // 202, 429, 503
  "X-Request-Id", // what to quote when asking for help
  "ETag", // results
] as const;

/** Browsers cap it (Chromium at 2 h); long enough that a page does not preflight every edit. */
export const CORS_MAX_AGE_SECONDS = 7200;

export function publicApiCors(origins: Exclude<CorsOrigins, "off">): MiddlewareHandler {
  return cors({
    origin: origins,
    allowMethods: ["GET", "HEAD", "POST", "OPTIONS"],
    allowHeaders: [...CORS_REQUEST_HEADERS],
    exposeHeaders: [...CORS_EXPOSED_HEADERS],
    maxAge: CORS_MAX_AGE_SECONDS,
  });
}

/** Opens the public API's routes to the configured origins (none when `off`). */
export function allowCrossOrigin(app: App, origins: CorsOrigins): void {
  if (origins === "off") return;
  const middleware = publicApiCors(origins);
  for (const route of CORS_ROUTES) app.use(route, middleware);
}
