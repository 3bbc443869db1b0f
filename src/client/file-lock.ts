// A lock file beside a file that several retouch processes share (the spend log):
// created with O_EXCL and holding its owner's pid, so check-then-append is one step
// across processes; a lock left by a process that is gone is taken over.

import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { CliError, EXIT } from "./errors.ts";

const DEFAULT_WAIT_MS = 30_000;
/** An empty lock file older than this was left by a process that died between create and write. */
const EMPTY_LOCK_STALE_MS = 10_000;

/** One chain per lock file in this process, so a process never waits on its own lock file. */
const chains = new Map<string, Promise<unknown>>();

/**
 * Runs `work` while holding `lockFile`.
 * @example
 * await withFileLock(`${log}.lock`, async () => { check(await read(log)); await append(log, line); });
 */
export async function withFileLock<T>(lockFile: string, work: () => Promise<T>, options: { waitMs?: number; what?: string } = {}): Promise<T> {
  const previous = chains.get(lockFile) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(async () => {
    const token = await acquire(lockFile, options.waitMs ?? DEFAULT_WAIT_MS, options.what ?? lockFile);
    try {
      return await work();
    } finally {
      await release(lockFile, token);
    }
  });
  chains.set(lockFile, run);
  try {
    return await run;
  } finally {
    if (chains.get(lockFile) === run) chains.delete(lockFile);
  }
}

async function acquire(lockFile: string, waitMs: number, what: string): Promise<string> {
  const token = `${process.pid} ${randomBytes(8).toString("hex")}\n`;
  const deadline = Date.now() + waitMs;
  let pause = 2;
  for (;;) {
    try {
      const handle = await open(lockFile, "wx", 0o600);
      try {
        await handle.writeFile(token);
      } finally {
        await handle.close();
      }
      return token;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new CliError(`cannot lock ${what} (${lockFile}): ${(error as Error).message}`, EXIT.usage, { cause: error });
      }
    }
    const holder = await readHolder(lockFile);
    if (holder?.stale) {
      await takeOver(lockFile, holder.text);
      continue;
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `${what} is locked by process ${holder?.pid ?? "?"} (${lockFile}); if no retouch is running, delete that file`,
        EXIT.usage,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 50);
  }
}

async function readHolder(lockFile: string): Promise<{ pid?: number; text: string; stale: boolean } | undefined> {
  let text: string;
  let age: number;
  try {
    [text, age] = await Promise.all([readFile(lockFile, "utf8"), stat(lockFile).then((s) => Date.now() - s.mtimeMs)]);
  } catch {
    return undefined; // released meanwhile: try again
  }
  const pid = Number(text.split(" ")[0]);
  if (!text || !Number.isInteger(pid) || pid <= 0) return { text, stale: age > EMPTY_LOCK_STALE_MS };
  return { pid, text, stale: !isAlive(pid) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Moves the stale lock aside; if another process replaced it meanwhile, puts that one back. */
async function takeOver(lockFile: string, staleText: string): Promise<void> {
  const aside = `${lockFile}.${randomBytes(6).toString("hex")}.stale`;
  try {
    await rename(lockFile, aside);
  } catch {
    return;
  }
  const moved = await readFile(aside, "utf8").catch(() => staleText);
  if (moved !== staleText) await link(aside, lockFile).catch(() => {});
  await unlink(aside).catch(() => {});
}

async function release(lockFile: string, token: string): Promise<void> {
  const text = await readFile(lockFile, "utf8").catch(() => undefined);
  if (text === token) await unlink(lockFile).catch(() => {});
}
