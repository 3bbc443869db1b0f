import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { collectGarbage } from "./collect-garbage.ts";

test("collectGarbage frees pixel buffers nothing references any more, without waiting for more allocation", async () => {
  const size = 64 * 1024 * 1024;
  const holder: { pixels?: Uint8Array } = { pixels: new Uint8Array(size).fill(1) };
  collectGarbage();
  const held = process.memoryUsage().arrayBuffers;
  assert.ok(held >= size, "the buffer is counted while referenced");
  delete holder.pixels;
  collectGarbage();
  // V8 frees the backing stores of dead buffers on a background sweeper, just after the collection.
  // Half the size as margin: the test runner allocates buffers of its own meanwhile.
  for (let polls = 0; process.memoryUsage().arrayBuffers > held - size / 2; polls++) {
    assert.ok(polls < 200, `still ${process.memoryUsage().arrayBuffers} bytes of buffers 2 s after the collection`);
    await sleep(10);
  }
});
