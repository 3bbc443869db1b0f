// A devchain gateway reachable over real HTTP, its public URL matching the port it
// listens on (result and poll URLs point back at it), for the buyer CLI's tests.
// With RETOUCH_PAYMENTS=off in `env` it takes no payments (and has no chains).

import type { TestGateway } from "../support/gateway.ts";
import { serveGateway } from "./cli.ts";

export interface HttpGateway {
  gw: TestGateway;
  url: string;
  /** The devchain's RPCs and funded buyer wallet file (dev-wallets.json); empty with payments off. */
  baseRpc: string;
  solanaRpc: string;
  buyerWallet: string;
  close(): Promise<void>;
}

export async function startHttpGateway(env: Record<string, string> = {}): Promise<HttpGateway> {
  const served = await serveGateway(env);
  return {
    gw: served.gw,
    url: served.url,
    baseRpc: served.rpcEnv.BASE_RPC_URL ?? "",
    solanaRpc: served.rpcEnv.SOLANA_RPC_URL ?? "",
    buyerWallet: served.buyerWallet ?? "",
    close: () => served.close(),
  };
}
