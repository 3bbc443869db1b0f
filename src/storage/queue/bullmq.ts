// The job queue of a fleet: BullMQ on Redis. Gateways add jobs and wait for them
// (QueueEvents); workers, in any process on any machine, take them. A job whose
// worker died is handed to another one by BullMQ's stalled-job check, within
// LOCK_MS + STALLED_CHECK_MS. One queue per lane (an edit's provider), so that a
// lane can be limited across the whole fleet (BullMQ's global concurrency):
// jobs over the limit wait, they are not failed.

import { Queue, QueueEvents, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { JobLost, type JobQueue, type QueueSettings } from "./types.ts";

/** A worker holds its job this long without renewing; it renews at half of it. */
export const LOCK_MS = 10_000;
/** How often workers look for jobs whose worker stopped renewing. */
export const STALLED_CHECK_MS = 5_000;
/** A job found stalled more often than this fails instead of running again. */
const MAX_STALLED = 1;


const queueName = (lane: string) => `edits-${lane}`;

export async function openJobQueue(settings: QueueSettings): Promise<JobQueue> {
  // Workers and QueueEvents block on Redis; BullMQ wants retries unbounded on those connections.
  const connection = new Redis(settings.url, { maxRetriesPerRequest: null, lazyConnect: true });
  connection.on("error", () => {});
  await connection.connect();
  const prefix = settings.prefix.replace(/:$/, "");
  const queues = new Map<string, Queue>();
  const events = new Map<string, QueueEvents>();
  const workers = new Set<Worker>();

  async function queueOf(lane: string): Promise<{ queue: Queue; queueEvents: QueueEvents }> {
    let queue = queues.get(lane);
    if (!queue) {
      queue = new Queue(queueName(lane), { connection, prefix });
      queue.on("error", () => {});
      queues.set(lane, queue);
      const queueEvents = new QueueEvents(queueName(lane), { connection: connection.duplicate(), prefix });
      queueEvents.on("error", () => {});
      events.set(lane, queueEvents);
      const limit = settings.laneLimits[lane];
      if (limit !== undefined) await queue.setGlobalConcurrency(limit);
      await queueEvents.waitUntilReady();
    }
    return { queue, queueEvents: events.get(lane)! };
  }
  // Lanes with a fleet-wide limit exist from the start, so the limit holds before their first job.
  for (const lane of Object.keys(settings.laneLimits)) await queueOf(lane);

  return {
    async submit(lane, data, waitMs) {
      const { queue, queueEvents } = await queueOf(lane);
      const job = await queue.add("edit", data, {
        removeOnComplete: { age: 3_600, count: 10_000 },
        removeOnFail: { age: 86_400 },
      });
      try {
        return await job.waitUntilFinished(queueEvents, waitMs);
      } catch (error) {
        throw new JobLost((error as Error).message, { cause: error });
      }
    },

    work(lanes, processor, onError) {
      const started: Worker[] = [];
      for (const [lane, concurrency] of Object.entries(lanes)) {
        const worker = new Worker(
          queueName(lane),
          async (job: Job) => {
            let firstStartedAt = (job.data as { firstStartedAt?: number }).firstStartedAt;
            const resumed = firstStartedAt !== undefined;
            if (firstStartedAt === undefined) {
              firstStartedAt = Date.now();
              await job.updateData({ ...job.data, firstStartedAt });
            }
            return processor(job.data, { id: job.id!, queuedAt: job.timestamp, firstStartedAt, resumed });
          },
          { connection, prefix, concurrency, lockDuration: LOCK_MS, stalledInterval: STALLED_CHECK_MS, maxStalledCount: MAX_STALLED },
        );
        worker.on("error", onError);
        started.push(worker);
        workers.add(worker);
      }
      return {
        async close(graceMs) {
          const closing = Promise.all(started.map((worker) => worker.close()));
          const late = graceMs === undefined ? undefined : new Promise<"late">((resolve) => setTimeout(() => resolve("late"), graceMs).unref());
          if (late && (await Promise.race([closing, late])) === "late") {
            // Their locks lapse and another worker's stalled check takes them.
            await Promise.all(started.map((worker) => worker.close(true)));
          }
          await closing.catch(() => undefined);
          for (const worker of started) workers.delete(worker);
        },
      };
    },

    async counts() {
      return Promise.all(
        [...queues.entries()].map(async ([lane, queue]) => {
          const counts = await queue.getJobCounts("waiting", "prioritized", "active");
          return { lane, waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0 };
        }),
      );
    },

    ping: () => connection.ping(),

    async close() {
      await Promise.all([...workers].map((worker) => worker.close(true)));
      await Promise.all([...events.values()].map((queueEvents) => queueEvents.close()));
      await Promise.all([...queues.values()].map((queue) => queue.close()));
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
