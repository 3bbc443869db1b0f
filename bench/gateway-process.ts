// `retouch serve` as its own process for the benchmarks that measure it from
// outside (memory, body floods): a fresh data folder, a free port, its JSON log
// read line by line, and a SIGTERM stop that removes the folder.
// BENCH_GATEWAY=/path/to/another/checkout runs that checkout's gateway instead.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export const BENCH_ROOT = resolve(process.env.BENCH_GATEWAY ?? ".");

export interface BenchGateway {
  url: string;
  child: ChildProcess;
  close(): Promise<void>;
}

/**
 * Starts the gateway with `env` over quiet defaults; `onLog` sees every log line it prints, parsed.
 * `root`: the checkout whose gateway runs (BENCH_GATEWAY, else this one).
 */
export async function startBenchGateway(env: Record<string, string>, onLog?: (entry: Record<string, unknown>) => void, root = BENCH_ROOT): Promise<BenchGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-bench-"));
  const child = spawn(process.execPath, [join(root, "bin/retouch.js"), "serve"], {
    cwd: root,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: "0",
      RETOUCH_DATA_DIR: dataDir,
      RETOUCH_DEVCHAIN_EVM_PORT: "0",
      RETOUCH_DEVCHAIN_SOLANA_PORT: "0",
      RETOUCH_LIMIT_QUOTES_PER_MIN: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.once("exit", () => child.kill()); // not left behind if the benchmark fails
  const url = await new Promise<string>((listening, fail) => {
    child.once("exit", (code) => fail(new Error(`the gateway exited (${code}) before it listened`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return; // not a log line (a banner)
      }
      if (typeof entry.address === "string") listening(entry.address);
      onLog?.(entry);
    });
  });
  return {
    url,
    child,
    async close() {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
