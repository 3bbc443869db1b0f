// `retouch worker`: runs edits from the fleet's queue (REDIS_URL) until SIGINT/SIGTERM.

import { createEditWorker } from "../compose.ts";
import { loadConfig } from "../config.ts";
import { tuneHeapForServing } from "../server/heap.ts";

export async function runWorker(): Promise<void> {
  // Queued inputs and results on this disk (without S3_BUCKET) are its owner's alone.
  process.umask(0o077);
  tuneHeapForServing();
  const config = loadConfig(process.env, { role: "worker" });
  const worker = await createEditWorker(config);
  worker.logger.info(
    { redis_prefix: config.redis!.prefix, workers: Math.max(1, config.redis!.workers), payments: config.payments.mode, bucket: config.s3?.bucket },
    "retouch worker ready: taking edits from the queue",
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Edits running finish within the grace; past it they go back to the queue, where another worker takes them.
    worker.logger.info({ grace_ms: config.shutdownGraceMs }, "worker shutting down: no new edits; finishing those running");
    await worker.close(config.shutdownGraceMs).catch((error: unknown) => worker.logger.error({ err: error }, "closing the worker failed"));
    worker.logger.info("stopped");
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}
