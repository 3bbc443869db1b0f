// Admission control: at most `size` pieces of heavy work (a full decode, an engine
// job) hold their pixels at once; the rest wait their turn in arrival order, holding
// only their compressed bytes. This is what keeps a burst of large uploads from
// decoding all of them at the same moment.

import { availableParallelism } from "node:os";

export interface Slots {
  /** Runs `work` once a slot is free; gives up waiting (rejecting with the reason) when `signal` aborts. */
  run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Work waiting for a slot, for tests and metrics. */
  readonly waiting: number;
  /** Work holding a slot. */
  readonly running: number;
}

export function createSlots(size: number): Slots {
  const total = Math.max(1, Math.floor(size));
  let free = total;
  const queue: (() => void)[] = [];

  function acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (free > 0) {
      free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const take = () => {
        signal?.removeEventListener("abort", abandon);
        resolve();
      };
      const abandon = () => {
        queue.splice(queue.indexOf(take), 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", abandon, { once: true });
      queue.push(take);
    });
  }

  function release(): void {
    const next = queue.shift();
    if (next) next();
    else free++;
  }

  return {
    async run(work, signal) {
      await acquire(signal);
      try {
        return await work();
      } finally {
        release();
      }
    },
    get waiting() {
      return queue.length;
    },
    get running() {
      return total - free;
    },
  };
}

/**
 * Full decodes at once in this process (integrity checks of inputs and results, masks): each
 * holds up to one band of a 4096x4096 picture; libvips spreads each over the cores anyway.
 */
export const decodeSlots = createSlots(Math.min(4, availableParallelism()));
