// One typed configuration for the gateway, read from environment variables and
// an optional JSON file (RETOUCH_CONFIG). Mistakes fail start-up with the fix.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { isValidIconUrl, isValidServiceName } from "@x402/extensions/bazaar";
import { z } from "zod";
import { catalogConfigSchema, type CatalogConfig } from "./catalog/index.ts";
import { parseDecimal } from "./catalog/money.ts";
import { NETWORKS, type NetworkName } from "./chains/index.ts";

export type PaymentsMode = "devchain" | "remote" | "self" | "off";

export interface PaymentsConfig {
  mode: PaymentsMode;
  /** Networks a payment is accepted on, in the order they are offered. */
  networks: NetworkName[];
  payTo: { evm?: string; solana?: string };
  /** remote mode: which facilitator verifies and settles, and how it is authenticated. */
  facilitator?: FacilitatorSettings;
  /** self mode: the settlement wallet's key file (RETOUCH_FACILITATOR_KEYS). */
  facilitatorKeys?: string;
  /**
   * JSON-RPC URLs by network name (BASE_RPC_URL, SOLANA_RPC_URL and the testnets' twins): how `self`
   * mode settles, and how remote mode looks a settlement up when the facilitator gives no answer.
   */
  rpcUrls: Partial<Record<NetworkName, string>>;
  /** Edits that finish within this window answer 200; slower ones 202 + poll_url. */
  inlineWindowMs: number;
  /** A settlement the facilitator has not answered by then is looked up on chain instead. */
  settleTimeoutMs: number;
  /** How often settlements a stopped process left unfinished are looked for and finished from the chain. */
  sweepIntervalMs: number;
  /** Tests only (NODE_ENV=test): the settlement checkpoint where the process stops for good, to be killed there. */
  testPause?: "before-settle" | "after-broadcast" | "after-record";
  /** What the Solana fee payer covers for one payment (compute units, micro-lamports per unit). */
  solanaFees: { maxComputeUnits: number; maxPriorityFeeMicroLamports: number };
  /** The devchain's JSON-RPC ports, and the port `retouch devchain` serves its facilitator on. */
  devchain: { evmPort: number; solanaPort: number; facilitatorPort: number };
}

/**
 * remote mode's facilitator: any x402 facilitator at a URL with static headers, or Coinbase's
 * CDP or PayAI's, which take a fresh JWT signed with the seller's API key on every call.
 * `url` on cdp/payai overrides the provider's own.
 */
export type FacilitatorSettings =
  | { kind: "url"; url: string; headers: Record<string, string> }
  | { kind: "cdp"; url?: string; apiKeyId: string; apiKeySecret: string }
  | { kind: "payai"; url?: string; apiKey?: { id: string; secret: string } };

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  publicUrl: string;
  payments: PaymentsConfig;
  /** PostgreSQL URL for the ledger (scale-out); unset = PGlite in dataDir/db. */
  databaseUrl: string | undefined;
  /** Results in an S3-compatible bucket (scale-out); unset = dataDir/files. */
  s3: S3Config | undefined;
  /**
   * Redis (scale-out): the edit queue and the limits shared by the fleet; its keys all start with
   * `prefix`. `workers`: edit workers in a gateway process (0: it only queues edits).
   */
  redis: { url: string; prefix: string; workers: number } | undefined;
  /** 0 turns a limit off. `providerInflight`: edits at once per upstream provider across the fleet (queue only). */
  limits: { quotesPerMinute: number; payerConcurrency: number; providerInflight: number };
  /** How many proxies in front of the gateway append to X-Forwarded-For (0: the connection's peer is the client). */
  trustProxy: number;
  /** Which web pages on other sites may call the public API from a browser: any (`*`), these exact origins, or none. */
  corsOrigins: CorsOrigins;
  /** The playground page at / (RETOUCH_PLAYGROUND=off hides it). */
  playground: boolean;
  /** On SIGTERM/SIGINT: how long requests and edits in flight may take to finish before the process exits anyway. */
  shutdownGraceMs: number;
  margin: string;
  upstreamTimeoutMs: number;
  maxBodyBytes: number;
  /** Largest accepted width and height of a source image or mask. */
  maxImageSide: number;
  engineThreads: number | undefined;
  logLevel: string;
  /** Results readable by the data folder's group (RETOUCH_FILES_GROUP_READ=1); otherwise owner-only, like the rest. */
  filesGroupRead: boolean;
  /** Who may read /metrics: a bearer token, and/or a listen address of its own instead of the API's. */
  metrics: { token?: string; listen?: { host: string; port: number } };
  catalog: CatalogConfig | undefined;
  /** The name, description and tags the 402s list (RETOUCH_CONFIG `discovery`, over DEFAULT_LISTING). */
  listing: ServiceListing;
  credentials: { openaiApiKey?: string; openaiBaseUrl?: string; geminiApiKey?: string; geminiBaseUrl?: string };
}

