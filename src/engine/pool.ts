// A fixed-size pool of worker threads running contentAwareFill off the event loop: jobs queue when
// every worker is busy, and an aborted job's worker is terminated so the time budget is real.

import os from "node:os";
import type { Worker } from "node:worker_threads";
import { validateFillInput, type FillInput } from "./input.ts";
import { fromWireError, type FillReply, type FillRequest } from "./protocol.ts";
import { ENGINE_WORKER_URL } from "../paths.ts";
import { spawnWorker } from "./spawn.ts";

export interface EnginePool {
  /**
   * Fills in a worker. When `signal` aborts, a running job's worker is terminated (and replaced)
   * and the promise rejects with `signal.reason`; a queued job is dropped. The input is copied
   * once into a buffer that is transferred, so the caller's arrays stay usable; the result is
   * transferred back without a copy. `onStart` is called when a worker takes the job off the queue.
   */
  fill(input: FillInput, options?: FillOptions): Promise<Uint8Array>;
  /** Terminates every worker; pending and queued jobs reject. */
  close(): Promise<void>;
  readonly size: number;
}

export interface FillOptions {
  signal?: AbortSignal;
  onStart?: () => void;
  /** Up to `previews` coarse estimates of the fill (full-size RGB), the coarsest first, before the result. */
  previews?: number;
  onPreview?: (rgb: Uint8Array) => void;
}

export interface PoolOptions {
  threads?: number;
  /** The worker module; tests swap in a fixture. Must answer FillRequest with FillReply. */
  workerUrl?: URL;
}

interface Job {
  request: FillRequest;
  signal: AbortSignal | undefined;
  onStart: (() => void) | undefined;
  onPreview: ((rgb: Uint8Array) => void) | undefined;
  resolve: (rgb: Uint8Array) => void;
  reject: (reason: unknown) => void;
  onAbort: () => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export function defaultThreads(): number {
  return Math.min(4, Math.max(1, os.availableParallelism()));
}

/**
 * @example
 * const pool = createEnginePool();
 * const rgb = await pool.fill({ width, height, rgb: pixels, mask }, { signal: AbortSignal.timeout(30_000) });
 */
export function createEnginePool(options: PoolOptions = {}): EnginePool {
  const size = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  const workerUrl = options.workerUrl ?? ENGINE_WORKER_URL;
  const slots: Slot[] = [];
  const queue: Job[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const slot: Slot = { worker: spawnWorker(workerUrl), job: null };
    slot.worker.on("message", (reply: FillReply) => {
      const job = slot.job;
      if (job === null || reply.id !== job.request.id) return;
      if ("preview" in reply) return job.onPreview?.(reply.preview);
      release(slot);
      if (reply.ok) job.resolve(reply.rgb);
      else job.reject(fromWireError(reply.error));
      dispatch();
    });
    // An uncaught exception (or a failed start) kills the worker: fail its job, keep the pool.
    slot.worker.on("error", (error) => retire(slot, new Error(`engine worker crashed: ${error.message}`, { cause: error })));
    slot.worker.on("exit", (code) => retire(slot, new Error(`engine worker exited unexpectedly with code ${code}`)));
    // An idle pool must not keep the process alive; a busy worker does (see dispatch).
    slot.worker.unref();
    slots.push(slot);
    return slot;
  }

  /** Removes a dead or doomed worker; its job (if any) rejects with `reason`. */
  function retire(slot: Slot, reason: unknown): void {
    const index = slots.indexOf(slot);
    if (index < 0) return;
    slots.splice(index, 1);
    const job = slot.job;
    if (job !== null) {
      release(slot);
      job.reject(reason);
    }
    void slot.worker.terminate();
    dispatch();
  }

  function release(slot: Slot): void {
    slot.job?.signal?.removeEventListener("abort", slot.job.onAbort);
    slot.job = null;
    slot.worker.unref();
  }

  function dispatch(): void {
    while (!closed && queue.length > 0) {
      const slot = slots.find((s) => s.job === null) ?? (slots.length < size ? spawn() : undefined);
      if (slot === undefined) return;
      const job = queue.shift() as Job;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage(job.request, [job.request.rgb.buffer as ArrayBuffer]);
      job.onStart?.();
    }
  }

  function fill(input: FillInput, fillOptions: FillOptions = {}): Promise<Uint8Array> {
    const { signal, onStart, onPreview } = fillOptions;
    if (closed) return Promise.reject(new Error("the engine pool is closed"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    try {
      validateFillInput(input);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const request = { ...packRequest(nextId++, input), ...(onPreview ? { previews: fillOptions.previews ?? 0 } : {}) };
      const job: Job = { request, signal, onStart, onPreview, resolve, reject, onAbort: () => abort(job) };
      signal?.addEventListener("abort", job.onAbort, { once: true });
      queue.push(job);
      dispatch();
    });
  }

  function abort(job: Job): void {
    const queued = queue.indexOf(job);
    if (queued >= 0) {
      queue.splice(queued, 1);
      job.reject(job.signal?.reason);
      return;
    }
    const slot = slots.find((s) => s.job === job);
    if (slot === undefined) return;
    retire(slot, job.signal?.reason);
    // The worker was healthy, only late: start its replacement now so the next job does not wait for it.
    if (!closed && slots.length < size) spawn();
  }

  async function close(): Promise<void> {
    closed = true;
    const reason = new Error("the engine pool is closed");
    for (const job of queue.splice(0)) {
      job.signal?.removeEventListener("abort", job.onAbort);
      job.reject(reason);
    }
    const stopping = slots.splice(0).map((slot) => {
      const job = slot.job;
      if (job !== null) {
        release(slot);
        job.reject(reason);
      }
      return slot.worker.terminate();
    });
    await Promise.all(stopping);
  }

  return { fill, close, size };
}

/** One copy of the caller's pixels into a fresh buffer that can be transferred to the worker. */
function packRequest(id: number, input: FillInput): FillRequest {
  const { width, height } = input;
  const buffer = new ArrayBuffer(input.rgb.length + input.mask.length);
  const rgb = new Uint8Array(buffer, 0, input.rgb.length);
  const mask = new Uint8Array(buffer, input.rgb.length, input.mask.length);
  rgb.set(input.rgb);
  mask.set(input.mask);
  return { id, width, height, rgb, mask };
}
