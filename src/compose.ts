// The composition root: the one place that picks adapters for this
// configuration and wires the gateway together.

import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { createCatalog } from "./catalog/index.ts";
import { createPublicClient, http } from "viem";
import { BASE, devFaucet, NETWORKS, SOLANA, startDevchain, type Devchain, type NetworkName } from "./chains/index.ts";
import { ConfigError, RPC_URL_VARIABLES, type Config } from "./config.ts";
import { createEnginePool } from "./engine/index.ts";
import type { Redis } from "ioredis";
import {
  createEditService,
  createLimits,
  createPaidEdits,
  editProcessor,
  localRunner,
  queuedRunner,
  queueWaitMs,
  startSettlementSweep,
  type EditRunner,
  type Limits,
  type PaidEdits,
  type SettlementCheckpoint,
} from "./gateway/index.ts";
import {
  chainX402Facilitator,
  connectFacilitator,
  localFacilitator,
  readFacilitatorKeys,
  rpcChainAccess,
  watchGas,
  type ChainAccess,
  createPaymentRail,
  createSiwxGate,
  evmSettlementProbe,
  inProcessFacilitator,
  openLedger,
  svmSettlementProbe,
  type Ledger,
  type PaymentRail,
  type SettlementProbe,
} from "./payments/index.ts";
import { createProviderRegistry, UPSTREAM_QUOTA_EXHAUSTED } from "./providers/index.ts";
import { createApp, createLogger, createMetrics, EDIT_PATHS, editRouteOffers, type App, type Logger, type Metrics } from "./server/index.ts";
import {
  createFilesystemBlobStore,
  GROUP_READ_MODES,
  openPglite,
  openPostgres,
  PRIVATE_MODES,
  RESULTS_FOLDER,
  secureDataDir,
  type BlobStore,
  type JobQueue,
  type JobWorkers,
} from "./storage/index.ts";

import { VERSION } from "./version.ts";

export { VERSION };

export interface Gateway {
  app: App;
  logger: Logger;
  metrics: Metrics;
  config: Config;
  /** Present in RETOUCH_PAYMENTS=devchain mode. */
  devchain?: Devchain;
  /** Resolves once no paid edit runs in this process; a shutdown waits for it before close(). */
  drain(): Promise<void>;
  rail?: PaymentRail;
  ledger?: Ledger;
  close(): Promise<void>;
}

/** What runs edits, in a gateway and in `retouch worker` alike: catalog, result store, providers, the edit service. */
async function createEditing(config: Config, logger: Logger, metrics: Metrics) {
  const catalog = createCatalog({ margin: config.margin, config: config.catalog });
  const loosened = await secureDataDir(config.dataDir, { groupRead: config.filesGroupRead });
  if (loosened.length > 0) {
    logger.warn(
      { data_dir: config.dataDir, fixed: loosened.length, first: loosened.slice(0, 5) },
      "the data folder was readable by other users of this machine; its modes were narrowed (folders 0700, files 0600)",
    );
  }
  const { openaiApiKey, openaiBaseUrl } = config.credentials;
  if (openaiApiKey && openaiBaseUrl && new URL(openaiBaseUrl).pathname === "/") {
    // The SDK adds /images/edits to it: against OpenAI's own host, every edit would be a 404.
    logger.warn("OPENAI_BASE_URL has no path; OpenAI's API is under /v1 (https://api.openai.com/v1), and without it OpenAI answers each edit with a 404");
  }
  const resultModes = config.filesGroupRead ? GROUP_READ_MODES : PRIVATE_MODES;
  // The AWS SDK is loaded only when a bucket is configured: the embedded default does without it.
  const blobs = config.s3 ? await openBucket(config.s3, logger) : await createFilesystemBlobStore(join(config.dataDir, RESULTS_FOLDER), resultModes.file);
  // A bucket that is missing, unreachable or read-only stops start-up in one line, before any edit could be lost.
  if (blobs.check) await blobs.check(true).catch(async (error: unknown) => {
    await blobs.close?.();
    throw new ConfigError((error as Error).message);
  });
  const fileUrl = fileUrlOf(config);
  const engine = createEnginePool({ threads: config.engineThreads });
  // Embedded, this process limits its own upstream calls; with a queue, the queue does it fleet-wide.
  const providers = await createProviderRegistry(config, engine, config.redis ? 0 : config.limits.providerInflight);
  if (!config.redis) metrics.watchQueue(async () => providers.counts());
  const edits = createEditService({
    catalog,
    providers,
    blobs,
    fileUrl,
    timeoutMs: config.upstreamTimeoutMs,
    maxImageSide: config.maxImageSide,
    onFinished: (model, seconds, outcome) => metrics.editSeconds.observe({ model, outcome }, seconds),
    onFallback: (from, to, error) => logger.warn({ from, to, status: error.status, code: error.code }, "model failed; trying its fallback"),
    onStoreFailed: (error) => logger.error({ err: error }, "an edit's result could not be stored; the edit failed and was not charged"),
    onModelFailed: (model, error) => {
      metrics.upstreamErrors.inc({ provider: model.provider, model: model.id, code: error.code });
      if (error.code === UPSTREAM_QUOTA_EXHAUSTED) {
        logger.error({ provider: model.provider, model: model.id }, "the upstream account is out of credit: this model cannot be served until it is topped up");
      }
    },
  });
  const closers: (() => Promise<void>)[] = [async () => blobs.close?.(), () => providers.close()];
  return { catalog, blobs, engine, providers, edits, closers };
}

