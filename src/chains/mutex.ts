// A promise queue: tasks given to one mutex run strictly one after another, in call order.
// Used where a read-then-write on a chain must not interleave (the facilitator's nonce).

export type Mutex = <T>(task: () => Promise<T>) => Promise<T>;

export function createMutex(): Mutex {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    // A failed task must not block the ones queued after it.
    tail = run.catch(() => undefined);
    return run;
  };
}
