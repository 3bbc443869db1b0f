// `retouch serve`: the gateway on HOST:PORT until SIGINT/SIGTERM.

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createGateway, type Gateway } from "../compose.ts";
import { metricsApp } from "../server/index.ts";
import { loadConfig } from "../config.ts";
import { tuneHeapForServing } from "../server/heap.ts";
import { reportFailure } from "../client/run.ts";
import { describeDevchain } from "./devchain.ts";
import { listenError } from "./listen-error.ts";

const DEVCHAIN_PORTS = "RETOUCH_DEVCHAIN_EVM_PORT / RETOUCH_DEVCHAIN_SOLANA_PORT to free ports (0 picks any)";

export async function runServe(overrides: { host?: string; port?: string }): Promise<void> {
  // Everything this process creates (ledger, results, logs of PGlite) is its owner's alone;
  // RETOUCH_FILES_GROUP_READ widens the results explicitly.
  process.umask(0o077);
  tuneHeapForServing();
  const settings = { ...process.env, ...definedOnly({ HOST: overrides.host, PORT: overrides.port }) };
  let config = loadConfig(settings);
  // The port is bound before the gateway starts: with PORT=0 the system picks it, and the public URL
  // (in result and poll URLs) must name the port it picked. Until the gateway is up: 503.
  let fetch: (request: Request) => Response | Promise<Response> = starting;
  const server = serve({ fetch: (request: Request) => fetch(request), hostname: config.host, port: config.port });
  const { address, port } = await new Promise<AddressInfo>((listening, failed) => {
    server.once("listening", () => listening(server.address() as AddressInfo));
    server.once("error", (error) => failed(listenError(error, "PORT (or --port) to a free port") ?? error));
  });
  if (port !== config.port) config = loadConfig({ ...settings, PORT: String(port) });
  const gateway = await createGateway(config).catch(async (error: unknown) => {
    await new Promise((closed) => server.close(closed));
    throw listenError(error, DEVCHAIN_PORTS) ?? error;
  });
  if (gateway.devchain) {
    const { evm, solana, wallets } = gateway.devchain;
    gateway.logger.info(
      { evm_rpc: evm.rpcUrl, solana_rpc: solana.rpcUrl, buyer_wallet: wallets.buyer.file, pay_to: gateway.rail?.networks.map((n) => n.payTo) },
      "devchain up: local Base and Solana with real USDC addresses; the buyer wallet holds 1,000 USDC on each",
    );
    // A human-readable summary for the terminal; the log line above carries the same facts.
    for (const line of describeDevchain(gateway.devchain).slice(0, -1)) process.stderr.write(`${line}\n`);
  }
  fetch = gateway.app.fetch;
  gateway.logger.info(
    { address: `http://${address}:${port}`, public_url: config.publicUrl, payments: config.payments.mode, networks: config.payments.networks, data_dir: config.dataDir },
    `retouch listening on http://${config.host}:${port} (docs: ${config.publicUrl}/docs)`,
  );
  server.on("error", (error) => {
    gateway.logger.error({ err: error }, "the HTTP server failed");
  });
  const metricsServer = config.metrics.listen && serveMetrics(gateway, config.metrics.listen);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // A deploy: no new connections; what is in flight (requests, their settlements, edits answered
    // 202) finishes within the grace, then the process exits 0. Past the grace, what still runs is
    // cut off uncharged; the same payment sent again runs it on another (or the next) process.
    gateway.logger.info({ grace_ms: config.shutdownGraceMs }, "shutting down: no new requests; finishing those in flight");
    metricsServer?.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const finished = Promise.all([closed, gateway.drain()]).then(() => "finished" as const);
    const late = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), config.shutdownGraceMs).unref());
    if ((await Promise.race([finished, late])) === "late") {
      gateway.logger.warn(
        { grace_ms: config.shutdownGraceMs },
        "shutdown grace (RETOUCH_SHUTDOWN_GRACE_MS) ran out: edits still running are cut off, not charged; the same payment sent again runs them",
      );
      if ("closeAllConnections" in server) server.closeAllConnections();
    }
    await gateway.close().catch((error: unknown) => gateway.logger.error({ err: error }, "closing after shutdown failed"));
    gateway.logger.info("stopped");
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}

/** /metrics on an address of its own (RETOUCH_METRICS_ADDR), e.g. loopback only, away from the public API. */
function serveMetrics(gateway: Gateway, listen: { host: string; port: number }) {
  const server = serve({ fetch: metricsApp(gateway.metrics, gateway.config.metrics.token).fetch, hostname: listen.host, port: listen.port }, (info) => {
    gateway.logger.info({ address: `${info.address}:${info.port}` }, `metrics on http://${listen.host.includes(":") ? `[${listen.host}]` : listen.host}:${info.port}/metrics`);
  });
  server.once("error", (error) => {
    reportFailure(listenError(error, "RETOUCH_METRICS_ADDR to a free address") ?? error);
    void gateway.close().finally(() => process.exit());
  });
  return server;
}

/** The answer while the gateway starts (its chains, database and engine): try again in a moment. */
function starting(): Response {
  const error = { message: "retouch is starting; try again in a moment", type: "server_error", param: null, code: "starting" };
  return Response.json({ error }, { status: 503, headers: { "retry-after": "1" } });
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<string, string>;
}