type Editing = Awaited<ReturnType<typeof createEditing>>;

async function openBucket(settings: NonNullable<Config["s3"]>, logger: Logger): Promise<BlobStore> {
  const { createS3BlobStore, sdkNodeNotice } = await import("./storage/blobs/s3.ts");
  const notice = sdkNodeNotice();
  if (notice) logger.warn({ node: process.version }, notice);
  return createS3BlobStore(settings);
}

export async function createGateway(config: Config, options: { logger?: Logger } = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const editing = await createEditing(config, logger, metrics);
  const { catalog, blobs, edits, closers } = editing;
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };

  let payments: { paidEdits: PaidEdits; rail: PaymentRail; ledger: Ledger; devchain?: Devchain } | undefined;
  let limits: Limits;
  const readiness: Record<string, () => Promise<unknown>> = {};
  if (blobs.check) readiness.bucket = () => blobs.check!();
  let queue: JobQueue | undefined;
  let workers: JobWorkers | undefined;
  let runner: EditRunner;
  try {
    limits = createLimits({
      settings: {
        ...config.limits,
        // A slot outlives any edit and its settlement; it lapses only when its process died holding it.
        slotLifetimeMs: config.upstreamTimeoutMs + config.payments.settleTimeoutMs + 60_000,
      },
      redis: config.redis && { client: await connectRedis(config.redis.url, closers, readiness), prefix: config.redis.prefix },
      onRejected: (kind) => metrics.limitRejections.inc({ kind }),
    });
    if (config.redis) queue = await openQueue(config, editing.providers.names, closers, metrics);
    const runnerFor = (ledger?: Ledger): EditRunner =>
      queue
        ? queuedRunner({
            queue,
            scratch: blobs.scratch,
            ledger,
            fileUrl: fileUrlOf(config),
            timeoutMs: config.upstreamTimeoutMs,
            onJobFinished: (model, wait, run) => {
              metrics.queueWaitSeconds.observe({ model }, wait);
              metrics.queueRunSeconds.observe({ model }, run);
            },
            onError: (error, jobId) => logger.error({ err: error, job_id: jobId }, "a queued edit was lost"),
          })
        : localRunner({ edits, ledger, onError: (error, jobId) => logger.error({ err: error, job_id: jobId }, "paid edit failed unexpectedly") });
    runner = runnerFor();
    if (config.payments.mode !== "off") {
      payments = await setUpPayments(config, logger, metrics, runnerFor, limits, closers, readiness, queue !== undefined);
    }
    if (queue && config.redis!.workers > 0) {
      workers = startWorkers(editing, queue, { count: config.redis!.workers, ledger: payments?.ledger, config, logger });
    }
  } catch (error) {
    await close();
    throw error;
  }

  const app = createApp({
    config,
    catalog,
    edits,
    runner,
    paidEdits: payments?.paidEdits,
    limits,
    readiness,
    devchain: payments?.devchain && devchainEndpoints(payments.devchain),
    faucet: payments?.devchain && devFaucet(payments.devchain),
    blobs,
    logger,
    metrics,
    version: VERSION,
  });
  // This gateway's own edits first (its workers may be running them), then the jobs its workers took for others.
  const drain = async () => {
    await payments?.paidEdits.idle();
    await workers?.close();
  };
  return { app, logger, metrics, config, devchain: payments?.devchain, rail: payments?.rail, ledger: payments?.ledger, drain, close };
}

