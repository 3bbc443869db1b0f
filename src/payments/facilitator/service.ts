// `retouch facilitator`'s HTTP face: the standard x402 facilitator API
// (POST /verify, POST /settle, GET /supported) over one settlement wallet, so
// that many gateways share one nonce queue. Bearer-token auth, bounded bodies,
// a JSON log line per call (never the payment itself), /healthz and /metrics.

import { timingSafeEqual } from "node:crypto";
import type { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { Hono, type Context } from "hono";
import { requestId } from "hono/request-id";
import type { Logger } from "pino";
import { Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { z } from "zod";
import { limitedBody } from "../../server/streamed-limit.ts";

/** A payment payload and its requirements are a few kilobytes; nothing legitimate comes near this. */
export const MAX_FACILITATOR_BODY_BYTES = 64 * 1024;

export interface FacilitatorMetrics {
  registry: Registry;
  calls: Histogram<"operation" | "network" | "outcome">;
  gasBalance: Gauge<"network" | "address">;
}

export function createFacilitatorMetrics(): FacilitatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "retouch_facilitator_" });
  return {
    registry,
    calls: new Histogram({
      name: "retouch_facilitator_call_seconds",
      help: "verify and settle calls by network and outcome (valid, invalid, settled, refused, error), with their latency",
      labelNames: ["operation", "network", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    gasBalance: new Gauge({
      name: "retouch_facilitator_gas_balance",
      help: "the settlement wallet's native balance (ETH on EVM networks, SOL on Solana), by network",
      labelNames: ["network", "address"],
      registers: [registry],
    }),
  };
}

export interface FacilitatorServiceOptions {
  facilitator: x402Facilitator;
  logger: Logger;
  metrics: FacilitatorMetrics;
  /** Callers must send `Authorization: Bearer <token>` (everything but /healthz); unset = no auth (loopback only). */
  token?: string;
}

const callSchema = z.object({
  paymentPayload: z.looseObject({ x402Version: z.union([z.literal(1), z.literal(2)]), payload: z.record(z.string(), z.unknown()) }),
  paymentRequirements: z.looseObject({ scheme: z.string().max(64), network: z.string().max(128) }),
});
type Call = z.infer<typeof callSchema>;

type Env = { Variables: { requestId: string } };
type SupportedKind = ReturnType<x402Facilitator["getSupported"]>["kinds"][number];

export function facilitatorApp(options: FacilitatorServiceOptions): Hono<Env> {
  const { facilitator, logger, metrics } = options;
  // Registered once, before serving: what it settles never changes while it runs.
  const supported = facilitator.getSupported();
  const app = new Hono<Env>();
  app.use(requestId({ limitLength: 64 }));
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  if (options.token !== undefined) app.use(bearer(options.token));

  app.get("/supported", (c) => c.json(supported));
  app.get("/metrics", async (c) => c.body(await metrics.registry.metrics(), 200, { "Content-Type": metrics.registry.contentType }));

  app.post("/verify", async (c) => {
    const call = await readCall(c);
    if (call instanceof Response) return call;
    return observe(c, "verify", call, async () => {
      const unsupported = unsupportedReason(supported.kinds, call);
      if (unsupported) return { status: 400, body: { isValid: false, invalidReason: "unsupported_scheme", invalidMessage: unsupported }, outcome: "invalid" };
      const answer = await facilitator.verify(call.paymentPayload as unknown as PaymentPayload, call.paymentRequirements as unknown as PaymentRequirements);
      return { status: 200, body: answer, outcome: answer.isValid ? "valid" : "invalid", reason: answer.invalidReason, payer: answer.payer };
    });
  });

  app.post("/settle", async (c) => {
    const call = await readCall(c);
    if (call instanceof Response) return call;
    return observe(c, "settle", call, async () => {
      const unsupported = unsupportedReason(supported.kinds, call);
      if (unsupported) {
        const body = { success: false, errorReason: "unsupported_scheme", errorMessage: unsupported, transaction: "", network: call.paymentRequirements.network };
        return { status: 400, body, outcome: "refused" };
      }
      const answer = await facilitator.settle(call.paymentPayload as unknown as PaymentPayload, call.paymentRequirements as unknown as PaymentRequirements);
      return {
        status: 200,
        body: answer,
        outcome: answer.success ? "settled" : "refused",
        reason: answer.errorReason,
        payer: answer.payer,
        transaction: answer.transaction || undefined,
      };
    });
  });

  app.notFound((c) => c.json({ error: "not found: this facilitator serves POST /verify, POST /settle, GET /supported, /healthz and /metrics" }, 404));
  app.onError((error, c) => {
    logger.error({ req_id: c.get("requestId"), err: error }, "facilitator request failed");
    return c.json({ error: `internal error; request id ${c.get("requestId")}` }, 500);
  });

  /** Runs one verify or settle, logs it and counts it. An exception is a 500 without its text: it may carry an RPC URL and its key. */
  async function observe(
    c: Context<Env>,
    operation: "verify" | "settle",
    call: Call,
    run: () => Promise<{ status: 200 | 400; body: object; outcome: string; reason?: string; payer?: string; transaction?: string }>,
  ): Promise<Response> {
    const started = performance.now();
    const network = call.paymentRequirements.network;
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const { status, body, outcome, ...facts } = await run();
      metrics.calls.observe({ operation, network: knownNetwork(supported.kinds, network), outcome }, seconds());
      logger.info({ req_id: c.get("requestId"), operation, network, outcome, ...facts, ms: Math.round(seconds() * 1000) }, operation);
      return c.json(body, status);
    } catch (error) {
      metrics.calls.observe({ operation, network: knownNetwork(supported.kinds, network), outcome: "error" }, seconds());
      logger.error({ req_id: c.get("requestId"), operation, network, err: error, ms: Math.round(seconds() * 1000) }, `${operation} failed`);
      // No `isValid` / `success` in the body: the caller must not read this as a refusal (a settlement may have gone out).
      return c.json({ error: `${operation} failed inside the facilitator; request id ${c.get("requestId")}` }, 500);
    }
  }

  return app;
}

/** The body of a verify or settle call, or the 4xx answer that refuses it. */
async function readCall(c: Context<Env>): Promise<Call | Response> {
  let text: string;
  try {
    const body = limitedBody(c.req.raw, MAX_FACILITATOR_BODY_BYTES);
    text = body ? await new Response(body).text() : "";
  } catch {
    return c.json({ error: `the body is over ${MAX_FACILITATOR_BODY_BYTES} bytes` }, 413);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return c.json({ error: "the body must be JSON: { x402Version, paymentPayload, paymentRequirements }" }, 400);
  }
  const parsed = callSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return c.json({ error: `${issue.path.join(".") || "body"}: ${issue.message}` }, 400);
  }
  return parsed.data;
}

/** Why this facilitator cannot handle the call (scheme, network, x402 version), or undefined when it can. */
function unsupportedReason(kinds: SupportedKind[], call: Call): string | undefined {
  const { scheme, network } = call.paymentRequirements;
  const version = call.paymentPayload.x402Version;
  const served = kinds.some((kind) => kind.x402Version === version && kind.scheme === scheme && kind.network === network);
  return served ? undefined : `this facilitator does not settle x402 v${version} ${scheme} payments on ${network}`;
}

/** The network as a metric label: one of ours, or "other" (a caller must not create label values at will). */
function knownNetwork(kinds: SupportedKind[], network: string): string {
  return kinds.some((kind) => kind.network === network) ? network : "other";
}

function bearer(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return async (c: Context<Env>, next: () => Promise<void>) => {
    const given = Buffer.from(c.req.header("authorization") ?? "");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    return c.json({ error: "this facilitator needs Authorization: Bearer <RETOUCH_FACILITATOR_TOKEN>" }, 401, { "WWW-Authenticate": 'Bearer realm="facilitator"' });
  };
}
