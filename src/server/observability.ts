// Logs and metrics: one JSON log line per request (with its id, never bodies,
// images or keys) and Prometheus counters/histograms on their own registry.

import type { MiddlewareHandler } from "hono";
import { pino, stdSerializers, type DestinationStream, type Logger } from "pino";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type { Logger };

/** JSON lines to stdout, or to `destination` (tests). Errors are logged through `safeError`. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { service: "retouch" }, redact: ["*.authorization", "*.apiKey", "*.privateKey"], serializers: { err: safeError } };
  return destination ? pino(options, destination) : pino(options);
}

const URL_IN_TEXT = /\b(?:https?|wss?):\/\/[^\s"'<>\\]+/gi;

/**
 * `text` with every URL cut to its origin: RPC providers put the API key in the path
 * (".../v2/<key>") or the query, and viem quotes the URL in its errors. viem's "Request body:"
 * line, which holds a signed payment transaction, goes too.
 *
 * @example
 * withoutSecrets("HTTP request failed. URL: https://base-mainnet.g.alchemy.com/v2/abc") // "HTTP request failed. URL: https://base-mainnet.g.alchemy.com/[redacted]"
 */
export function withoutSecrets(text: string): string {
  return text.replace(/Request body: .*/g, "Request body: [redacted]").replace(URL_IN_TEXT, (found) => {
    try {
      const url = new URL(found);
      const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
      return bare ? url.origin : `${url.origin}/[redacted]`;
    } catch {
      return "[redacted]";
    }
  });
}

/**
 * pino's error serializer, with `withoutSecrets` applied to every string in the result (causes
 * included) and a request `body` (viem keeps the JSON-RPC call there) left out.
 */
export function safeError(error: Error): unknown {
  const scrub = (value: unknown, depth: number): unknown => {
    if (typeof value === "string") return withoutSecrets(value);
    if (depth > 4 || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, key === "body" ? "[redacted]" : scrub(item, depth + 1)]));
  };
  return scrub(stdSerializers.err(error), 0);
}

export interface Metrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  editSeconds: Histogram<"model" | "outcome">;
  upstreamErrors: Counter<"provider" | "model" | "code">;
  limitRejections: Counter<"kind">;
  /** RETOUCH_PAYMENTS=self: the settlement wallet's native balance, in ETH or SOL. */
  gasBalance: Gauge<"network" | "address">;
  /** Queued edits (REDIS_URL): how long each waited for a worker and ran there, by model. */
  queueWaitSeconds: Histogram<"model">;
  queueRunSeconds: Histogram<"model">;
  /** Reports the queue's depth on every scrape (retouch_queue_jobs). */
  watchQueue(counts: () => Promise<{ lane: string; waiting: number; active: number }[]>): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "retouch_" });
  let queueCounts: (() => Promise<{ lane: string; waiting: number; active: number }[]>) | undefined;
  new Gauge({
    name: "retouch_queue_jobs",
    help: "Edits by lane (provider) and state: waiting (for a worker of the queue, or embedded for RETOUCH_LIMIT_PROVIDER_INFLIGHT), or active",
    labelNames: ["lane", "state"],
    registers: [registry],
    async collect() {
      if (!queueCounts) return;
      this.reset();
      for (const { lane, waiting, active } of await queueCounts().catch(() => [])) {
        this.set({ lane, state: "waiting" }, waiting);
        this.set({ lane, state: "active" }, active);
      }
    },
  });
  const queueBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
  return {
    registry,
    queueWaitSeconds: new Histogram({
      name: "retouch_queue_wait_seconds",
      help: "Time a queued edit waited for a worker, by model",
      labelNames: ["model"],
      buckets: queueBuckets,
      registers: [registry],
    }),
    queueRunSeconds: new Histogram({
      name: "retouch_queue_run_seconds",
      help: "Time a queued edit ran on its worker (provider + storage), by model",
      labelNames: ["model"],
      buckets: queueBuckets,
      registers: [registry],
    }),
    watchQueue(counts) {
      queueCounts = counts;
    },
    requests: new Counter({
      name: "retouch_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    editSeconds: new Histogram({
      name: "retouch_edit_duration_seconds",
      help: "Time to run an edit (provider + storage), by model and outcome",
      labelNames: ["model", "outcome"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: "retouch_upstream_errors_total",
      help: "Models that failed an edit, by provider and error code (upstream_quota_exhausted: the operator's account is out of credit)",
      labelNames: ["provider", "model", "code"],
      registers: [registry],
    }),
    limitRejections: new Counter({
      name: "retouch_limit_rejections_total",
      help: "Requests answered 429 by a limit: quotes (unpaid requests per client address), payer_concurrency (paid edits at once per payer)",
      labelNames: ["kind"],
      registers: [registry],
    }),
    gasBalance: new Gauge({
      name: "retouch_facilitator_gas_balance",
      help: "RETOUCH_PAYMENTS=self: the settlement wallet's native balance (ETH on EVM networks, SOL on Solana), by network",
      labelNames: ["network", "address"],
      registers: [registry],
    }),
  };
}

/** Counts and logs every request once it has been answered. */
export function observeRequests(logger: Logger, metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath === "/*" ? "unmatched" : c.req.routePath;
    const status = c.res.status;
    metrics.requests.inc({ method: c.req.method, route, status: String(status) });
    logger.info(
      { req_id: c.get("requestId"), method: c.req.method, route, status, ms: Math.round(performance.now() - started) },
      "request",
    );
  };
}