export interface EditWorker {
  logger: Logger;
  /** Stops taking jobs, lets those running finish (after `graceMs` they go back to the queue), and closes. */
  close(graceMs: number): Promise<void>;
}

/** `retouch worker`: edits from the fleet's queue, run with this machine's engine and upstream keys. */
export async function createEditWorker(config: Config, options: { logger?: Logger } = {}): Promise<EditWorker> {
  if (!config.redis) {
    throw new ConfigError("retouch worker takes its edits from the gateways' queue: set REDIS_URL (and RETOUCH_REDIS_PREFIX if the gateways set one)");
  }
  if (config.payments.mode !== "off" && !config.databaseUrl) {
    throw new ConfigError(
      `retouch worker records paid edits in the gateways' database: set DATABASE_URL (PostgreSQL), or RETOUCH_PAYMENTS=off if the gateways take no payments (it is ${config.payments.mode})`,
    );
  }
  const logger = options.logger ?? createLogger(config.logLevel);
  const editing = await createEditing(config, logger, createMetrics());
  const { providers, closers } = editing;
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  let workers: JobWorkers;
  try {
    let ledger: Ledger | undefined;
    if (config.payments.mode !== "off") {
      const db = await openPostgres(config.databaseUrl!);
      closers.push(() => db.close());
      ledger = await openLedger(db);
    }
    const queue = await openQueue(config, providers.names, closers);
    // A worker process runs at least one worker, whatever RETOUCH_WORKERS says for gateways.
    workers = startWorkers(editing, queue, { count: Math.max(1, config.redis.workers), ledger, config, logger });
  } catch (error) {
    await close();
    throw error;
  }
  if (!config.s3) {
    logger.warn(
      { results: join(config.dataDir, RESULTS_FOLDER) },
      "no S3_BUCKET: results and queued inputs are on this machine's disk, so this worker takes jobs only from gateways on this machine with the same RETOUCH_DATA_DIR; set S3_BUCKET for a fleet",
    );
  }
  return {
    logger,
    async close(graceMs) {
      await workers.close(graceMs);
      await close();
    },
  };
}

/** The URL this process gives a stored result: its own files route, or the bucket's public URL. */
function fileUrlOf(config: Config): (key: string) => string {
  return (key) => (config.s3?.publicUrl ? `${config.s3.publicUrl}/${key}` : `${config.publicUrl}/api/v1/files/${key}`);
}

/**
 * The fleet's Redis, checked at start-up (a wrong REDIS_URL stops it in one line). Commands fail at
 * once while it is unreachable, rather than queueing: the limits then fall back to this process's own.
 */
async function connectRedis(url: string, closers: (() => Promise<void>)[], readiness: Record<string, () => Promise<unknown>>): Promise<Redis> {
  const { Redis } = await import("ioredis");
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  client.on("error", () => {}); // reconnects by itself; each failed command reports its own error
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    const where = new URL(url).host;
    throw new ConfigError(`REDIS_URL: Redis at ${where} does not answer (${(error as Error).message}): check REDIS_URL and that Redis runs`);
  }
  closers.push(async () => {
    await client.quit().catch(() => client.disconnect());
  });
  readiness.redis = () => client.ping();
  return client;
}

