// Which JSON-RPC endpoint the buyer tools use on each network: --base-rpc/--solana-rpc,
// else the devchain a local gateway advertises (GET /api/v1/devchain), else
// BASE_RPC_URL/SOLANA_RPC_URL, else the network's public endpoint. Callers that have
// not asked the gateway (planRpc) get the devchain's default ports for a local one.

import { z } from "zod";
import type { Network } from "../chains/index.ts";
import { CliError, EXIT, shortReason } from "./errors.ts";

export interface RpcFlags {
  baseRpc?: string;
  solanaRpc?: string;
  /** Set by planRpc: the gateway was asked for its devchain, so no port is guessed. */
  asked?: boolean;
}

/** The devchain's default ports, for a local gateway that was not asked (RETOUCH_DEVCHAIN_*_PORT move them). */
const DEFAULT_DEVCHAIN = { evm: "http://127.0.0.1:8545", solana: "http://127.0.0.1:8899" };

export const DEVCHAIN_PATH = "/api/v1/devchain";
const DISCOVERY_TIMEOUT_MS = 3000;

const DevchainRpcSchema = z.object({
  evm: z.object({ rpcUrl: z.string(), chainId: z.number(), network: z.string() }),
  solana: z.object({ rpcUrl: z.string(), network: z.string() }),
});
/** What a gateway running the devchain answers on GET /api/v1/devchain. */
export type DevchainRpc = z.infer<typeof DevchainRpcSchema>;

/** Where an endpoint came from, so a failure can say what to change. */
export interface RpcEndpoint {
  url: string;
  source: "flag" | "devchain" | "env" | "default-port" | "public";
}

/** An http(s) URL on this machine (a parse failure is not local). */
export function isLocalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const host = parsed.hostname;
  return (parsed.protocol === "http:" || parsed.protocol === "https:") && (host === "127.0.0.1" || host === "localhost" || host === "[::1]");
}

/**
 * The devchain's RPC endpoints when `gateway` is on this machine and runs one; undefined
 * otherwise (a remote gateway's loopback URLs would point at the wrong machine).
 */
export async function devchainOf(gateway: string): Promise<DevchainRpc | undefined> {
  if (!isLocalUrl(gateway)) return undefined;
  try {
    const response = await fetch(`${gateway}${DEVCHAIN_PATH}`, { redirect: "manual", signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
    if (response.status !== 200) {
      await response.body?.cancel();
      return undefined;
    }
    const parsed = DevchainRpcSchema.safeParse(await response.json());
    return parsed.success && isLocalUrl(parsed.data.evm.rpcUrl) && isLocalUrl(parsed.data.solana.rpcUrl) ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The endpoint for `network`; `devchain` is what the gateway advertised (see devchainOf). A setting that is not an http(s) URL is exit 2. */
export function rpcEndpoint(network: Network, gateway: string, flags: RpcFlags, env: NodeJS.ProcessEnv, devchain?: DevchainRpc): RpcEndpoint {
  const evm = network.family === "evm";
  const flag = evm ? flags.baseRpc : flags.solanaRpc;
  if (flag) return { url: httpUrl(flag, evm ? "--base-rpc" : "--solana-rpc"), source: "flag" };
  const local = evm ? devchain?.evm : devchain?.solana;
  if (local && local.network === network.caip2) return { url: local.rpcUrl, source: "devchain" };
  const fromEnv = evm ? env.BASE_RPC_URL : env.SOLANA_RPC_URL;
  if (fromEnv) return { url: httpUrl(fromEnv, evm ? "BASE_RPC_URL" : "SOLANA_RPC_URL"), source: "env" };
  if (!flags.asked && isLocalUrl(gateway)) return { url: evm ? DEFAULT_DEVCHAIN.evm : DEFAULT_DEVCHAIN.solana, source: "default-port" };
  return { url: network.publicRpcUrl, source: "public" };
}

function httpUrl(value: string, setting: string): string {
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== "http:" && protocol !== "https:") {
    throw new CliError(`${setting} is "${value}", which is not an http(s) URL of a JSON-RPC endpoint`, EXIT.usage, { code: "invalid_rpc_url" });
  }
  return value;
}

/** rpcEndpoint's URL without the gateway's devchain: pass planRpc's flags to follow it. */
export function rpcUrlFor(network: Network, gateway: string, flags: RpcFlags, env: NodeJS.ProcessEnv = process.env): string {
  return rpcEndpoint(network, gateway, flags, env).url;
}

/** The RPC endpoints of one command run: where each network is read, and why. */
export interface RpcPlan {
  endpoint(network: Network): RpcEndpoint;
  /**
   * The flags with the devchain's endpoints filled in when the local gateway runs one,
   * for code that takes flags (rpcUrlFor), so it reads the chain the gateway settles on.
   */
  flags: RpcFlags;
}

export async function planRpc(gateway: string, flags: RpcFlags, env: NodeJS.ProcessEnv): Promise<RpcPlan> {
  const devchain = await devchainOf(gateway);
  const asked = { ...flags, asked: true };
  return {
    endpoint: (network) => rpcEndpoint(network, gateway, asked, env, devchain),
    flags: devchain ? { ...asked, baseRpc: flags.baseRpc || devchain.evm.rpcUrl, solanaRpc: flags.solanaRpc || devchain.solana.rpcUrl } : asked,
  };
}

/** What to change when the endpoint does not answer, naming the variable and the flag. */
export function rpcFix(network: Network, endpoint: RpcEndpoint): string {
  const [variable, flag, chain] = network.family === "evm" ? ["BASE_RPC_URL", "--base-rpc", "Base"] : ["SOLANA_RPC_URL", "--solana-rpc", "Solana"];
  switch (endpoint.source) {
    case "flag":
      return `check ${flag}`;
    case "devchain":
      return `the gateway's devchain did not answer: is the gateway still running? (or set ${variable} / ${flag})`;
    case "env":
      return `check ${variable}, or pass ${flag}`;
    case "default-port":
      return `nothing answers on the devchain's default port: set ${variable} (or ${flag}) to the chain's JSON-RPC endpoint`;
    default:
      return `set ${variable} (or ${flag}) to a ${chain} JSON-RPC endpoint`;
  }
}

/** The error for an RPC that cannot be read (exit 5 everywhere), naming what to set. */
export function rpcUnreachable(network: Network, endpoint: RpcEndpoint, error: unknown, doing = "read balances"): CliError {
  return new CliError(`cannot ${doing} on ${network.name} from ${endpoint.url}: ${shortReason(error)}; ${rpcFix(network, endpoint)}`, EXIT.unreachable, {
    cause: error,
    code: "rpc_unreachable",
  });
}