export type CorsOrigins = "*" | "off" | string[];

export interface S3Config {
  bucket: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Result URLs point here (the bucket's or a CDN's URL) instead of at /api/v1/files. */
  publicUrl?: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

/** What the 402s of the edit routes list about the service, for x402 discovery catalogs (the Bazaar). */
export interface ServiceListing {
  serviceName: string;
  description: string;
  tags: string[];
  iconUrl?: string;
}

export const DEFAULT_LISTING: ServiceListing = {
  serviceName: "retouch",
  description: "AI image editing: send a picture, an optional mask (white = edit) and a prompt; pay per edit in USDC",
  tags: ["image-editing", "inpainting", "image-generation", "ai"],
};

/** The catalog's own limits (x402 Bazaar): a value past them would be dropped there without a word, so it is refused here. */
const printable = (max: number) => z.string().regex(/^[\x20-\x7e]+$/, { error: "must be printable ASCII" }).max(max, { error: `must be at most ${max} characters` });
const listingSchema = z
  .object({
    serviceName: printable(32).refine(isValidServiceName, { error: "must be 1 to 32 printable ASCII characters" }).optional(),
    description: z.string().min(1).max(500, { error: "must be at most 500 characters" }).optional(),
    tags: z.array(printable(32)).max(5, { error: "at most 5 tags are listed" }).optional(),
    iconUrl: z
      .string()
      .refine(isValidIconUrl, { error: "must be a public http(s) URL (no IP address, localhost or user@)" })
      .optional(),
  })
  .strict();

const fileSchema = z.object({ catalog: catalogConfigSchema.optional(), discovery: listingSchema.optional() }).strict();

/**
 * `role: "worker"` (`retouch worker`): a worker records paid edits in the ledger and never talks
 * to a facilitator, so of the payment settings it reads only RETOUCH_PAYMENTS: the facilitator's
 * keys and the pay-to addresses stay on the gateways' machines.
 */
export function loadConfig(env: Env = process.env, options: { role?: "gateway" | "worker" } = {}): Config {
  const host = env.HOST || "127.0.0.1";
  const port = integer(env, "PORT", 4021, 0, 65535);
  const payments = options.role === "worker" ? { ...loadPayments({}), mode: paymentsMode(env) } : loadPayments(env);
  const margin = env.RETOUCH_MARGIN || "0.05";
  try {
    parseDecimal(margin);
  } catch {
    throw new ConfigError(`RETOUCH_MARGIN must be a decimal like 0.05 (5%), got "${margin}"`);
  }
  const publicHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const file = env.RETOUCH_CONFIG ? readConfigFile(env.RETOUCH_CONFIG) : undefined;
  return {
    host,
    port,
    dataDir: resolve(env.RETOUCH_DATA_DIR || ".retouch"),
    publicUrl: (env.RETOUCH_PUBLIC_URL || `http://${publicHost}:${port}`).replace(/\/+$/, ""),
    payments,
    databaseUrl: env.DATABASE_URL || undefined,
    s3: loadS3(env),
    redis: loadRedis(env),
    limits: {
      quotesPerMinute: integer(env, "RETOUCH_LIMIT_QUOTES_PER_MIN", 120, 0, 1_000_000),
      payerConcurrency: integer(env, "RETOUCH_LIMIT_PAYER_CONCURRENCY", 4, 0, 10_000),
      providerInflight: integer(env, "RETOUCH_LIMIT_PROVIDER_INFLIGHT", 16, 0, 10_000),
    },
    trustProxy: integer(env, "RETOUCH_TRUST_PROXY", 0, 0, 16),
    corsOrigins: loadCorsOrigins(env),
    playground: oneOf(env, "RETOUCH_PLAYGROUND", ["on", "off"] as const, "on") === "on",
    shutdownGraceMs: integer(env, "RETOUCH_SHUTDOWN_GRACE_MS", 30_000, 0, 3_600_000),
    margin,
    upstreamTimeoutMs: integer(env, "RETOUCH_UPSTREAM_TIMEOUT_MS", 120_000, 100, 3_600_000),
    maxBodyBytes: integer(env, "RETOUCH_MAX_BODY_BYTES", 50 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxImageSide: integer(env, "RETOUCH_MAX_IMAGE_SIDE", 4096, 16, 16384),
    engineThreads: env.RETOUCH_ENGINE_THREADS ? integer(env, "RETOUCH_ENGINE_THREADS", 1, 1, 64) : undefined,
    logLevel: env.LOG_LEVEL || "info",
    filesGroupRead: flag(env, "RETOUCH_FILES_GROUP_READ"),
    metrics: loadMetrics(env),
    catalog: file?.catalog,
    listing: { ...DEFAULT_LISTING, ...file?.discovery },
    credentials: {
      openaiApiKey: env.OPENAI_API_KEY || undefined,
      openaiBaseUrl: httpUrl(env, "OPENAI_BASE_URL"),
      geminiApiKey: env.GEMINI_API_KEY || undefined,
      geminiBaseUrl: httpUrl(env, "GEMINI_BASE_URL"),
    },
  };
}

/**
 * RETOUCH_CORS_ORIGINS: `*` (default; the payment is the authorisation and no cookies are read),
 * `off`, or a comma list of origins, each exactly as a browser sends it (scheme, host, port if not default).
 */
function loadCorsOrigins(env: Env): CorsOrigins {
  const text = (env.RETOUCH_CORS_ORIGINS ?? "").trim();
  if (text === "" || text === "*") return "*";
  if (text === "off") return "off";
  return text.split(",").map((entry) => {
    const origin = entry.trim();
    if (origin === "*" || origin === "off") throw new ConfigError(`RETOUCH_CORS_ORIGINS: "${origin}" cannot be part of a list; use it alone`);
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigError(
        `RETOUCH_CORS_ORIGINS: "${origin}" is not an origin; write each as the browser sends it, e.g. https://app.example.com or http://localhost:5173 (no path, no trailing slash)`,
      );
    }
    return origin;
  });
}

function loadMetrics(env: Env): Config["metrics"] {
  const token = env.RETOUCH_METRICS_TOKEN || undefined;
  if (token !== undefined && (token.length < MIN_TOKEN_CHARS || /\s/.test(token))) {
    throw new ConfigError(`RETOUCH_METRICS_TOKEN must be at least ${MIN_TOKEN_CHARS} characters without spaces (e.g. openssl rand -hex 32)`);
  }
  const address = env.RETOUCH_METRICS_ADDR || undefined;
  if (address === undefined) return { token };
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new ConfigError(`RETOUCH_METRICS_ADDR must be HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464), got "${address}"`);
  }
  return { token, listen: { host: match[1] ?? match[2], port } };
}