/**
 * The fleet's edit queue (BullMQ): one lane per provider; upstream lanes limited across the fleet
 * to RETOUCH_LIMIT_PROVIDER_INFLIGHT calls at once (the rest wait in the queue).
 */
async function openQueue(config: Config, providerNames: string[], closers: (() => Promise<void>)[], metrics?: Metrics): Promise<JobQueue> {
  const { openJobQueue } = await import("./storage/queue/bullmq.ts");
  const inflight = config.limits.providerInflight;
  const laneLimits = Object.fromEntries(providerNames.filter((name) => name !== "local" && inflight > 0).map((name) => [name, inflight]));
  const queue = await openJobQueue({ url: config.redis!.url, prefix: `${config.redis!.prefix}queue${queueScope(config)}`, laneLimits }).catch((error: unknown) => {
    throw new ConfigError(`REDIS_URL: the edit queue could not be opened (${(error as Error).message})`);
  });
  closers.push(() => queue.close());
  metrics?.watchQueue(() => queue.counts());
  return queue;
}

/**
 * Who may take this process's jobs: with S3_BUCKET, every process on the fleet's Redis; without it,
 * the inputs and results are on this disk, so only processes on this machine with the same data folder.
 */
function queueScope(config: Config): string {
  if (config.s3) return "";
  return `-${createHash("sha256").update(`${hostname()}\n${resolve(config.dataDir)}`).digest("hex").slice(0, 12)}`;
}

/**
 * Edit workers in this process, `RETOUCH_WORKERS` of them: each takes twice as many local edits at
 * once as the engine has threads, and as many upstream calls as one provider may have in flight.
 */
function startWorkers(
  editing: Editing,
  queue: JobQueue,
  options: { count: number; ledger?: Ledger; config: Config; logger: Logger },
): JobWorkers {
  const { logger } = options;
  const onError = (error: unknown, jobId: string) => logger.error({ err: error, job_id: jobId }, "edit job failed unexpectedly");
  const { edits, catalog, blobs, providers, engine } = editing;
  const processor = editProcessor({ edits, catalog, scratch: blobs.scratch, ledger: options.ledger, onError });
  const upstream = options.config.limits.providerInflight || DEFAULT_UPSTREAM_CONCURRENCY;
  // Local: twice the engine's threads, so that the next job's inputs are read and decoded while the
  // engine fills (the local provider admits only as many at once as the engine has threads).
  const lanes = Object.fromEntries(providers.names.map((lane) => [lane, lane === "local" ? engine.size * 2 : upstream]));
  const started = Array.from({ length: options.count }, () =>
    queue.work(lanes, processor, (error) => logger.warn({ err: error }, "edit worker: the queue connection failed; it reconnects")),
  );
  return { close: async (graceMs) => void (await Promise.all(started.map((workers) => workers.close(graceMs)))) };
}

/** Upstream calls one worker makes at once when RETOUCH_LIMIT_PROVIDER_INFLIGHT is 0 (no fleet-wide limit). */
const DEFAULT_UPSTREAM_CONCURRENCY = 16;

/** Where buyer tools find the devchain's two chains (GET /api/v1/devchain). */
function devchainEndpoints(devchain: Devchain) {
  return {
    evm: { rpcUrl: devchain.evm.rpcUrl, chainId: devchain.evm.chainId, network: BASE.caip2 },
    solana: { rpcUrl: devchain.solana.rpcUrl, network: SOLANA.caip2 },
  };
}

