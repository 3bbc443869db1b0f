// Where an edit runs. Embedded: in this process, at once. In a fleet (REDIS_URL):
// as a job on the queue, run by whichever worker takes it. A paid edit's worker
// moves its ledger row (verified -> running -> completed | failed) itself, so the
// result is recorded, and settled by any gateway's poll or sweep, even when the
// gateway that took the request is gone. Jobs carry the request's fields; its
// images and mask go to the blob store's scratch space, never into Redis.

import { randomBytes } from "node:crypto";
import type { Catalog } from "../catalog/index.ts";
import type { EditRequest, ImageFormat } from "../edits/index.ts";
import { editTimedOut, RetouchError } from "../errors.ts";
import type { Ledger, StoredError } from "../payments/index.ts";
import type { PartialImage } from "../providers/index.ts";
import { JobLost, type JobAttempt, type JobQueue, type Processor, type ScratchSpace } from "../storage/index.ts";
import { withFileUrls, type EditRun, type EditService } from "./edit-service.ts";
import { restoredError, storedError } from "./stored-error.ts";

export interface EditRunner {
  /** A free edit (payments off): its result, or its error. Previews of a streamed edit go to `onPartial` where it runs here. */
  run(request: EditRequest, onPartial?: (partial: PartialImage) => void): Promise<EditRun>;
  /**
   * A paid edit whose ledger row is `verified`: runs it and records how it ended in the row.
   * Resolves once it has ended (the row then says how); never rejects.
   */
  runPaid(jobId: string, request: EditRequest, onPartial?: (partial: PartialImage) => void): Promise<void>;
}

interface PaidRunDeps {
  edits: Pick<EditService, "run">;
  ledger: Ledger;
  onError(error: unknown, jobId: string): void;
}

/**
 * Runs a paid edit here, if its row is still `verified` (or, `resumed`, still `running`: the
 * worker that started it died), and records the outcome with conditional updates.
 */
export async function executePaid(
  deps: PaidRunDeps,
  jobId: string,
  request: EditRequest,
  timeoutMs: number | undefined,
  resumed: boolean,
  onPartial?: (partial: PartialImage) => void,
): Promise<void> {
  const { ledger } = deps;
  const mine = (await ledger.transition(jobId, "verified", "running")) || (resumed && (await ledger.transition(jobId, "running", "running")));
  if (!mine) return;
  try {
    const { result, usage } = await deps.edits.run(request, timeoutMs, onPartial);
    await ledger.transition(jobId, "running", "completed", { result, usage });
  } catch (error) {
    if (!(error instanceof RetouchError)) deps.onError(error, jobId);
    await ledger.transition(jobId, "running", "failed", { error: storedError(error, jobId) });
  }
}

/** Embedded: every edit runs in this process. */
export function localRunner(deps: { edits: Pick<EditService, "run">; ledger?: Ledger; onError(error: unknown, jobId: string): void }): EditRunner {
  return {
    run: (request, onPartial) => deps.edits.run(request, undefined, onPartial),
    runPaid: (jobId, request, onPartial) => executePaid({ ...deps, ledger: deps.ledger! }, jobId, request, undefined, false, onPartial),
  };
}

/** A queued edit: the request without its pixels, and where those wait in scratch space. */
interface EditJob {
  /** The ledger's job id, for a paid edit. */
  paidJobId?: string;
  /** The gateway's time budget for the edit, so that every worker applies the same one. */
  budgetMs: number;
  request: {
    model: string;
    prompt: string;
    size: string;
    n: number;
    options: EditRequest["options"];
    /** OpenAI's end-user id, passed on by the worker. */
    user?: string;
    quote: Omit<EditRequest["quote"], "unitPrice" | "total"> & { unitPrice: string; total: string };
    images: { key: string; format: ImageFormat; width: number; height: number }[];
    mask?: { key: string; width: number; height: number };
  };
}

/** What a worker answers: the outcome of a free edit (a paid one is in the ledger), and its timings. */
interface JobAnswer {
  run?: EditRun;
  error?: StoredError;
  model: string;
  waitMs: number;
  runMs: number;
}

