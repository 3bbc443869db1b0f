// A loopback x402 facilitator over HTTP, backed by a devchain, that a test can
// switch into the ways a real one fails: down, erroring, hanging, refusing, or
// settling on the chain and then losing the answer. A guard in front of it checks
// each request as a provider does (its auth) and refuses what does not pass.

import { verify as verifySignature, type KeyObject } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type HttpBindings } from "@hono/node-server";
import type { SettleResponse } from "@x402/core/types";
import { Hono } from "hono";
import type { Devchain } from "../../src/chains/index.ts";
import { devchainX402Facilitator } from "../../src/payments/index.ts";

/** `answer`: the real facilitator answers; `error`: 500 without doing anything; `drop`: the connection is cut. */
export type VerifyBehaviour = "answer" | "error" | "drop";

/**
 * Besides the verify behaviours: `hang` never answers (until the caller gives up),
 * `refuse` answers `{success: false}` without touching the chain, and
 * `settle-then-error` / `settle-then-drop` settle on the chain for real and then fail to say so.
 */
export type SettleBehaviour = VerifyBehaviour | "hang" | "refuse" | "settle-then-error" | "settle-then-drop";

export interface TestFacilitator {
  url: string;
  /** How the coming /verify requests are answered. */
  verify: VerifyBehaviour;
  /** How the coming /settle requests are answered. */
  settle: SettleBehaviour;
  /** The settlements that moved money on chain, whether or not the caller heard about them. */
  settlements: SettleResponse[];
  /** Stops listening and cuts every connection: the facilitator is down until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Looks at a request before the facilitator does: a Response refuses it, undefined lets it through. */
export type RequestGuard = (request: Request) => Response | undefined | Promise<Response | undefined>;

export interface TestFacilitatorOptions {
  /** Where the API is mounted, e.g. "/platform/v2/x402" as on api.cdp.coinbase.com. */
  basePath?: string;
  guard?: RequestGuard;
}

/**
 * The header and claims of a compact JWS in an `Authorization: Bearer` header, once its signature
 * checks out with `publicKey` (ES256 or EdDSA, as the header says); throws saying what is wrong.
 */
export function verifiedJwt(authorization: string | null, publicKey: KeyObject): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const token = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization ?? "");
  if (!token) throw new Error("no bearer JWT");
  const [, header64, claims64, signature64] = token;
  const header = JSON.parse(Buffer.from(header64, "base64url").toString()) as Record<string, unknown>;
  const data = Buffer.from(`${header64}.${claims64}`);
  const signature = Buffer.from(signature64, "base64url");
  const valid =
    header.alg === "ES256" ? verifySignature("sha256", data, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)
    : header.alg === "EdDSA" ? verifySignature(null, data, publicKey, signature)
    : false;
  if (!valid) throw new Error(`bad signature (alg ${String(header.alg)})`);
  return { header, claims: JSON.parse(Buffer.from(claims64, "base64url").toString()) as Record<string, unknown> };
}

export const REFUSAL = { success: false, errorReason: "unexpected_settle_error", transaction: "", network: "" } as const;

export async function startTestFacilitator(devchain: Devchain, options: TestFacilitatorOptions = {}): Promise<TestFacilitator> {
  const facilitator = devchainX402Facilitator(devchain);
  const state: Pick<TestFacilitator, "verify" | "settle" | "settlements"> = {
    verify: "answer",
    settle: "answer",
    settlements: [],
  };
  const api = new Hono<{ Bindings: HttpBindings }>().basePath(options.basePath ?? "/");
  const guard = options.guard;
  if (guard) api.use(async (c, next) => (await guard(c.req.raw)) ?? next());

  /** Cuts the TCP connection, so the caller sees a socket error and no status at all. */
  const drop = (env: HttpBindings) => {
    env.incoming.socket.destroy();
    return closed(env);
  };
  /** Resolves once the caller has hung up (or the server closed): the answer no one reads. */
  const closed = (env: HttpBindings) =>
    new Promise<Response>((resolve) => {
      const done = () => resolve(new Response(null, { status: 500 }));
      if (env.outgoing.destroyed) done();
      else env.outgoing.once("close", done);
    });
  const serverError = () => Response.json({ error: "internal error" }, { status: 500 });

  api.get("/supported", (c) => c.json(facilitator.getSupported()));
  api.post("/verify", async (c) => {
    const behaviour = state.verify;
    if (behaviour === "error") return serverError();
    if (behaviour === "drop") return drop(c.env);
    const { paymentPayload, paymentRequirements } = await c.req.json();
    return c.json(await facilitator.verify(paymentPayload, paymentRequirements));
  });
  api.post("/settle", async (c) => {
    const behaviour = state.settle;
    if (behaviour === "error") return serverError();
    if (behaviour === "drop") return drop(c.env);
    if (behaviour === "hang") return closed(c.env);
    if (behaviour === "refuse") return c.json(REFUSAL);
    const { paymentPayload, paymentRequirements } = await c.req.json();
    const answer = await facilitator.settle(paymentPayload, paymentRequirements);
    if (answer.success) state.settlements.push(answer);
    if (behaviour === "settle-then-error") return serverError();
    if (behaviour === "settle-then-drop") return drop(c.env);
    return c.json(answer);
  });

  const server = serve({ fetch: api.fetch, hostname: "127.0.0.1", port: 0 }) as Server;
  // Longer than any pause in a test, so a kept-alive connection is never closed under a caller's
  // feet (a stale-socket reset would read as a facilitator failure the test did not ask for).
  server.keepAliveTimeout = 120_000;
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  const down = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}${options.basePath ?? ""}`,
    down,
    up: () => new Promise<void>((resolve) => (server.listening ? resolve() : server.listen(port, "127.0.0.1", resolve))),
    close: down,
  });
}