/** Remote mode: EVM settlements are looked up over the operator's RPC (Solana needs the fee payer's key, which the facilitator holds). */
function remoteProbes(config: Config): Record<string, SettlementProbe> {
  const probes: Record<string, SettlementProbe> = {};
  for (const [name, url] of Object.entries(config.payments.rpcUrls)) {
    const network = NETWORKS[name as NetworkName];
    if (network.family !== "evm" || !config.payments.networks.includes(network.name)) continue;
    probes[network.caip2] = evmSettlementProbe(createPublicClient({ transport: http(url) }), network.usdc.address);
  }
  return probes;
}

/** Self mode: settlements are looked up with the wallet's own clients (and, on Solana, its fee payer's key). */
function selfProbes(chains: ChainAccess): Record<string, SettlementProbe> {
  const probes: Record<string, SettlementProbe> = {};
  for (const { network, client } of chains.evm) probes[network.caip2] = evmSettlementProbe(client, network.usdc.address);
  for (const { network, rpc } of chains.svm) probes[network.caip2] = svmSettlementProbe(rpc, [chains.svmSigner!]);
  return probes;
}

/**
 * Settlements a stopped process left unfinished: taken at start-up (embedded: everything, as the
 * last process is gone; shared database: rows no live process can still hold) and settled from the
 * chain in the background, then looked for periodically.
 */
async function recoverSettlements(config: Config, ledger: Ledger, paidEdits: PaidEdits, logger: Logger, closers: (() => Promise<void>)[]) {
  const { settleTimeoutMs, sweepIntervalMs } = config.payments;
  const staleMs = Math.max(config.upstreamTimeoutMs, settleTimeoutMs) + sweepIntervalMs;
  const sweep = startSettlementSweep({
    ledger,
    paidEdits,
    intervalMs: sweepIntervalMs,
    staleMs,
    onReport: (report) => logger.warn(report, "settlement sweep: payments a stopped process left unfinished"),
    onError: (error) => logger.error({ err: error }, "settlement sweep failed; it runs again at the next interval"),
  });
  closers.push(() => sweep.stop());
  const startup = await sweep.recover(config.databaseUrl ? staleMs : 0);
  if (startup.interrupted > 0) {
    logger.warn({ interrupted: startup.interrupted }, "edits interrupted by a restart (not charged) run again when their payment is sent again");
  }
  if (startup.taken > 0) logger.warn({ settlements: startup.taken }, "settlements interrupted by a restart are being finished from the chain");
}

/** Remote mode without a chain's RPC (or on Solana, whose transaction id is the facilitator's signature): say what crash recovery cannot do. */
function warnWithoutRecovery(config: Config, probes: Record<string, SettlementProbe>, logger: Logger) {
  for (const name of config.payments.networks) {
    const network = NETWORKS[name];
    if (probes[network.caip2]) continue;
    logger.warn(
      { network: name },
      network.family === "evm"
        ? `crash recovery is off on ${name}: a settlement cut off by a crash cannot be looked up on chain; set ${RPC_URL_VARIABLES[name]}`
        : `crash recovery is partial on ${name}: a settlement cut off by a crash before it was sent is sent again, but one sent ` +
            "cannot be looked up (its transaction id is the remote facilitator's signature) and stays uncertain",
    );
  }
}

/** RETOUCH_TEST_PAUSE (tests only): the settlement stops at `point` for good, for the test to kill the process there. */
function pauseAt(point: SettlementCheckpoint, logger: Logger) {
  return async (reached: SettlementCheckpoint) => {
    if (reached !== point) return;
    logger.warn({ checkpoint: point }, "paused for a crash test (RETOUCH_TEST_PAUSE)");
    await new Promise<never>(() => {});
  };
}

