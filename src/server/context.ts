// What route handlers are given: the domain services and the operations kit.

import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Catalog } from "../catalog/index.ts";
import type { DevFaucet } from "../chains/index.ts";
import type { Config } from "../config.ts";
import type { EditRunner, EditService, Limits, PaidEdits } from "../gateway/index.ts";
import type { BlobStore } from "../storage/index.ts";
import type { Logger, Metrics } from "./observability.ts";

export interface ServerDeps {
  config: Config;
  catalog: Catalog;
  edits: EditService;
  /** Runs a free edit (payments off): here, or on a worker of the queue. */
  runner: Pick<EditRunner, "run">;
  /** Present when payments are on. */
  paidEdits?: PaidEdits;
  limits: Limits;
  /** What /readyz asks, by name (database, redis, bucket): each throws when its service does not answer. */
  readiness: Record<string, () => Promise<unknown>>;
  /** Present in devchain mode: where its chains answer. */
  devchain?: DevchainEndpoints;
  /** Present in devchain mode: test USDC for wallets made in the browser (POST /api/v1/devchain/faucet). */
  faucet?: DevFaucet;
  blobs: BlobStore;
  logger: Logger;
  metrics: Metrics;
  version: string;
}

/** The running devchain's JSON-RPC endpoints, as GET /api/v1/devchain tells buyer tools. */
export interface DevchainEndpoints {
  evm: { rpcUrl: string; chainId: number; network: string };
  solana: { rpcUrl: string; network: string };
}

export type App = OpenAPIHono<{ Variables: { requestId: string } }>;
