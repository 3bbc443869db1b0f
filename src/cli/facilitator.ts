// `retouch facilitator`: a standalone x402 facilitator (POST /verify, POST /settle,
// GET /supported) that settles with the operator's own gas wallet for any number
// of gateways, over real RPCs or a devchain's. `retouch devchain` serves one too.

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { x402Facilitator } from "@x402/core/facilitator";
import { ConfigError, loadFacilitatorServiceConfig } from "../config.ts";
import { chainX402Facilitator, type ChainAccess } from "../payments/facilitator/chain.ts";
import { createFacilitatorMetrics, facilitatorApp } from "../payments/facilitator/service.ts";
import { readFacilitatorKeys, rpcChainAccess, watchGas } from "../payments/facilitator/self.ts";
import { createLogger, type Logger } from "../server/index.ts";
import { listenError } from "./listen-error.ts";

export const DEFAULT_FACILITATOR_PORT = 4022;

export interface FacilitatorService {
  url: string;
  close(): Promise<void>;
}

/** Serves `facilitator` on host:port until closed, watching the settlement wallet's gas. */
export async function serveFacilitator(options: {
  facilitator: x402Facilitator;
  access: ChainAccess;
  host: string;
  port: number;
  token?: string;
  logger: Logger;
}): Promise<FacilitatorService> {
  const metrics = createFacilitatorMetrics();
  const stopGasWatch = await watchGas(options.access, { gauge: metrics.gasBalance, warn: (facts, message) => options.logger.warn(facts, message) });
  const app = facilitatorApp({ facilitator: options.facilitator, logger: options.logger, metrics, token: options.token });
  const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  }).catch((error: unknown) => {
    stopGasWatch();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        stopGasWatch();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The command: reads its settings, connects to the chains, serves until SIGINT/SIGTERM. */
export async function runFacilitatorCommand(flags: { host?: string; port?: string }): Promise<void> {
  process.umask(0o077);
  const host = flags.host ?? "127.0.0.1";
  const port = Number(flags.port ?? DEFAULT_FACILITATOR_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number from 0 to 65535, got "${flags.port}"`);
  const config = loadFacilitatorServiceConfig(process.env, host);

  const logger = createLogger(config.logLevel).child({ component: "facilitator" });
  const wallet = await readFacilitatorKeys(config.keysFile);
  const chains = rpcChainAccess(wallet, config.networks, config.rpcUrls);
  const facilitator = chainX402Facilitator(chains, config.solanaFees);
  const service = await serveFacilitator({ facilitator, access: chains, host, port, token: config.token, logger }).catch((error: unknown) => {
    throw listenError(error, "--port to a free port") ?? error;
  });
  logger.info(
    { url: service.url, networks: config.networks, evm_signer: wallet.evm.address, solana_fee_payer: wallet.solana.address, auth: config.token ? "bearer" : "none (loopback)" },
    `retouch facilitator listening on ${service.url}`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  logger.info({ signal }, "shutting down");
  await service.close();
}
