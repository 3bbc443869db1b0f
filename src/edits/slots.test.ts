import { test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { createSlots, decodeSlots } from "./slots.ts";

/** A piece of work that runs until the test lets it finish. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { finish, work: () => done };
}

test("at most `size` run at once; the rest start in arrival order as slots free up", async () => {
  const slots = createSlots(2);
  const started: number[] = [];
  const holds = [held(), held(), held(), held()];
  const runs = holds.map((hold, i) => slots.run(() => (started.push(i), hold.work())));
  await Promise.resolve();
  assert.deepEqual(started, [0, 1]);
  assert.equal(slots.waiting, 2);
  holds[1].finish();
  await runs[1];
  assert.deepEqual(started, [0, 1, 2]);
  holds[0].finish();
  await runs[0];
  assert.deepEqual(started, [0, 1, 2, 3]);
  holds[2].finish();
  holds[3].finish();
  await Promise.all(runs);
  assert.equal(slots.waiting, 0);
});

test("work that fails frees its slot, and the failure reaches its caller", async () => {
  const slots = createSlots(1);
  await assert.rejects(slots.run(() => Promise.reject(new Error("decode failed"))), /decode failed/);
  assert.equal(await slots.run(async () => "next"), "next");
});

test("a caller whose signal aborts while waiting leaves the line without taking a slot", async () => {
  const slots = createSlots(1);
  const first = held();
  const running = slots.run(first.work);
  const controller = new AbortController();
  let ran = false;
  const waiting = slots.run(async () => void (ran = true), controller.signal);
  const after = slots.run(async () => "after");
  controller.abort(new Error("the client left"));
  await assert.rejects(waiting, /the client left/);
  assert.equal(slots.waiting, 1, "only the later caller still waits");
  first.finish();
  await running;
  assert.equal(await after, "after");
  assert.equal(ran, false);
  await assert.rejects(slots.run(async () => "never", controller.signal), /the client left/, "an aborted signal does not even queue");
});

test("running counts the work holding a slot; a signal that aborts after its caller got the slot changes nothing in the line", async () => {
  const slots = createSlots(1);
  const controller = new AbortController();
  const first = held();
  const second = held();
  const running = slots.run(first.work);
  const queued = slots.run(second.work, controller.signal);
  const third = slots.run(async () => "third");
  assert.deepEqual([slots.running, slots.waiting], [1, 2]);
  first.finish();
  await running;
  await Promise.resolve();
  assert.deepEqual([slots.running, slots.waiting], [1, 1], "the second holds the slot, the third waits");
  // Its caller is served already: an abort now must not take anyone else out of the line.
  controller.abort(new Error("too late"));
  assert.equal(slots.waiting, 1, "the third still waits");
  second.finish();
  await queued;
  assert.equal(await third, "third");
  assert.deepEqual([slots.running, slots.waiting], [0, 0]);
});

test("the process decodes at most four pictures at once, fewer on fewer cores", async () => {
  const size = Math.min(4, availableParallelism());
  const holds = Array.from({ length: size + 1 }, () => held());
  const runs = holds.map((hold) => decodeSlots.run(hold.work));
  await Promise.resolve();
  assert.deepEqual([decodeSlots.running, decodeSlots.waiting], [size, 1]);
  for (const hold of holds) hold.finish();
  await Promise.all(runs);
});
