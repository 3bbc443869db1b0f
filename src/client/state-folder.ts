// The buyer's state folder (~/.retouch, or RETOUCH_HOME): created 0700, and every
// file the buyer tools write in it 0600, since it holds keys, payments and spend.

import { chmod, mkdir, open, rename, stat } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { CliError, EXIT } from "./errors.ts";
import { expandHome } from "./wallet-file.ts";

/** RETOUCH_HOME, else ~/.retouch; `~` is expanded. */
export function retouchHome(env: NodeJS.ProcessEnv = process.env): string {
  return expandHome(env.RETOUCH_HOME || "~/.retouch");
}

/** Creates `dir` (and its parents) 0700 when missing; refuses a file where a folder must be. */
export async function ensurePrivateDir(dir: string, setting?: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") {
      throw new CliError(`${dir}${setting ? ` (${setting})` : ""} must be a folder, but a file is in the way`, EXIT.usage, { cause: error });
    }
    throw new CliError(`cannot create ${dir}${setting ? ` (${setting})` : ""}: ${(error as Error).message}`, EXIT.usage, { cause: error });
  }
}

/**
 * The state folder itself, created 0700; a `.retouch` folder an older retouch left 0755
 * is narrowed (it holds the wallet, the spend log and signed payments). A RETOUCH_HOME
 * that is some other existing folder keeps its mode. Returns its path.
 */
export async function ensureStateFolder(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const home = retouchHome(env);
  await ensurePrivateDir(home, "RETOUCH_HOME");
  const info = await stat(home);
  if (basename(home) === ".retouch" && (info.mode & 0o077) !== 0) await chmod(home, info.mode & 0o700);
  return home;
}

/** Throws a clear error when `file` (named by `setting`) is a folder; a missing file is fine. */
export async function assertNotFolder(file: string, setting: string, example: string): Promise<void> {
  try {
    if ((await stat(file)).isDirectory()) {
      throw new CliError(`${setting} is ${file}, which is a folder; point it at a file such as ${join(file, example)}`, EXIT.usage);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * Writes `file` whole or not at all (a temp name in the same folder, synced, then
 * renamed over it), 0600, so a crash never leaves half a record.
 */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

/** Narrows a file's mode to 0600 (files written before retouch did so). */
export async function makePrivate(file: string): Promise<void> {
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
