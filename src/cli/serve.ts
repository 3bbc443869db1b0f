// `retouch serve`: the gateway on HOST:PORT until SIGINT/SIGTERM.

import { serve } from "@hono/node-server";
import { createGateway } from "../compose.ts";
import { loadConfig } from "../config.ts";

export async function runServe(overrides: { host?: string; port?: string }): Promise<void> {
  const config = loadConfig({ ...process.env, ...definedOnly({ HOST: overrides.host, PORT: overrides.port }) });
  const gateway = await createGateway(config);
  const server = serve({ fetch: gateway.app.fetch, hostname: config.host, port: config.port }, (info) => {
    gateway.logger.info(
      { address: `http://${info.address}:${info.port}`, public_url: config.publicUrl, payments: config.payments.mode, networks: config.payments.networks, data_dir: config.dataDir },
      `retouch listening on http://${config.host}:${info.port} (docs: ${config.publicUrl}/docs)`,
    );
  });
  const stop = () => {
    gateway.logger.info("shutting down");
    server.close(() => void gateway.close().then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<string, string>;
}
