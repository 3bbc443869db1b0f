// What the buyer CLI's tests share: the real `node bin/retouch.js` process with a
// clean environment of the test's own, a gateway over HTTP in any payments mode, a
// small photo and mask on disk, and the buyer's USDC read from the devchain.

import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { makeScene, squareMask } from "../support/scene.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { listenFirst } from "../support/listen-first.ts";

export const ROOT = join(import.meta.dirname, "../..");
/** local/content-aware-fill: $0.001. */
export const PRICE = 1000n;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The variables a user's shell might set that would change what the CLI does: never inherited. */
const OURS = /^(RETOUCH_|BASE_RPC_URL$|SOLANA_RPC_URL$|BASE_SEPOLIA_RPC_URL$)/;

export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !OURS.test(name)));
  return { ...clean, ...env };
}

/** Runs `retouch ...args` to its end. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(process.execPath, ["bin/retouch.js", ...args], { cwd: ROOT, env: cliEnv(env) });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** A port free now (for a port that must be closed, or one a process binds at once). */
export { freePort } from "../support/processes.ts";

export interface ServedGateway {
  gw: TestGateway;
  url: string;
  /** The devchain's funded buyer wallet file; undefined with payments off. */
  buyerWallet?: string;
  /** BASE_RPC_URL and SOLANA_RPC_URL of its devchain (empty with payments off). */
  rpcEnv: Record<string, string>;
  /** The buyer's USDC on the devchain (atomic units). */
  usdc(network: "base" | "solana"): Promise<bigint>;
  close(): Promise<void>;
}

/** A gateway (devchain payments unless `env` says otherwise) on a free port over real HTTP. */
export async function serveGateway(env: Record<string, string> = {}): Promise<ServedGateway> {
  const server = await listenFirst();
  const url = server.url;
  const gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_PUBLIC_URL: url, ...env }).catch(async (error: unknown) => {
    await server.close();
    throw error;
  });
  server.use(gw.gateway.app.fetch);
  const devchain = gw.gateway.devchain;
  return {
    gw,
    url,
    buyerWallet: devchain?.wallets.buyer.file,
    rpcEnv: devchain ? { BASE_RPC_URL: devchain.evm.rpcUrl, SOLANA_RPC_URL: devchain.solana.rpcUrl } : {},
    usdc(network) {
      if (!devchain) throw new Error("this gateway runs no devchain");
      const buyer = devchain.wallets.buyer;
      return devchain.usdcBalance(network, network === "base" ? buyer.evm.address : buyer.solana.address);
    },
    async close() {
      await server.close();
      await gw.close();
    },
  };
}

/** Both chains' balances, to compare before and after a refusal. */
export async function bothBalances(gateway: ServedGateway): Promise<[bigint, bigint]> {
  return [await gateway.usdc("base"), await gateway.usdc("solana")];
}

/** A 64x64 photo with a red ball and the mask that covers it, written into `dir`. */
export async function writePhotoAndMask(dir: string, size = 64): Promise<{ photo: string; mask: string }> {
  const scene = makeScene({ width: size, height: size });
  const photo = join(dir, "photo.png");
  const mask = join(dir, "mask.png");
  await writeFile(photo, await sharp(scene.rgb, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer());
  const pixels = squareMask(size, size, scene.disc.cx, scene.disc.cy, scene.disc.r * 2 + 6);
  await writeFile(mask, await sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png().toBuffer());
  return { photo, mask };
}

/** The single JSON object stdout must be under --json (fails the test otherwise). */
export function onlyJson(run: CliRun): Record<string, unknown> & { ok: boolean } {
  const lines = run.stdout.split("\n").filter((line) => line !== "");
  if (lines.length !== 1) throw new Error(`stdout is not exactly one line:\n${run.stdout}\nstderr:\n${run.stderr}`);
  const value = JSON.parse(lines[0]) as unknown;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`stdout is not one object: ${lines[0]}`);
  return value as Record<string, unknown> & { ok: boolean };
}
