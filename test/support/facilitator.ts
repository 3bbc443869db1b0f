// A loopback x402 facilitator over HTTP, backed by a devchain, that a test can
// switch into the ways a real one fails: down, erroring, hanging, refusing, or
// settling on the chain and then losing the answer.

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

export const REFUSAL = { success: false, errorReason: "unexpected_settle_error", transaction: "", network: "" } as const;

export async function startTestFacilitator(devchain: Devchain): Promise<TestFacilitator> {
  const facilitator = devchainX402Facilitator(devchain);
  const state: Pick<TestFacilitator, "verify" | "settle" | "settlements"> = {
    verify: "answer",
    settle: "answer",
    settlements: [],
  };
  const api = new Hono<{ Bindings: HttpBindings }>();

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
    url: `http://127.0.0.1:${port}`,
    down,
    up: () => new Promise<void>((resolve) => (server.listening ? resolve() : server.listen(port, "127.0.0.1", resolve))),
    close: down,
  });
}
