// GET /api/v1/devchain: where the local chains of a devchain gateway answer, so
// buyer tools find them without being told the ports; POST /api/v1/devchain/faucet:
// test USDC for a wallet made in the browser. Both 404 in any other mode.

import { FaucetRefusal } from "../../chains/index.ts";
import { RetouchError } from "../../errors.ts";
import type { App, ServerDeps } from "../context.ts";
import { notFound } from "../errors.ts";
import { DevchainInfo, ErrorBody, FaucetGiftBody, FaucetRequest } from "../schemas.ts";
import { limitedBody } from "../streamed-limit.ts";

/** A faucet request is one address: a few hundred bytes at most. */
const FAUCET_BODY_BYTES = 1024;

export function registerDevchain(app: App, deps: ServerDeps): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/v1/devchain",
    summary: "The local chains' JSON-RPC endpoints (RETOUCH_PAYMENTS=devchain only)",
    responses: {
      200: { description: "The devchain's Base and Solana endpoints", content: { "application/json": { schema: DevchainInfo } } },
      404: { description: "This gateway does not run a devchain", content: { "application/json": { schema: ErrorBody } } },
    },
  });

  app.get("/api/v1/devchain", (c) => (deps.devchain ? c.json(deps.devchain) : notFound(c)));
}

export function registerFaucet(app: App, deps: ServerDeps): void {
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/api/v1/devchain/faucet",
    summary: "Test USDC and a little gas for a wallet on the devchain (RETOUCH_PAYMENTS=devchain only)",
    description: "10 USDC per call, at most 50 USDC per address; gas topped up to 0.001 ETH or 0.01 SOL. The address says the chain (0x... Base, base58 Solana).",
    request: { body: { content: { "application/json": { schema: FaucetRequest } } } },
    responses: {
      200: { description: "Funded", content: { "application/json": { schema: FaucetGiftBody } } },
      400: { description: "Not an address", content: { "application/json": { schema: ErrorBody } } },
      404: { description: "This gateway does not run a devchain", content: { "application/json": { schema: ErrorBody } } },
      429: { description: "This address has had its limit", content: { "application/json": { schema: ErrorBody } } },
    },
  });

  app.post("/api/v1/devchain/faucet", async (c) => {
    if (!deps.faucet) return notFound(c);
    const text = await new Response(limitedBody(c.req.raw, FAUCET_BODY_BYTES)).text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const parsed = FaucetRequest.safeParse(body);
    if (!parsed.success) {
      throw new RetouchError('the body must be JSON {"address": "0x... or a Solana address"}', { status: 400, type: "invalid_request_error", code: "invalid_request", param: "address" });
    }
    try {
      const gift = await deps.faucet.give(parsed.data.address);
      return c.json({
        network: gift.network,
        address: gift.address,
        usdc: gift.usdc.toString(),
        usdc_total: gift.usdcTotal.toString(),
        gas: gift.gas.toString(),
      });
    } catch (error) {
      if (!(error instanceof FaucetRefusal)) throw error;
      const limited = error.reason === "limit";
      throw new RetouchError(error.message, {
        status: limited ? 429 : 400,
        type: limited ? "rate_limit_error" : "invalid_request_error",
        code: limited ? "faucet_limit" : "invalid_address",
        param: limited ? null : "address",
      });
    }
  });
}
