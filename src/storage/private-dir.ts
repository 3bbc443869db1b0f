// The data folder holds the ledger, the dev wallets and the results: other users
// of the machine must not read or rewrite any of it. It is created owner-only
// (0700), and a folder left readable by an older version or by hand is fixed at
// start-up with everything in it, and reported. With group access, the group may
// read the results (e.g. a web server serving them) and nothing else.

import { chmod, lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";

/** Owner-only modes, and the looser ones of the results when the operator grants group access. */
export const PRIVATE_MODES = { dir: 0o700, file: 0o600 } as const;
export const GROUP_READ_MODES = { dir: 0o750, file: 0o640 } as const;

/** Where results are kept, under the data folder. */
export const RESULTS_FOLDER = "files";

export interface DataDirOptions {
  /** Results (and the folders leading to them) readable by the group. */
  groupRead: boolean;
}

/**
 * Creates the data folder owner-only, or tightens the one that exists. Returns the paths whose
 * modes were changed (empty when all was well), for a warning.
 */
export async function secureDataDir(dataDir: string, options: DataDirOptions): Promise<string[]> {
  const results = options.groupRead ? GROUP_READ_MODES : PRIVATE_MODES;
  // The group may pass through the data folder to the results, and no further.
  const top = { dir: results.dir, file: PRIVATE_MODES.file };
  await mkdir(dataDir, { recursive: true, mode: top.dir });
  const fixed: string[] = [];
  const folder = join(dataDir, RESULTS_FOLDER);
  await tighten(dataDir, top, PRIVATE_MODES, fixed, folder);
  await mkdir(folder, { recursive: true, mode: results.dir });
  await tighten(folder, results, results, fixed);
  if (options.groupRead) {
    // The umask narrowed these when they were made; group access is asked for, so set it exactly.
    await chmod(dataDir, top.dir);
    await chmod(folder, results.dir);
  }
  return fixed;
}

type Modes = { readonly dir: number; readonly file: number };

/**
 * Narrows `path` to its mode if it has other bits than that; only then also walks what is in it
 * with `inside` (an owner-only folder protected its contents, whatever their modes). `skip` (the
 * results folder) has modes of its own and is left to its own call.
 */
async function tighten(path: string, own: Modes, inside: Modes, fixed: string[], skip?: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  const wanted = info.isDirectory() ? own.dir : own.file;
  const mode = info.mode & 0o777;
  if ((mode & ~wanted) === 0) return;
  await chmod(path, mode & wanted);
  fixed.push(path);
  if (!info.isDirectory()) return;
  for (const name of await readdir(path)) {
    if (join(path, name) !== skip) await tighten(join(path, name), inside, inside, fixed);
  }
}

/** Narrows every folder under `root` to 0700 and every file to 0600 (a store that sets its own modes). */
export async function narrowFiles(root: string): Promise<void> {
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() && !entry.isDirectory()) continue;
    const path = join(entry.parentPath, entry.name);
    const wanted = entry.isDirectory() ? PRIVATE_MODES.dir : PRIVATE_MODES.file;
    const mode = (await lstat(path)).mode & 0o777;
    if ((mode & ~wanted) !== 0) await chmod(path, mode & wanted);
  }
}