function loadRedis(env: Env): Config["redis"] {
  const url = env.REDIS_URL || undefined;
  if (!url) {
    if (env.RETOUCH_WORKERS) throw new ConfigError("RETOUCH_WORKERS is set but REDIS_URL is not: edit workers take their jobs from the queue in Redis");
    return undefined;
  }
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL, got "${url.replace(/\/\/[^@/]*@/, "//***@")}"`);
  const prefix = env.RETOUCH_REDIS_PREFIX || "retouch:";
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(prefix)) {
    throw new ConfigError(`RETOUCH_REDIS_PREFIX must be 1-64 letters, digits, ":", "_", "." or "-", got "${prefix}"`);
  }
  return { url, prefix, workers: integer(env, "RETOUCH_WORKERS", 1, 0, 64) };
}

/** S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function loadS3(env: Env): S3Config | undefined {
  const bucket = env.S3_BUCKET || undefined;
  if (!bucket) {
    const orphan = ["S3_ENDPOINT", "S3_PUBLIC_URL", "S3_FORCE_PATH_STYLE"].find((name) => env[name]);
    if (orphan) throw new ConfigError(`${orphan} is set but S3_BUCKET is not: set S3_BUCKET to store results in a bucket, or unset ${orphan}`);
    return undefined;
  }
  if (!BUCKET_NAME.test(bucket)) {
    throw new ConfigError(`S3_BUCKET must be a bucket name (3-63 lowercase letters, digits, dots and hyphens), got "${bucket}"`);
  }
  return {
    bucket,
    endpoint: httpUrl(env, "S3_ENDPOINT"),
    region: env.S3_REGION || env.AWS_REGION || "us-east-1",
    forcePathStyle: flag(env, "S3_FORCE_PATH_STYLE"),
    publicUrl: httpUrl(env, "S3_PUBLIC_URL"),
  };
}

function flag(env: Env, name: string): boolean {
  const value = env[name];
  if (value === undefined || value === "" || value === "0" || value === "false") return false;
  if (value === "1" || value === "true") return true;
  throw new ConfigError(`${name} must be 1 or 0, got "${value}"`);
}

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const SOLANA_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;

const paymentsMode = (env: Env) => oneOf(env, "RETOUCH_PAYMENTS", ["devchain", "remote", "self", "off"] as const, "devchain");

function loadPayments(env: Env): PaymentsConfig {
  const mode = paymentsMode(env);
  // Real money needs the operator to name its networks; the devchain serves both.
  const live = mode === "remote" || mode === "self";
  const defaultNetworks = live ? "" : "base,solana";
  const networks = (env.RETOUCH_NETWORKS ?? defaultNetworks)
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of networks) {
    if (!Object.hasOwn(NETWORKS, name)) {
      throw new ConfigError(`RETOUCH_NETWORKS: unknown network "${name}"; known: ${Object.keys(NETWORKS).join(", ")}`);
    }
  }
  if (mode === "devchain" && networks.some((name) => NETWORKS[name as NetworkName].testnet)) {
    throw new ConfigError("RETOUCH_PAYMENTS=devchain stands in for base and solana only; testnets need RETOUCH_PAYMENTS=remote or self");
  }
  const payTo = { evm: env.RETOUCH_PAY_TO_EVM || undefined, solana: env.RETOUCH_PAY_TO_SOLANA || undefined };
  if (payTo.evm && !EVM_ADDRESS.test(payTo.evm)) throw new ConfigError(`RETOUCH_PAY_TO_EVM must be a 0x address, got "${payTo.evm}"`);
  if (payTo.solana && !SOLANA_ADDRESS.test(payTo.solana)) {
    throw new ConfigError(`RETOUCH_PAY_TO_SOLANA must be a base58 Solana address, got "${payTo.solana}"`);
  }
  const facilitator = mode === "remote" ? loadFacilitator(env) : undefined;
  const rpcUrls = loadRpcUrls(env);
  let facilitatorKeys: string | undefined;
  if (mode === "self") {
    facilitatorKeys = env.RETOUCH_FACILITATOR_KEYS || undefined;
    if (!facilitatorKeys) {
      throw new ConfigError("RETOUCH_PAYMENTS=self needs RETOUCH_FACILITATOR_KEYS: the settlement wallet's key file (mode 0600, shape of dev-wallets.json)");
    }
    facilitatorKeys = resolve(facilitatorKeys);
    for (const name of networks) {
      if (Object.hasOwn(NETWORKS, name) && !rpcUrls[name as NetworkName]) {
        throw new ConfigError(`RETOUCH_PAYMENTS=self settles on ${name} through its RPC: set ${RPC_URL_VARIABLES[name as NetworkName]}`);
      }
    }
  }
  if (live) {
    if (networks.length === 0) {
      throw new ConfigError(`RETOUCH_PAYMENTS=${mode} needs RETOUCH_NETWORKS, e.g. base,solana or base-sepolia,solana-devnet`);
    }
    for (const name of networks) {
      const family = NETWORKS[name as NetworkName].family;
      if (family === "evm" && !payTo.evm) throw new ConfigError(`network ${name} needs RETOUCH_PAY_TO_EVM (the address that receives USDC)`);
      if (family === "svm" && !payTo.solana) throw new ConfigError(`network ${name} needs RETOUCH_PAY_TO_SOLANA (the address that receives USDC)`);
    }
  }
  return {
    mode,
    networks: networks as NetworkName[],
    rpcUrls,
    payTo,
    facilitator,
    facilitatorKeys,
    inlineWindowMs: integer(env, "RETOUCH_INLINE_WINDOW_MS", 30_000, 0, 600_000),
    settleTimeoutMs: integer(env, "RETOUCH_SETTLE_TIMEOUT_MS", 60_000, 100, 600_000),
    sweepIntervalMs: integer(env, "RETOUCH_SWEEP_INTERVAL_MS", 60_000, 100, 3_600_000),
    // Never outside tests: a stray variable must not freeze a production gateway mid-settlement.
    testPause: env.NODE_ENV === "test" && env.RETOUCH_TEST_PAUSE ? oneOf(env, "RETOUCH_TEST_PAUSE", TEST_PAUSES, "before-settle") : undefined,
    solanaFees: loadSolanaFees(env),
    devchain: {
      evmPort: integer(env, "RETOUCH_DEVCHAIN_EVM_PORT", 8545, 0, 65535),
      solanaPort: integer(env, "RETOUCH_DEVCHAIN_SOLANA_PORT", 8899, 0, 65535),
      facilitatorPort: integer(env, "RETOUCH_DEVCHAIN_FACILITATOR_PORT", 4022, 0, 65535),
    },
  };
}

const TEST_PAUSES = ["before-settle", "after-broadcast", "after-record"] as const;

function loadSolanaFees(env: Env): PaymentsConfig["solanaFees"] {
  return {
    // x402's client asks 20,000 units at 1 micro-lamport; a transfer needs about 6,000 units.
    maxComputeUnits: integer(env, "RETOUCH_SOLANA_MAX_COMPUTE_UNITS", 200_000, 1, 1_400_000),
    maxPriorityFeeMicroLamports: integer(env, "RETOUCH_SOLANA_MAX_PRIORITY_FEE_MICROLAMPORTS", 50_000, 0, 5_000_000),
  };
}

/** `retouch facilitator`: what it settles with, on which networks, and who may call it. */
export interface FacilitatorServiceConfig {
  keysFile: string;
  networks: NetworkName[];
  rpcUrls: Partial<Record<NetworkName, string>>;
  /** Required unless the service listens on loopback only. */
  token: string | undefined;
  solanaFees: PaymentsConfig["solanaFees"];
  logLevel: string;
}

