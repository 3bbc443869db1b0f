// `npm run fleet`: on this one machine, the topology an operator runs on several: s3rver, the
// devchain and its facilitator, two gateways that only queue edits, and two `retouch worker`s, all
// on the machine's PostgreSQL and Redis. Each process's lines are shown behind its name.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { z } from "zod";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const FLEET_DIR = join(ROOT, ".retouch-fleet");
const RETOUCH = join(ROOT, "bin", "retouch.js");
const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/retouch_fleet";
const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
const REDIS_PREFIX = "retouch-fleet:";
const S3_PORT = 4569;
const S3_BUCKET = "retouch-fleet";
const GATEWAY_PORTS = [4021, 4031];
const WORKERS = 2;
const NAME_WIDTH = "gateway-1".length;

/** The only variables of this shell the processes see (plus S3_* and AWS_* with the operator's bucket): a stray RETOUCH_* must not change the topology. */
const INHERITED = ["PATH", "HOME", "USER", "LANG", "TZ", "TMPDIR", "OPENAI_API_KEY", "OPENAI_BASE_URL", "GEMINI_API_KEY", "GEMINI_BASE_URL", "LOG_LEVEL"];

type Env = Record<string, string>;

/**
 * pino's levels. The fleet waits for info lines ("retouch listening", "retouch worker ready"), so a
 * LOG_LEVEL above info is not passed on: the processes log at info and the fleet hides the rest.
 */
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const shownLevel = LEVELS[process.env.LOG_LEVEL ?? ""] ?? 0;

interface FleetProcess {
  name: string;
  /** Stopped in this order: 0 (gateways, workers), then 1 (the devchain they settle on), then 2 (the bucket they write to). */
  stage: number;
  child: ChildProcess;
  /** Resolves once the process has ended and its last lines are printed. */
  exited: Promise<void>;
  /** The first line to come that matches `pattern`; rejects if the process ends first. */
  waitFor(pattern: RegExp): Promise<string>;
}

type Devchain = { dataDir: string; evmRpc: string; solanaRpc: string; facilitatorUrl: string; seller: { evm: string; solana: string } };

const running: FleetProcess[] = [];
let stopping = false;

const sellerFile = z.object({ evm: z.object({ address: z.string() }), solana: z.object({ address: z.string() }) });

function print(name: string, line: string): void {
  process.stdout.write(`${name.padEnd(NAME_WIDTH)} | ${line}\n`);
}

const say = (line: string) => print("fleet", line);

/** Before anything starts: one line naming the variable to fix, exit 1. */
function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error)) || "no answer";

function inheritedEnv(): Env {
  const operatorBucket = Boolean(process.env.S3_BUCKET);
  const wanted = (name: string) => INHERITED.includes(name) || (operatorBucket && /^(S3|AWS)_/.test(name));
  const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && wanted(entry[0])));
  // glibc gives large freed buffers back at once (docs/deploy.md, "Memory").
  const tuned = { MALLOC_MMAP_THRESHOLD_: "65536", ...env };
  return shownLevel > LEVELS.info ? { ...tuned, LOG_LEVEL: "info" } : tuned;
}

