// What a fleet of retouch processes shares, for the tests that run one: the
// devchain (a process, with its facilitator), a PostgreSQL database of its own,
// a local S3 server, and Redis under key prefixes of their own. Processes the
// test starts are registered here, so that close() kills them and removes every
// key and database the test made.

import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { createTestDatabase } from "./postgres.ts";
import { startDevchainProcess, startRetouch, type DevchainProcess, type RetouchProcess } from "./processes.ts";
import { startTestS3, type TestS3 } from "./s3.ts";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface FleetServices {
  devchain: DevchainProcess;
  database: { url: string; drop(): Promise<void> };
  s3: TestS3;
  redis: Redis;
  /** A fresh RETOUCH_REDIS_PREFIX; its keys are removed at close(). */
  redisPrefix(name: string): string;
  /** Registers a started process, to be killed at close(). */
  track<T extends RetouchProcess>(process: T): T;
  /** `retouch worker` with `env` (one engine thread), once it says it is ready. */
  startWorker(env: Record<string, string>): Promise<RetouchProcess>;
  /** The paid_edits rows by status. */
  ledgerStatuses(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function startFleetServices(): Promise<FleetServices> {
  const [devchain, database, s3] = await Promise.all([startDevchainProcess(), createTestDatabase(), startTestS3()]);
  const redis = new Redis(TEST_REDIS_URL);
  const prefixes: string[] = [];
  const processes: RetouchProcess[] = [];
  const track = <T extends RetouchProcess>(process: T): T => {
    processes.push(process);
    return process;
  };
  return {
    devchain,
    database,
    s3,
    redis,
    redisPrefix(name) {
      const prefix = `retouch-${name}-test-${randomBytes(4).toString("hex")}:`;
      prefixes.push(prefix);
      return prefix;
    },
    track,
    async startWorker(env) {
      const worker = track(startRetouch(["worker"], { ...env, RETOUCH_ENGINE_THREADS: "1" }));
      await worker.waitFor((line) => line.includes("retouch worker ready"));
      return worker;
    },
    ledgerStatuses: () =>
      withDatabase(database.url, async (client) => {
        const { rows } = await client.query<{ status: string; count: string }>("SELECT status, count(*) FROM paid_edits GROUP BY status");
        return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
      }),
    async close() {
      await Promise.all(processes.map((process) => process.stop("SIGKILL")));
      for (const prefix of prefixes) {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
      }
      redis.disconnect();
      await Promise.all([devchain.close(), database.drop(), s3.close()]);
    },
  };
}

/** Runs `work` with a client of the database at `url`, closed afterwards. */
export async function withDatabase<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
