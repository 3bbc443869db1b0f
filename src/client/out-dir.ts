// Checks, before anything is paid, that results can be saved into --out: a folder
// (or a path whose nearest existing part is one) where a file can really be written.

import { open, stat, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { CliError, EXIT } from "./errors.ts";

/**
 * Resolves when results can be written into `dir` (created later, when the edit is
 * paid, if missing); a usage error (exit 2) naming the problem otherwise.
 * @example
 * await checkOutDir(expandHome(options.out ?? "."));
 */
export async function checkOutDir(dir: string, flag = "--out"): Promise<void> {
  let existing = dir;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(existing)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(existing);
      if ((code === "ENOENT" || code === "ENOTDIR") && parent !== existing) {
        existing = parent;
        continue;
      }
      throw outError(`${flag} ${dir} cannot be used (${code ?? (error as Error).message})`, error);
    }
    if (!isDirectory) {
      throw outError(existing === dir ? `${flag} ${dir} is a file; give a folder (it is created if missing)` : `${flag} ${dir} cannot be created: ${existing} is a file`);
    }
    return probeWrite(existing, dir, flag);
  }
}

/** Writes and removes an empty file: the only check that also holds for root and read-only mounts. */
async function probeWrite(existing: string, dir: string, flag: string): Promise<void> {
  const probe = join(existing, `.retouch-write-check-${randomBytes(6).toString("hex")}`);
  try {
    await (await open(probe, "wx")).close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = existing === dir ? dir : `${existing} (where ${dir} would be created)`;
    throw outError(`${flag}: cannot write into ${where} (${code ?? (error as Error).message}); choose a folder you can write to`, error);
  }
  await unlink(probe);
}

function outError(message: string, cause?: unknown): CliError {
  return new CliError(message, EXIT.usage, { cause, code: "invalid_out_dir" });
}