async function setUpPayments(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  runnerFor: (ledger: Ledger) => EditRunner,
  limits: Limits,
  closers: (() => Promise<void>)[],
  readiness: Record<string, () => Promise<unknown>>,
  queued: boolean,
) {
  const db = config.databaseUrl ? await openPostgres(config.databaseUrl) : await openPglite(join(config.dataDir, "db"));
  closers.push(() => db.close());
  readiness.database = () => db.query("SELECT 1");
  const ledger = await openLedger(db);
  let devchain: Devchain | undefined;
  let facilitator;
  let probes: Record<string, SettlementProbe> | undefined;
  let payTo = config.payments.payTo;
  if (config.payments.mode === "devchain") {
    devchain = await startDevchain({
      dataDir: config.dataDir,
      evmPort: config.payments.devchain.evmPort,
      solanaPort: config.payments.devchain.solanaPort,
      allowedOrigins: [config.publicUrl],
    });
    const chain = devchain;
    closers.push(() => chain.close());
    facilitator = inProcessFacilitator(devchain, config.payments.solanaFees);
    probes = {
      [BASE.caip2]: evmSettlementProbe(devchain.evm.publicClient, BASE.usdc.address),
      [SOLANA.caip2]: svmSettlementProbe(devchain.solana.rpc, [devchain.solana.facilitator.signer]),
    };
    const { seller } = devchain.wallets;
    payTo = { evm: payTo.evm ?? seller.evm.address, solana: payTo.solana ?? seller.solana.address };
    // A Solana payee needs its USDC account to exist, as on mainnet.
    if (payTo.solana !== seller.solana.address) await devchain.fundUsdc("solana", payTo.solana!, 0n);
  } else if (config.payments.mode === "self") {
    // The operator's own gas wallet settles, through the operator's RPCs: the devchain mode's path on real chains.
    const wallet = await readFacilitatorKeys(config.payments.facilitatorKeys!);
    const chains = rpcChainAccess(wallet, config.payments.networks, config.payments.rpcUrls);
    facilitator = localFacilitator(chainX402Facilitator(chains, config.payments.solanaFees));
    const stopGasWatch = await watchGas(chains, { gauge: metrics.gasBalance, warn: (facts, message) => logger.warn(facts, message) });
    closers.push(async () => stopGasWatch());
    probes = selfProbes(chains);
    logger.info(
      { networks: config.payments.networks, evm_signer: wallet.evm.address, solana_fee_payer: wallet.solana.address },
      "settling with the operator's own gas wallet (RETOUCH_PAYMENTS=self)",
    );
  } else {
    facilitator = await connectFacilitator(config.payments.facilitator!, {
      networks: config.payments.networks,
      onNotice: (message) => logger.warn({ facilitator: config.payments.facilitator!.kind }, message),
    });
    probes = remoteProbes(config);
  }

  const rail = await createPaymentRail({
    facilitator,
    networks: config.payments.networks,
    payTo,
    // Long enough for the slowest edit (and, queued, its longest wait for a worker) plus the polls that settle it.
    maxTimeoutSeconds: Math.max(300, Math.ceil((config.upstreamTimeoutMs + (queued ? queueWaitMs(config.upstreamTimeoutMs) : 0)) / 1000) + 120),
    solanaFees: config.payments.solanaFees,
    settleTimeoutMs: config.payments.settleTimeoutMs,
    probes,
  });
  const testPause = config.payments.testPause;
  const paidEdits = createPaidEdits({
    runner: runnerFor(ledger),
    ledger,
    rail,
    siwx: createSiwxGate({ publicUrl: config.publicUrl, nonces: ledger.nonces }),
    publicUrl: config.publicUrl,
    // With a bucket or a queue (whose workers share this disk), this gateway can serve every result.
    fileUrl: config.s3 || queued ? fileUrlOf(config) : undefined,
    inlineWindowMs: config.payments.inlineWindowMs,
    offers: editRouteOffers(config.publicUrl, EDIT_PATHS, config.listing),
    limits,
    onError: (error, jobId) => logger.error({ err: error, job_id: jobId }, "paid edit failed unexpectedly"),
    checkpoint: testPause && pauseAt(testPause, logger),
  });
  warnWithoutRecovery(config, probes, logger);
  await recoverSettlements(config, ledger, paidEdits, logger, closers);
  return { paidEdits, rail, ledger, devchain };
}
