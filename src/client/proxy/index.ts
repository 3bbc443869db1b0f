// `retouch proxy`: an OpenAI-compatible image edit endpoint on 127.0.0.1 that pays the
// gateway from the user's wallet within spending caps and keeps the results locally.

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { CliError, EXIT } from "../errors.ts";
import { SpendLedger } from "../spend-ledger.ts";
import { ensurePrivateDir, ensureStateFolder } from "../state-folder.ts";
import { loadWalletFile } from "../wallet-file.ts";
import { proxyApp } from "./app.ts";
import type { ProxyContext } from "./context.ts";
import { proxySettings, type ProxyOptions, type ProxySettings } from "./settings.ts";

export interface RunningProxy {
  url: string;
  port: number;
  settings: ProxySettings;
  close(): Promise<void>;
}

/**
 * @example
 * const proxy = await startProxy({ port: 0, gateway: "http://127.0.0.1:4021", env: process.env });
 * // new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "x" }).images.edit(...)
 */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const settings = proxySettings(options);
  const wallet = await loadWalletFile(settings.walletFile);
  // Opened here so that a bad RETOUCH_SPEND_LOG stops the start, not the first paid edit.
  await ensureStateFolder(settings.env);
  await SpendLedger.open(settings.spendLog);
  await ensurePrivateDir(settings.imageDir, "RETOUCH_IMAGE_DIR");
  let url = "";
  const ctx: ProxyContext = { settings, wallet, publicUrl: () => url };
  const server = serve({ fetch: proxyApp(ctx).fetch, hostname: "127.0.0.1", port: settings.port });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new CliError(`port ${settings.port} is in use (another retouch proxy?); pick another with --port`, EXIT.usage)
          : error,
      ),
    );
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://localhost:${port}`;
  return {
    url,
    port,
    settings,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