/** The shortest bearer token accepted for a service: a guessable one would be no lock. */
const MIN_TOKEN_CHARS = 16;

export function loadFacilitatorServiceConfig(env: Env, host: string): FacilitatorServiceConfig {
  const keysFile = env.RETOUCH_FACILITATOR_KEYS;
  if (!keysFile) {
    throw new ConfigError("retouch facilitator needs RETOUCH_FACILITATOR_KEYS: the settlement wallet's key file (mode 0600, shape of dev-wallets.json)");
  }
  const rpcUrls = loadRpcUrls(env);
  const listed = env.RETOUCH_NETWORKS?.split(",").map((name) => name.trim()).filter(Boolean);
  const networks = listed ?? (Object.keys(rpcUrls) as NetworkName[]);
  if (networks.length === 0) {
    throw new ConfigError(`retouch facilitator settles on the networks whose RPC is set: set ${Object.values(RPC_URL_VARIABLES).join(", ")} (or RETOUCH_NETWORKS)`);
  }
  for (const name of networks) {
    if (!Object.hasOwn(NETWORKS, name)) throw new ConfigError(`RETOUCH_NETWORKS: unknown network "${name}"; known: ${Object.keys(NETWORKS).join(", ")}`);
    if (!rpcUrls[name as NetworkName]) throw new ConfigError(`retouch facilitator settles on ${name} through its RPC: set ${RPC_URL_VARIABLES[name as NetworkName]}`);
  }
  const token = env.RETOUCH_FACILITATOR_TOKEN || undefined;
  if (token !== undefined && (token.length < MIN_TOKEN_CHARS || /\s/.test(token))) {
    throw new ConfigError(`RETOUCH_FACILITATOR_TOKEN must be at least ${MIN_TOKEN_CHARS} characters without spaces (e.g. openssl rand -hex 32)`);
  }
  if (token === undefined && !isLoopback(host)) {
    throw new ConfigError(`retouch facilitator on ${host} is reachable from other machines: set RETOUCH_FACILITATOR_TOKEN (its gateways send it as FACILITATOR_HEADERS), or listen on 127.0.0.1`);
  }
  return { keysFile: resolve(keysFile), networks: networks as NetworkName[], rpcUrls, token, solanaFees: loadSolanaFees(env), logLevel: env.LOG_LEVEL || "info" };
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The variable that holds each network's JSON-RPC URL. */
export const RPC_URL_VARIABLES: Readonly<Record<NetworkName, string>> = {
  base: "BASE_RPC_URL",
  "base-sepolia": "BASE_SEPOLIA_RPC_URL",
  solana: "SOLANA_RPC_URL",
  "solana-devnet": "SOLANA_DEVNET_RPC_URL",
};

export function loadRpcUrls(env: Env): Partial<Record<NetworkName, string>> {
  const urls: Partial<Record<NetworkName, string>> = {};
  for (const [name, variable] of Object.entries(RPC_URL_VARIABLES) as [NetworkName, string][]) {
    const url = httpUrl(env, variable);
    if (url) urls[name] = url;
  }
  return urls;
}

function loadFacilitator(env: Env): FacilitatorSettings {
  const kind = oneOf(env, "RETOUCH_FACILITATOR", ["cdp", "payai", "url"] as const, "url");
  const url = httpUrl(env, kind === "payai" && !env.FACILITATOR_URL ? "PAYAI_FACILITATOR_URL" : "FACILITATOR_URL");
  if (kind === "cdp") {
    const apiKeyId = env.CDP_API_KEY_ID || undefined;
    const apiKeySecret = env.CDP_API_KEY_SECRET || undefined;
    if (!apiKeyId || !apiKeySecret) {
      throw new ConfigError("RETOUCH_FACILITATOR=cdp needs CDP_API_KEY_ID and CDP_API_KEY_SECRET (a CDP secret API key: its id and private key)");
    }
    return { kind, url, apiKeyId, apiKeySecret };
  }
  if (kind === "payai") {
    const id = env.PAYAI_API_KEY_ID || undefined;
    const secret = env.PAYAI_API_KEY_SECRET || undefined;
    if (Boolean(id) !== Boolean(secret)) throw new ConfigError("PAYAI_API_KEY_ID and PAYAI_API_KEY_SECRET go together: set both, or neither for PayAI's free tier");
    return { kind, url, apiKey: id && secret ? { id, secret } : undefined };
  }
  if (!url) {
    throw new ConfigError(
      "RETOUCH_PAYMENTS=remote needs FACILITATOR_URL (the x402 facilitator's base URL), or RETOUCH_FACILITATOR=cdp or payai for Coinbase's or PayAI's facilitator",
    );
  }
  let headers: Record<string, string> = {};
  if (env.FACILITATOR_HEADERS) {
    try {
      headers = z.record(z.string(), z.string()).parse(JSON.parse(env.FACILITATOR_HEADERS));
    } catch {
      throw new ConfigError('FACILITATOR_HEADERS must be a JSON object of header names to values, e.g. {"Authorization":"Bearer ..."}');
    }
  }
  return { kind, url, headers };
}

/** An optional http(s) URL variable, without its trailing slashes. */
function httpUrl(env: Env, name: string): string | undefined {
  const url = env[name];
  if (!url) return undefined;
  if (!/^https?:\/\//.test(url) || !URL.canParse(url)) throw new ConfigError(`${name} must be an http(s) URL, got "${url}"`);
  return url.replace(/\/+$/, "");
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
