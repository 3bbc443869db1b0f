// What a running proxy needs to know, read once from flags and environment: the
// gateway, the wallet, the spending caps, and where images and the spend log go.

import { parseUnits } from "viem";
import { NETWORKS } from "../../chains/index.ts";
import { CliError, EXIT } from "../errors.ts";
import type { RpcFlags } from "../gateway.ts";
import { gatewayUrl } from "../gateway.ts";
import { expandHome, walletPath } from "../wallet-file.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./body.ts";

export const DEFAULT_PROXY_PORT = 8402;

export interface ProxyOptions extends RpcFlags {
  port?: string | number;
  gateway?: string;
  wallet?: string;
  network?: string;
  env?: NodeJS.ProcessEnv;
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
  pollIntervalMs: number;
  pollLimitMs: number;
}

export function spendLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return expandHome(env.RETOUCH_SPEND_LOG || "~/.retouch/spend.jsonl");
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
    maxPerRequest: usdCap(env, "RETOUCH_MAX_PER_REQUEST", "1"),
    maxPerDay: usdCap(env, "RETOUCH_MAX_PER_DAY", "10"),
    maxBodyBytes,
    imageDir: expandHome(env.RETOUCH_IMAGE_DIR || "~/.retouch/images"),
    spendLog: spendLogPath(env),
    pollIntervalMs: 2000,
    pollLimitMs: 10 * 60_000,
  };
}

function usdCap(env: NodeJS.ProcessEnv, name: string, fallback: string): bigint {
  const text = env[name] || fallback;
  if (!/^\d+(\.\d{1,6})?$/.test(text)) throw new CliError(`${name} must be an amount in USD such as 0.05, got "${text}"`, EXIT.usage);
  return parseUnits(text, 6);
}
