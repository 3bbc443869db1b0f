// How far V8 lets the JavaScript heap grow between full collections, for a long-running
// gateway or worker.
//
// A serving process holds ~56 MB of live heap (its modules and their data) and makes a
// little garbage per request. V8 sizes the next full collection from how cheap its last
// one looked on the main thread, which for this heap is very cheap, so under steady
// traffic it settled on limits a few MB above the live heap and ran a full mark-compact
// of all 56 MB for about every OpenAI edit: ~25 ms of CPU per edit, counting the
// concurrent marking threads, out of ~60. Letting the heap double between collections
// (V8's --heap-growing-percent) brought bench/openai-mask.bench.ts from 56-66 to 37-40
// CPU ms per edit for ~25 MB more resident memory.

import { setFlagsFromString } from "node:v8";

/** Percent the old generation may grow past its live size before the next full collection. */
const HEAP_GROWING_PERCENT = 100;

/** Call once, early, in a process that serves requests for a long time. */
export function tuneHeapForServing(): void {
  // V8 reads this flag each time it sets the next collection's limit, so setting it at run time works.
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
