// Starts a real gateway (real engine, real disk) on a temp data dir for a test,
// answering in-process through Hono's fetch, with its log lines captured.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import sharp from "sharp";
import { createGateway, type Gateway } from "../../src/compose.ts";
import { loadConfig, type Config } from "../../src/config.ts";
import { createLogger } from "../../src/server/observability.ts";
import { seedDatabase } from "./database-template.ts";

export interface TestGateway {
  config: Config;
  gateway: Gateway;
  logs: string[];
  request(path: string, init?: RequestInit): Promise<Response>;
  postJson(body: unknown, path?: string): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Payments are off unless `env` turns them on; a devchain gets random ports.
 * `dataDir` reuses a folder (a restart); otherwise a fresh temp folder is made and removed on close.
 */
export async function startTestGateway(env: Record<string, string> = {}, dataDir?: string): Promise<TestGateway> {
  const ownDir = dataDir === undefined;
  dataDir ??= await mkdtemp(join(tmpdir(), "retouch-test-"));
  await seedDatabase(dataDir, env);
  const config = loadConfig({
    RETOUCH_DATA_DIR: dataDir,
    RETOUCH_ENGINE_THREADS: "1",
    RETOUCH_PAYMENTS: "off",
    RETOUCH_DEVCHAIN_EVM_PORT: "0",
    RETOUCH_DEVCHAIN_SOLANA_PORT: "0",
    // Requests here all come from one address ("unknown": no socket) and tests fire many: the
    // limits are tested on their own (test/limits.test.ts), with the values each test sets.
    RETOUCH_LIMIT_QUOTES_PER_MIN: "0",
    RETOUCH_LIMIT_PAYER_CONCURRENCY: "0",
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  // The production logger (its error serializer keeps RPC keys out), writing here.
  const gateway = await createGateway(config, { logger: createLogger("info", sink) });
  const request = (path: string, init?: RequestInit) =>
    Promise.resolve(gateway.app.fetch(new Request(new URL(path, config.publicUrl), init)));
  return {
    config,
    gateway,
    logs,
    request,
    postJson: (body, path = "/api/v1/images/image2image") =>
      request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    async close() {
      await gateway.close();
      if (ownDir) await rm(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** A solid-colour picture of the given size and format. */
export async function solidImage(
  width: number,
  height: number,
  format: "png" | "jpeg" | "webp" = "png",
  colour = "#3a7",
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).toFormat(format).toBuffer();
}

export function dataUri(bytes: Uint8Array, type = "image/png"): string {
  return `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
}

/** A mask picture: white square of `side` centred at (cx, cy), black elsewhere. */
export async function squareMaskPng(width: number, height: number, cx: number, cy: number, side: number): Promise<Buffer> {
  const white = await sharp({ create: { width: side, height: side, channels: 3, background: "#fff" } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: "#000" } })
    .composite([{ input: white, left: Math.round(cx - side / 2), top: Math.round(cy - side / 2) }])
    .png()
    .toBuffer();
}