export interface QueuedRunnerOptions {
  queue: JobQueue;
  scratch: ScratchSpace;
  /** Present when payments are on: an edit whose worker was lost is failed there. */
  ledger?: Ledger;
  /** This gateway's URL of a stored result (the worker's own may differ). */
  fileUrl(key: string): string;
  timeoutMs: number;
  /** After every job a worker finished: how long it waited for a worker and ran, for metrics. */
  onJobFinished?(model: string, waitSeconds: number, runSeconds: number): void;
  onError(error: unknown, jobId: string): void;
}

/** How long a job may wait for a free worker: as long as the edit itself may take. */
export const queueWaitMs = (timeoutMs: number) => timeoutMs;

/** Scale-out: edits are jobs on the queue; this gateway waits for them (QueueEvents). */
export function queuedRunner(options: QueuedRunnerOptions): EditRunner {
  const { queue, scratch, timeoutMs } = options;
  // Long enough for the wait, the edit, a dead worker's job to be taken again, and its recording.
  const waitMs = queueWaitMs(timeoutMs) + timeoutMs + 60_000;

  /** Puts the pixels in scratch space and submits the job; resolves with the worker's answer. */
  async function submit(request: EditRequest, paidJobId?: string): Promise<JobAnswer> {
    const stem = paidJobId ?? `free_${randomBytes(12).toString("base64url")}`;
    const job: EditJob = { paidJobId, budgetMs: timeoutMs, request: describe(request, stem) };
    const keys = scratchKeys(job);
    try {
      await Promise.all(request.images.map((image, i) => scratch.put(job.request.images[i].key, image.bytes)));
      if (request.mask) await scratch.put(job.request.mask!.key, request.mask.grey);
      const answer = (await queue.submit(request.model.provider, job, waitMs)) as JobAnswer;
      options.onJobFinished?.(answer.model, answer.waitMs / 1000, answer.runMs / 1000);
      return answer;
    } finally {
      // The worker removes them when it is done; this covers a worker that died.
      await scratch.remove(keys).catch(() => undefined);
    }
  }

  return {
    async run(request) {
      let answer: JobAnswer;
      try {
        answer = await submit(request);
      } catch (error) {
        throw lostEdit(error);
      }
      if (answer.error) throw restoredError(answer.error);
      return { ...answer.run!, result: withFileUrls(answer.run!.result, options.fileUrl) };
    },

    async runPaid(jobId, request) {
      try {
        await submit(request, jobId);
      } catch (error) {
        if (!(error instanceof JobLost)) options.onError(error, jobId);
        // No worker recorded an end: the edit failed, never charged. A worker that finishes
        // later finds the row failed and cannot complete it.
        await failUnstarted(options.ledger!, jobId, lostEdit(error));
      }
    },
  };
}

export interface EditProcessorOptions {
  edits: Pick<EditService, "run">;
  catalog: Catalog;
  scratch: ScratchSpace;
  /** Needed for paid edits: the worker records their outcome. */
  ledger?: Ledger;
  onError(error: unknown, jobId: string): void;
}

/** The work of `retouch worker` (and of a gateway's in-process workers): one queued edit. */
export function editProcessor(options: EditProcessorOptions): Processor {
  const { edits, catalog, scratch, ledger } = options;
  return async (data, attempt: JobAttempt): Promise<JobAnswer> => {
    const job = data as EditJob;
    const started = Date.now();
    const answer = (outcome: Pick<JobAnswer, "run" | "error">): JobAnswer => ({
      ...outcome,
      model: job.request.model,
      waitMs: attempt.firstStartedAt - attempt.queuedAt,
      runMs: Date.now() - started,
    });
    const id = job.paidJobId ?? attempt.id;
    try {
      const waited = attempt.firstStartedAt - attempt.queuedAt;
      const left = attempt.firstStartedAt + job.budgetMs - started;
      let refusal: RetouchError | undefined;
      if (waited > queueWaitMs(job.budgetMs)) refusal = queueTimedOut(waited);
      else if (left < MIN_RESUME_MS) refusal = editTimedOut(job.budgetMs);
      if (refusal) {
        if (job.paidJobId) await failUnstarted(ledger!, job.paidJobId, refusal);
        return answer({ error: storedError(refusal, id) });
      }
      const request = await restore(job, catalog, scratch);
      if (job.paidJobId) {
        if (!ledger) throw new Error("a paid edit reached a worker without the ledger: give workers the gateways' DATABASE_URL and RETOUCH_PAYMENTS");
        await executePaid({ edits, ledger, onError: options.onError }, job.paidJobId, request, left, attempt.resumed);
        return answer({});
      }
      return answer({ run: await edits.run(request, left) });
    } catch (error) {
      if (!(error instanceof RetouchError)) options.onError(error, id);
      return answer({ error: storedError(error, id) });
    } finally {
      await scratch.remove(scratchKeys(job)).catch(() => undefined);
    }
  };
}