/** A JSON log line below LOG_LEVEL; other lines (the devchain's summary, warnings) are always shown. */
function belowShownLevel(line: string): boolean {
  const level = /^\{"level":(\d+)/.exec(line)?.[1];
  return level !== undefined && Number(level) < shownLevel;
}

async function checkRedis(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // connect() itself only says "Connection is closed"; the reason comes as an error event.
  let reason: unknown;
  client.on("error", (error) => (reason ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    fail(`REDIS_URL: no answer from Redis at ${new URL(url).host} (${messageOf(reason ?? error)}): start Redis, or set REDIS_URL (default ${DEFAULT_REDIS_URL})`);
  } finally {
    client.disconnect();
  }
}

async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The ledger's database answers; a missing one is created through the server's `postgres` database. */
async function preparePostgres(url: string): Promise<void> {
  try {
    return await runSql(url, "SELECT 1");
  } catch (error) {
    // 3D000: the server answers but the database does not exist.
    if ((error as { code?: unknown }).code !== "3D000") {
      fail(`DATABASE_URL: no connection to PostgreSQL at ${new URL(url).host} (${messageOf(error)}): start PostgreSQL, or set DATABASE_URL (default ${DEFAULT_DATABASE_URL})`);
    }
  }
  const server = new URL(url);
  const database = decodeURIComponent(server.pathname.slice(1));
  server.pathname = "/postgres";
  try {
    await runSql(server.href, `CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } catch (error) {
    fail(`DATABASE_URL: database ${database} is missing and could not be created (${messageOf(error)}): create it, or set DATABASE_URL to one that exists`);
  }
  say(`created database ${database}`);
}

/** Starts `node <args>`; an exit the fleet did not ask for stops the whole fleet. */
function start(name: string, stage: number, args: string[], env: Env): FleetProcess {
  if (stopping) throw new Error(`not starting ${name}: the fleet is stopping`);
  // A process group of its own: a Ctrl-C in the terminal reaches only this script, which stops the processes in order.
  const child = spawn(process.execPath, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const waiters = new Set<{ pattern: RegExp; resolve(line: string): void; reject(error: Error): void }>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      if (!belowShownLevel(line)) print(name, line);
      for (const waiter of waiters) {
        if (!waiter.pattern.test(line)) continue;
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    });
  }
  const exited = new Promise<void>((resolve) => {
    const ended = (how: string) => {
      if (!stopping) {
        say(`${name} ${how}; stopping the rest`);
        void stopFleet(1);
      }
      for (const waiter of waiters) waiter.reject(new Error(`${name} ${how} before it was ready`));
      resolve();
    };
    // "close", not "exit": the process's last lines are printed before the fleet says it ended.
    child.once("close", (code, signal) => ended(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    child.once("error", (error) => ended(`could not start (${error.message})`));
  });
  const waitFor = (pattern: RegExp) => new Promise<string>((resolve, reject) => waiters.add({ pattern, resolve, reject }));
  running.push({ name, stage, child, exited, waitFor });
  return running[running.length - 1];
}

function signal(fleetProcess: FleetProcess, name: NodeJS.Signals): void {
  const { child } = fleetProcess;
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, name); // its whole group, should it have started children of its own
  } catch {
    // it ended meanwhile
  }
}

/** Gateways and workers first (they drain their edits and settlements), then the devchain, then s3rver. */
async function stopFleet(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (exitCode === 0) say("stopping: gateways and workers finish what they run, then the devchain and s3rver stop");
  for (const stage of [0, 1, 2]) {
    const group = running.filter((fleetProcess) => fleetProcess.stage === stage);
    for (const fleetProcess of group) signal(fleetProcess, "SIGTERM");
    await Promise.all(group.map((fleetProcess) => fleetProcess.exited));
  }
  say("stopped");
  process.exit(exitCode);
}

/** s3rver in `.retouch-fleet/s3` with the fleet's bucket, unless the operator named a bucket (then its S3_* and AWS_* are inherited). */
async function startBucket(): Promise<Env> {
  if (process.env.S3_BUCKET) return {};
  const s3rver = createRequire(import.meta.url).resolve("s3rver/bin/s3rver.js");
  const args = [s3rver, "-d", join(FLEET_DIR, "s3"), "-a", "127.0.0.1", "-p", String(S3_PORT), "--silent", "--configure-bucket", S3_BUCKET];
  await start("s3", 2, args, inheritedEnv()).waitFor(/^S3rver listening/);
  return {
    S3_BUCKET,
    S3_ENDPOINT: `http://127.0.0.1:${S3_PORT}`,
    S3_REGION: "us-east-1",
    S3_FORCE_PATH_STYLE: "1",
    // s3rver accepts requests signed with these and no others.
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
  };
}

/** `retouch devchain` on its default ports; its URLs are read from the lines it prints, the payee from its seller wallet. */
async function startDevchain(): Promise<Devchain> {
  const dataDir = join(FLEET_DIR, "devchain");
  const devchain = start("devchain", 1, [RETOUCH, "devchain"], { ...inheritedEnv(), RETOUCH_DATA_DIR: dataDir });
  const lines = await Promise.all([/^Base \(local\)/, /^Solana \(local\)/, /^x402 facilitator/].map((pattern) => devchain.waitFor(pattern)));
  const [evmRpc, solanaRpc, facilitatorUrl] = lines.map((line) => {
    const url = /http:\/\/[\d.]+:\d+/.exec(line)?.[0];
    if (!url) throw new Error(`the devchain printed no URL in "${line}"`);
    return url;
  });
  const seller = sellerFile.parse(JSON.parse(await readFile(join(dataDir, "dev-seller.json"), "utf8")));
  return { dataDir, evmRpc, solanaRpc, facilitatorUrl, seller: { evm: seller.evm.address, solana: seller.solana.address } };
}

async function startGateway(index: number, port: number, env: Env): Promise<string> {
  const url = `http://127.0.0.1:${port}`;
  const name = `gateway-${index}`;
  const own = { PORT: String(port), RETOUCH_PUBLIC_URL: url, RETOUCH_DATA_DIR: join(FLEET_DIR, name), RETOUCH_WORKERS: "0" };
  await start(name, 0, [RETOUCH, "serve"], { ...env, ...own }).waitFor(/"msg":"retouch listening/);
  return url;
}

async function startWorker(index: number, env: Env): Promise<void> {
  const name = `worker-${index}`;
  const own = { RETOUCH_DATA_DIR: join(FLEET_DIR, name), RETOUCH_ENGINE_THREADS: "1" };
  await start(name, 0, [RETOUCH, "worker"], { ...env, ...own }).waitFor(/retouch worker ready/);
}

function printSummary(gateways: string[], devchain: Devchain, bucket: string): void {
  const here = (path: string) => relative(ROOT, path);
  const [first, second = first] = gateways;
  const lines = [
    "",
    `retouch fleet ready: ${gateways.length} gateways (queueing only), ${WORKERS} workers, queue in Redis under ${REDIS_PREFIX}, results in bucket ${bucket}`,
    ...gateways.map((url, i) => `  gateway-${i + 1}  ${url}   (${url}/docs, ${url}/readyz)`),
    "",
    "A paid edit through gateway-1, from the devchain's buyer wallet (RETOUCH_HOME keeps its spends out of ~/.retouch):",
    `  RETOUCH_HOME=${here(join(FLEET_DIR, "buyer"))} node bin/retouch.js edit --gateway ${first} \\`,
    `    --wallet ${here(join(devchain.dataDir, "dev-wallets.json"))} --base-rpc ${devchain.evmRpc} --solana-rpc ${devchain.solanaRpc} \\`,
    "    --image examples/photo.png --mask examples/mask.png --model local/content-aware-fill remove the ball",
    "The quote alone (402) from gateway-2:",
    `  curl -s -o /dev/null -w '%{http_code}\\n' ${second}/v1/images/edits -F model=local/content-aware-fill \\`,
    "    -F prompt='remove the ball' -F image=@examples/photo.png -F mask=@examples/mask.png",
    "",
    "Ctrl-C stops everything.",
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const redisUrl = process.env.REDIS_URL || DEFAULT_REDIS_URL;
  await checkRedis(redisUrl);
  await preparePostgres(databaseUrl);

  process.on("SIGINT", () => void stopFleet(0));
  process.on("SIGTERM", () => void stopFleet(0));
  // A crash of this script must not leave the processes behind (a SIGKILL of it cannot be caught).
  process.on("exit", () => running.forEach((fleetProcess) => signal(fleetProcess, "SIGKILL")));
  await mkdir(FLEET_DIR, { recursive: true, mode: 0o700 });

  const bucketEnv = await startBucket();
  const devchain = await startDevchain();
  const env: Env = {
    ...inheritedEnv(),
    ...bucketEnv,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    RETOUCH_REDIS_PREFIX: REDIS_PREFIX,
    RETOUCH_PAYMENTS: "remote",
    FACILITATOR_URL: devchain.facilitatorUrl,
    RETOUCH_NETWORKS: "base,solana",
    BASE_RPC_URL: devchain.evmRpc,
    SOLANA_RPC_URL: devchain.solanaRpc,
    RETOUCH_PAY_TO_EVM: devchain.seller.evm,
    RETOUCH_PAY_TO_SOLANA: devchain.seller.solana,
  };
  // One after another, so that the output reads in order (start-up itself is safe in any order).
  const gateways: string[] = [];
  for (const [i, port] of GATEWAY_PORTS.entries()) gateways.push(await startGateway(i + 1, port, env));
  for (let i = 1; i <= WORKERS; i++) await startWorker(i, env);
  printSummary(gateways, devchain, env.S3_BUCKET ?? S3_BUCKET);
}

main().catch((error: unknown) => {
  // An exit during start-up has already said which process ended and started the stop.
  if (stopping) return;
  say(`start-up failed: ${messageOf(error)}`);
  void stopFleet(1);
});
