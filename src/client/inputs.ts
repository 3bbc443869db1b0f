// Loads the pictures of an edit from a local file, an http(s) URL or a data URI, and
// checks them the way the gateway will (format by magic bytes, 16..4096 px a side)
// so a bad file fails here, in one line, before anything is paid.

import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { CONTENT_TYPES, MIN_IMAGE_SIDE, sniffImageFormat, type ImageFormat } from "../edits/index.ts";
import { CliError, EXIT } from "./errors.ts";
import { readCapped, TooLargeError } from "./read-capped.ts";
import { expandHome } from "./wallet-file.ts";

export const MAX_IMAGE_SIDE = 4096;
export const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;
export const DOWNLOAD_TIMEOUT_MS = 30_000;

export interface InputImage {
  /** What the user passed (a path, URL or a shortened data URI): names the input in messages. */
  source: string;
  format: ImageFormat;
  width: number;
  height: number;
  dataUri: string;
}

export async function loadInputImage(spec: string): Promise<InputImage> {
  const source = spec.startsWith("data:") ? `${spec.slice(0, 30)}...` : spec;
  const bytes = await readSource(spec, source);
  const format = sniffImageFormat(bytes);
  if (!format) fail(source, "is not a PNG, JPEG or WebP image (checked by its content)");
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch {
    fail(source, `looks like ${format.toUpperCase()} but its header is corrupt`);
  }
  if (!width || !height) fail(source, "has no readable width and height");
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    fail(source, `is ${width}x${height}; the largest accepted is ${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE} pixels, scale it down first`);
  }
  if (width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE) {
    fail(source, `is ${width}x${height}; the smallest accepted is ${MIN_IMAGE_SIDE}x${MIN_IMAGE_SIDE} pixels`);
  }
  return { source, format, width, height, dataUri: `data:${CONTENT_TYPES[format]};base64,${Buffer.from(bytes).toString("base64")}` };
}

async function readSource(spec: string, source: string): Promise<Uint8Array> {
  if (spec.startsWith("data:")) {
    const match = /^data:[^;,]*(;[^,]*)?,(.*)$/s.exec(spec);
    if (!match || !match[1]?.includes("base64")) fail(source, "is not a base64 data URI");
    return Buffer.from(match[2], "base64");
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      fail(source, "is not a valid URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") fail(source, "is not a file, an http(s) URL or a data URI");
    return download(url, source);
  }
  const path = expandHome(spec);
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    fail(source, code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a folder" : `cannot be read (${code ?? (error as Error).message})`);
  }
}

async function download(url: URL, source: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (error) {
    const reason = (error as Error).name === "TimeoutError" ? `took over ${DOWNLOAD_TIMEOUT_MS / 1000} s` : "could not be fetched";
    fail(source, reason);
  }
  if (!response.ok) fail(source, `answered HTTP ${response.status}`);
  try {
    return await readCapped(response, MAX_DOWNLOAD_BYTES);
  } catch (error) {
    if (error instanceof TooLargeError) fail(source, "is over 20 MB");
    fail(source, (error as Error).name === "TimeoutError" ? `took over ${DOWNLOAD_TIMEOUT_MS / 1000} s` : "download was cut off");
  }
}

function fail(source: string, problem: string): never {
  throw new CliError(`${source} ${problem}`, EXIT.usage, { code: "invalid_input" });
}
