// A devchain gateway reachable over real HTTP, its public URL matching the port it
// listens on (result and poll URLs point back at it), for the buyer CLI's tests.
// With RETOUCH_PAYMENTS=off in `env` it takes no payments (and has no chains).

import { createServer } from "node:net";
import { serve } from "@hono/node-server";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";

export interface HttpGateway {
  gw: TestGateway;
  url: string;
  /** The devchain's RPCs and funded buyer wallet file (dev-wallets.json); empty with payments off. */
  baseRpc: string;
  solanaRpc: string;
  buyerWallet: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startHttpGateway(env: Record<string, string> = {}): Promise<HttpGateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_PUBLIC_URL: url, ...env });
  const server = serve({ fetch: gw.gateway.app.fetch, hostname: "127.0.0.1", port });
  await new Promise((resolve) => server.once("listening", resolve));
  const devchain = gw.gateway.devchain;
  return {
    gw,
    url,
    baseRpc: devchain?.evm.rpcUrl ?? "",
    solanaRpc: devchain?.solana.rpcUrl ?? "",
    buyerWallet: devchain?.wallets.buyer.file ?? "",
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await gw.close();
    },
  };
}
