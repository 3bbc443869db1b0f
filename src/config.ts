// One typed configuration for the gateway, read from environment variables and
// an optional JSON file (RETOUCH_CONFIG). Mistakes fail start-up with the fix.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { catalogConfigSchema, type CatalogConfig } from "./catalog/index.ts";
import { parseDecimal } from "./catalog/money.ts";

export type PaymentsMode = "devchain" | "remote" | "off";

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  publicUrl: string;
  payments: PaymentsMode;
  margin: string;
  upstreamTimeoutMs: number;
  maxBodyBytes: number;
  /** Largest accepted width and height of a source image or mask. */
  maxImageSide: number;
  engineThreads: number | undefined;
  logLevel: string;
  catalog: CatalogConfig | undefined;
  credentials: { openaiApiKey?: string; openaiBaseUrl?: string; geminiApiKey?: string; geminiBaseUrl?: string };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

const fileSchema = z.object({ catalog: catalogConfigSchema.optional() }).strict();

export function loadConfig(env: Env = process.env): Config {
  const host = env.HOST || "127.0.0.1";
  const port = integer(env, "PORT", 4021, 0, 65535);
  const payments = oneOf(env, "RETOUCH_PAYMENTS", ["off", "devchain", "remote"] as const, "off");
  if (payments !== "off") {
    throw new ConfigError(
      `RETOUCH_PAYMENTS=${payments} is not available in this version yet; use RETOUCH_PAYMENTS=off (free edits)`,
    );
  }
  const margin = env.RETOUCH_MARGIN || "0.05";
  try {
    parseDecimal(margin);
  } catch {
    throw new ConfigError(`RETOUCH_MARGIN must be a decimal like 0.05 (5%), got "${margin}"`);
  }
  const publicHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    host,
    port,
    dataDir: resolve(env.RETOUCH_DATA_DIR || ".retouch"),
    publicUrl: (env.RETOUCH_PUBLIC_URL || `http://${publicHost}:${port}`).replace(/\/+$/, ""),
    payments,
    margin,
    upstreamTimeoutMs: integer(env, "RETOUCH_UPSTREAM_TIMEOUT_MS", 120_000, 100, 3_600_000),
    maxBodyBytes: integer(env, "RETOUCH_MAX_BODY_BYTES", 50 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxImageSide: integer(env, "RETOUCH_MAX_IMAGE_SIDE", 4096, 16, 16384),
    engineThreads: env.RETOUCH_ENGINE_THREADS ? integer(env, "RETOUCH_ENGINE_THREADS", 1, 1, 64) : undefined,
    logLevel: env.LOG_LEVEL || "info",
    catalog: env.RETOUCH_CONFIG ? readConfigFile(env.RETOUCH_CONFIG).catalog : undefined,
    credentials: {
      openaiApiKey: env.OPENAI_API_KEY || undefined,
      openaiBaseUrl: env.OPENAI_BASE_URL || undefined,
      geminiApiKey: env.GEMINI_API_KEY || undefined,
      geminiBaseUrl: env.GEMINI_BASE_URL || undefined,
    },
  };
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${text}"`);
  }
  return text as T;
}

function readConfigFile(path: string): z.infer<typeof fileSchema> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`RETOUCH_CONFIG=${path} could not be read as JSON: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`RETOUCH_CONFIG=${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return parsed.data;
}
