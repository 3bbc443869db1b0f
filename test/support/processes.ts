// Real `retouch` processes for tests that must see what an operator sees: the
// devchain with its facilitator, `retouch facilitator`, gateways in any mode.
// Each gets free ports and its own data folder; every line it prints is kept.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { BASE, SOLANA, walletFromKeys, type Network, type Wallet, type WalletKeys } from "../../src/chains/index.ts";
import { readBalance } from "../../src/client/balances.ts";
import { seedDatabase } from "./database-template.ts";
import { x402Client } from "@x402/core/client";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { createPublicClient, http } from "viem";

export interface RetouchProcess {
  child: ChildProcess;
  /** stdout and stderr lines so far, in order. */
  lines: string[];
  /** Resolves with the first line (so far or to come) that `match` accepts; rejects if the process exits first. */
  waitFor(match: (line: string) => boolean): Promise<string>;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** SIGTERM (or `signal`), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `retouch <args>` with `env` added to this process's environment. */
export function startRetouch(args: string[], env: Record<string, string>): RetouchProcess {
  const child = spawn(process.execPath, ["bin/retouch.js", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters = new Set<{ match: (line: string) => boolean; resolve: (line: string) => void }>();
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      for (const waiter of waiters) {
        if (!waiter.match(line)) continue;
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor(match) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.add({ match, resolve });
        void exited.then((code) => reject(new Error(`retouch ${args.join(" ")} exited (${code}) before the awaited line:\n${lines.join("\n")}`)));
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** A wallet key file (dev-wallets.json, dev-seller.json ...) as a wallet that signs on both chains. */
export async function readWalletFile(path: string): Promise<Wallet> {
  return walletFromKeys(path, JSON.parse(await readFile(path, "utf8")) as WalletKeys, (what) => new Error(`${path}: ${what}`));
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface DevchainProcess extends RetouchProcess {
  dataDir: string;
  evmRpc: string;
  solanaRpc: string;
  facilitatorUrl: string;
  buyer: Wallet;
  seller: Wallet;
  facilitator: Wallet;
  /** USDC (atomic units) of `address`'s wallet on base or solana, read over the devchain's RPC. */
  usdc(network: "base" | "solana", wallet: Wallet): Promise<bigint>;
  /** Stops the devchain and removes its data folder. */
  close(): Promise<void>;
}

/** `retouch devchain` on free ports, in its own data folder; resolves once its facilitator is up. */
export async function startDevchainProcess(env: Record<string, string> = {}): Promise<DevchainProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-devchain-"));
  const devchain = startRetouch(["devchain"], {
    RETOUCH_DATA_DIR: dataDir,
    RETOUCH_DEVCHAIN_EVM_PORT: "0",
    RETOUCH_DEVCHAIN_SOLANA_PORT: "0",
    RETOUCH_DEVCHAIN_FACILITATOR_PORT: "0",
    ...env,
  });
  const urlOf = async (prefix: RegExp) => (await devchain.waitFor((line) => prefix.test(line))).match(/http:\/\/[\d.]+:\d+/)![0];
  const evmRpc = await urlOf(/^Base \(local\)/);
  const solanaRpc = await urlOf(/^Solana \(local\)/);
  const facilitatorUrl = await urlOf(/^x402 facilitator/);
  const wallet = (file: string) => readWalletFile(join(dataDir, file));
  const rpcOf = (network: Network) => (network === BASE ? evmRpc : solanaRpc);
  return Object.assign(devchain, {
    dataDir,
    evmRpc,
    solanaRpc,
    facilitatorUrl,
    buyer: await wallet("dev-wallets.json"),
    seller: await wallet("dev-seller.json"),
    facilitator: await wallet("dev-facilitator.json"),
    async usdc(name: "base" | "solana", owner: Wallet) {
      const network = name === "base" ? BASE : SOLANA;
      return (await readBalance({ network, wallet: owner, rpcUrl: rpcOf(network) })).usdc;
    },
    async close() {
      await devchain.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}

export interface GatewayProcess extends RetouchProcess {
  url: string;
  port: number;
  dataDir: string;
  /** Stops the gateway and removes its data folder (unless the caller gave it). */
  close(): Promise<void>;
}

/**
 * `retouch serve` with `env`; resolves once it listens (rejects with its output if it exits first).
 * On a port the system picks (PORT=0: the gateway names it in its log and its public URL) and a
 * data folder of its own, removed by close(); or in `at`'s folder, which close() leaves for the caller,
 * and on its port if it names one (a restart of the same gateway).
 */
export async function startGatewayProcess(env: Record<string, string>, at?: { dataDir: string; port?: number }): Promise<GatewayProcess> {
  const dataDir = at?.dataDir ?? (await mkdtemp(join(tmpdir(), "retouch-gateway-")));
  const removeOwnFolder = () => (at ? Promise.resolve() : rm(dataDir, { recursive: true, force: true }));
  await seedDatabase(dataDir, env);
  const gateway = startRetouch(["serve"], { RETOUCH_DATA_DIR: dataDir, PORT: String(at?.port ?? 0), RETOUCH_ENGINE_THREADS: "1", ...env });
  try {
    return gatewayAt(gateway, listeningPort(await gateway.waitFor((line) => line.includes('"msg":"retouch listening'))), dataDir, removeOwnFolder);
  } catch (error) {
    await removeOwnFolder();
    throw error;
  }
}

/** The port in `retouch serve`'s "retouch listening" log line. */
export function listeningPort(line: string): number {
  return Number(new URL((JSON.parse(line) as { address: string }).address).port);
}

function gatewayAt(gateway: RetouchProcess, port: number, dataDir: string, removeOwnFolder: () => Promise<void>): GatewayProcess {
  return Object.assign(gateway, {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    async close() {
      await gateway.stop();
      await removeOwnFolder();
    },
  });
}

/** The environment of a gateway paid through `devchain` in remote mode (its facilitator) or self mode (its facilitator's keys). */
export function liveGatewayEnv(devchain: DevchainProcess, mode: "remote" | "self"): Record<string, string> {
  return {
    RETOUCH_PAYMENTS: mode,
    RETOUCH_NETWORKS: "base,solana",
    RETOUCH_PAY_TO_EVM: devchain.seller.evm.address,
    RETOUCH_PAY_TO_SOLANA: devchain.seller.solana.address,
    BASE_RPC_URL: devchain.evmRpc,
    SOLANA_RPC_URL: devchain.solanaRpc,
    ...(mode === "remote" ? { FACILITATOR_URL: devchain.facilitatorUrl } : { RETOUCH_FACILITATOR_KEYS: devchain.facilitator.file }),
  };
}

/** An x402 v2 client paying from `wallet` on base or solana through the devchain process's RPCs. */
export function rpcPayer(devchain: DevchainProcess, network: "base" | "solana", wallet: Wallet = devchain.buyer): x402Client {
  if (network === "base") {
    const reader = createPublicClient({ transport: http(devchain.evmRpc) });
    return new x402Client().register(BASE.caip2, new ExactEvmScheme(toClientEvmSigner(wallet.evm, reader)));
  }
  return new x402Client().register(SOLANA.caip2, new ExactSvmScheme(wallet.solana, { rpcUrl: devchain.solanaRpc }));
}

/** Runs `examples/pay.ts <network>` (the official @x402/fetch client) against `gateway`, paying from the devchain's buyer. */
export async function payWithExample(devchain: DevchainProcess, gatewayUrl: string, network: "base" | "solana"): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/pay.ts", network], {
    env: { ...process.env, RETOUCH_GATEWAY_URL: gatewayUrl, RETOUCH_WALLET: devchain.buyer.file, BASE_RPC_URL: devchain.evmRpc, SOLANA_RPC_URL: devchain.solanaRpc },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += String(chunk)));
  child.stderr!.on("data", (chunk) => (output += String(chunk)));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, output };
}
