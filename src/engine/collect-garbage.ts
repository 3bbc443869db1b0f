// A full garbage collection on request, in this thread's isolate. After a large job the
// dead pixel buffers (tens of MB each) stay allocated until V8 next collects, and an idle
// thread never does: this hands them back at once.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    // V8's flag exposes `gc` to contexts created after it is set; a fresh vm context is one.
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

let pending: NodeJS.Timeout | undefined;

/**
 * One collection a moment after a burst of large work ends (each call restarts the wait), so that
 * the buffers of requests just answered are returned while the process sits idle. The default wait
 * outlasts an HTTP keep-alive (Node's server closes idle sockets after 5 s): a socket kept open
 * still references its last request.
 */
export function collectGarbageSoon(delayMs = 6_000): void {
  if (pending) clearTimeout(pending);
  pending = setTimeout(() => {
    pending = undefined;
    collectGarbage();
  }, delayMs);
  pending.unref();
}
