// What a running proxy needs to know, read once from flags and environment: the
// gateway, the wallet, the spending caps, and where images, the spend log and
// pending payments go (all in the state folder, RETOUCH_HOME or ~/.retouch, by default).

import { join } from "node:path";
import { NETWORKS } from "../../chains/index.ts";
import { CliError, EXIT } from "../errors.ts";
import type { RpcFlags } from "../gateway.ts";
import { gatewayUrl } from "../gateway.ts";
import { pendingDir } from "../pending.ts";
import { spendCaps } from "../spend-caps.ts";
import { spendLogPath } from "../spend-ledger.ts";
import { retouchHome } from "../state-folder.ts";
import { expandHome, walletPath } from "../wallet-file.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./body.ts";

export const DEFAULT_PROXY_PORT = 8402;

export interface ProxyOptions extends RpcFlags {
  port?: string | number;
  gateway?: string;
  wallet?: string;
  network?: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait between polls of a slow edit (default 2 s). */
  pollIntervalMs?: number;
}

export interface ProxySettings {
  port: number;
  gateway: string;
  walletFile: string;
  network?: string;
  rpc: RpcFlags;
  env: NodeJS.ProcessEnv;
  /** Atomic USDC units (6 decimals). */
  maxPerRequest: bigint;
  maxPerDay: bigint;
  maxBodyBytes: number;
  imageDir: string;
  spendLog: string;
  pendingDir: string;
  pollIntervalMs: number;
  pollLimitMs: number;
}

export function proxySettings(options: ProxyOptions): ProxySettings {
  const env = options.env ?? process.env;
  const port = Number(options.port ?? DEFAULT_PROXY_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be a port number, got "${options.port}"`, EXIT.usage);
  if (options.network && !Object.hasOwn(NETWORKS, options.network)) {
    throw new CliError(`--network must be one of ${Object.keys(NETWORKS).join(", ")}, got "${options.network}"`, EXIT.usage);
  }
  const maxBodyBytes = Number(env.RETOUCH_PROXY_MAX_BODY_BYTES || DEFAULT_MAX_BODY_BYTES);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new CliError(`RETOUCH_PROXY_MAX_BODY_BYTES must be a number of bytes, got "${env.RETOUCH_PROXY_MAX_BODY_BYTES}"`, EXIT.usage);
  }
  return {
    port,
    gateway: gatewayUrl(options.gateway, env),
    walletFile: walletPath(options.wallet, env),
    network: options.network,
    rpc: { baseRpc: options.baseRpc, solanaRpc: options.solanaRpc },
    env,
    ...spendCaps(env),
    maxBodyBytes,
    imageDir: env.RETOUCH_IMAGE_DIR ? expandHome(env.RETOUCH_IMAGE_DIR) : join(retouchHome(env), "images"),
    spendLog: spendLogPath(env),
    pendingDir: pendingDir(env),
    pollIntervalMs: options.pollIntervalMs ?? 2000,
    pollLimitMs: 10 * 60_000,
  };
}