/** A resumed job with less time than this left is failed (504) rather than started again. */
const MIN_RESUME_MS = 1_000;

function describe(request: EditRequest, stem: string): EditJob["request"] {
  const { quote } = request;
  return {
    model: request.model.id,
    prompt: request.prompt,
    size: request.size,
    n: request.n,
    options: request.options,
    ...(request.user ? { user: request.user } : {}),
    quote: { ...quote, unitPrice: quote.unitPrice.toString(), total: quote.total.toString() },
    images: request.images.map((image, i) => ({ key: `${stem}.image${i}`, format: image.format, width: image.width, height: image.height })),
    mask: request.mask && { key: `${stem}.mask`, width: request.mask.width, height: request.mask.height },
  };
}

function scratchKeys(job: EditJob): string[] {
  return [...job.request.images.map((image) => image.key), ...(job.request.mask ? [job.request.mask.key] : [])];
}

/** The request again, on this worker: its model from this worker's catalog, its pixels from scratch space. */
async function restore(job: EditJob, catalog: Catalog, scratch: ScratchSpace): Promise<EditRequest> {
  const { request } = job;
  const read = async (key: string) => {
    const bytes = await scratch.get(key);
    if (!bytes) throw new Error(`the inputs of this edit are gone from the scratch space (${key})`);
    return bytes;
  };
  const images = await Promise.all(request.images.map(async ({ key, ...image }) => ({ ...image, bytes: await read(key) })));
  const mask = request.mask && { width: request.mask.width, height: request.mask.height, grey: await read(request.mask.key) };
  return {
    model: catalog.resolve(request.model),
    prompt: request.prompt,
    size: request.size,
    n: request.n,
    options: request.options,
    ...(request.user ? { user: request.user } : {}),
    quote: { ...request.quote, unitPrice: BigInt(request.quote.unitPrice), total: BigInt(request.quote.total) },
    images,
    mask,
  };
}

/** A paid edit that will not run (or whose worker was lost): failed from whichever state it waits in, never charged. */
async function failUnstarted(ledger: Ledger, jobId: string, refusal: RetouchError): Promise<void> {
  const error = storedError(refusal, jobId);
  if (!(await ledger.transition(jobId, "verified", "failed", { error }))) await ledger.transition(jobId, "running", "failed", { error });
}

function queueTimedOut(waitedMs: number): RetouchError {
  return new RetouchError(
    `every edit worker was busy for ${Math.round(waitedMs / 1000)} s, so the edit did not start; nothing was charged, try again shortly`,
    { status: 503, type: "server_error", code: "queue_timeout", headers: { "Retry-After": "30" } },
  );
}

/** The queue could not take the job, or the job ended without a worker's answer. */
function lostEdit(error: unknown): RetouchError {
  if (error instanceof RetouchError) return error;
  const lost = error instanceof JobLost;
  return new RetouchError(
    lost
      ? "the worker running this edit stopped before it finished; nothing was charged, send the request again"
      : "the edit queue is unavailable; nothing was charged, try again shortly",
    { status: 503, type: "server_error", code: lost ? "edit_lost" : "queue_unavailable", headers: { "Retry-After": "5" }, cause: error },
  );
}
