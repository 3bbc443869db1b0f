// Saves an edit's result images into the output folder under names that say what
// they are (`retouch-content-aware-fill-20261124-052400-1.png`), never overwriting.
// Results come from the gateway's own origin only, and no redirect is followed.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sniffImageFormat } from "../edits/index.ts";
import { CliError, EXIT } from "./errors.ts";
import { reach } from "./gateway.ts";
import { sameOrigin } from "./paid-answer.ts";
import { readCapped } from "./read-capped.ts";

/** A 4096x4096 RGBA PNG of noise is about 64 MB; nothing the gateway makes is larger. */
const MAX_RESULT_BYTES = 80 * 1024 * 1024;

export interface SavedImage {
  path: string;
  url: string;
}

export function resultName(model: string | undefined, when: Date, index: number, ext: string): string {
  const name = (model?.split("/").pop() ?? "edit").replace(/[^a-zA-Z0-9._-]+/g, "-") || "edit";
  const stamp = when.toISOString().replace(/\.\d+Z$/, "").replace(/[-:]/g, "").replace("T", "-");
  return `retouch-${name}-${stamp}-${index}.${ext}`;
}

export interface SaveResultsParams {
  urls: string[];
  outDir: string;
  model?: string;
  when?: Date;
  /** The gateway the edit was paid to: a URL on any other origin is refused before it is fetched. */
  gateway?: string;
  /** Files 0600 and a new folder 0700 (results kept in the state folder). */
  private?: boolean;
}

export async function saveResults(params: SaveResultsParams): Promise<SavedImage[]> {
  const when = params.when ?? new Date();
  if (params.gateway) {
    const origin = new URL(params.gateway).origin;
    const elsewhere = params.urls.filter((url) => !sameOrigin(url, origin));
    if (elsewhere.length > 0) {
      throw new CliError(`the gateway ${origin} gave result URLs on another site (${elsewhere.join(", ")}); retouch fetches results only from the gateway itself`, EXIT.editFailed);
    }
  }
  const unsaved = (error: unknown) =>
    new CliError(
      `the edit was paid but its results could not be saved in ${params.outDir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); they are at ${params.urls.join(", ")}`,
      EXIT.editFailed,
      { cause: error },
    );
  await mkdir(params.outDir, { recursive: true, ...(params.private ? { mode: 0o700 } : {}) }).catch((error) => {
    throw unsaved(error);
  });
  const saved: SavedImage[] = [];
  for (const [i, url] of params.urls.entries()) {
    const response = await reach(url, { redirect: "manual" });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new CliError(`the edit was paid but its result ${url} redirects to ${response.headers.get("location")}; retouch does not follow it`, EXIT.editFailed);
    }
    if (!response.ok) throw new CliError(`the edit was paid but its result ${url} answered HTTP ${response.status}; fetch it again later`, EXIT.editFailed);
    let bytes: Uint8Array;
    try {
      bytes = await readCapped(response, MAX_RESULT_BYTES);
    } catch (error) {
      throw new CliError(`the edit was paid but its result ${url} could not be downloaded (${(error as Error).message})`, EXIT.editFailed);
    }
    const ext = sniffImageFormat(bytes) ?? "bin";
    const path = await writeNew(params.outDir, resultName(params.model, when, i + 1, ext), bytes, params.private ? 0o600 : 0o666).catch((error) => {
      throw unsaved(error);
    });
    saved.push({ path, url });
  }
  return saved;
}

/** One result that came as bytes (a streamed edit's image), saved like saveResults' under the next free name. */
export async function saveImage(params: { bytes: Uint8Array; outDir: string; model?: string; when?: Date; private?: boolean }): Promise<string> {
  const ext = sniffImageFormat(params.bytes);
  if (!ext) throw new CliError("the edit was paid but its streamed result is not a PNG, JPEG or WebP image", EXIT.editFailed);
  try {
    await mkdir(params.outDir, { recursive: true, ...(params.private ? { mode: 0o700 } : {}) });
    return await writeNew(params.outDir, resultName(params.model, params.when ?? new Date(), 1, ext), params.bytes, params.private ? 0o600 : 0o666);
  } catch (error) {
    throw new CliError(`the edit was paid but its result could not be saved in ${params.outDir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, EXIT.editFailed, { cause: error });
  }
}

/** Writes without replacing an existing file: `-2`, `-3`... are added before the extension if needed. */
async function writeNew(dir: string, name: string, bytes: Uint8Array, mode: number): Promise<string> {
  const dot = name.lastIndexOf(".");
  for (let attempt = 1; ; attempt++) {
    const path = join(dir, attempt === 1 ? name : `${name.slice(0, dot)}-${attempt}${name.slice(dot)}`);
    try {
      await writeFile(path, bytes, { flag: "wx", mode });
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 100) throw error;
    }
  }
}
