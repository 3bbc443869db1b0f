// The engine pool as the server relies on it: fills run in worker threads, time budgets are
// enforced by terminating workers, crashes stay contained, and the pool loads under every launcher.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { RetouchError } from "../errors.ts";
import { makeScene, redPixelCount, squareMask } from "../../test/support/scene.ts";
import { collectGarbage } from "./collect-garbage.ts";
import { contentAwareFill } from "./fill.ts";
import type { FillInput } from "./input.ts";
import { createEnginePool, defaultThreads } from "./pool.ts";

const fixtureUrl = new URL("./pool.fixture.ts", import.meta.url);

function sceneInput(side: number, hole: number): FillInput {
  const scene = makeScene({ width: side, height: side });
  return { width: side, height: side, rgb: scene.rgb, mask: squareMask(side, side, scene.disc.cx, scene.disc.cy, hole) };
}

/** A 1x1 request for the fixture worker; `command` is 0 echo, 1 hang, 2 throw, 3 exit. */
function fixtureInput(command: number): FillInput {
  return { width: 1, height: 1, rgb: new Uint8Array([command, 7, 9]), mask: new Uint8Array(1) };
}

describe("createEnginePool", () => {
  const big = sceneInput(1024, 400);
  const small = sceneInput(96, 28);

  test("runs fills in a worker: the main thread's timers keep firing, and the result is the engine's", async () => {
    const pool = createEnginePool({ threads: 1 });
    try {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const started = performance.now();
      const out = await pool.fill(big);
      const elapsed = performance.now() - started;
      clearInterval(timer);
      // A fill on the main thread would have blocked every tick until it returned.
      assert.ok(ticks >= Math.min(10, elapsed / 40), `${ticks} ticks in ${elapsed.toFixed(0)} ms`);
      assert.equal(redPixelCount(out), 0);
      assert.deepEqual(await pool.fill(small), contentAwareFill(small));
    } finally {
      await pool.close();
    }
  });

  test("the caller's buffers stay usable after fill", async () => {
    const pool = createEnginePool({ threads: 1 });
    try {
      const input = sceneInput(64, 16);
      const before = input.rgb.slice();
      await pool.fill(input);
      assert.deepEqual(input.rgb, before);
      assert.equal(input.mask.length, 64 * 64);
    } finally {
      await pool.close();
    }
  });

  test("abort terminates the running fill, rejects with the signal's reason, and the pool keeps working", async () => {
    const pool = createEnginePool({ threads: 1 });
    try {
      const controller = new AbortController();
      const reason = new Error("time budget spent");
      const running = pool.fill(big, { signal: controller.signal, onStart: () => controller.abort(reason) });
      await assert.rejects(running, (error) => error === reason);
      assert.equal(redPixelCount(await pool.fill(small)), 0);
    } finally {
      await pool.close();
    }
  });

  test("abort really stops the worker: a job behind a never-ending one is served", async () => {
    const pool = createEnginePool({ threads: 1, workerUrl: fixtureUrl });
    try {
      const controller = new AbortController();
      const stuck = pool.fill(fixtureInput(1), { signal: controller.signal, onStart: () => controller.abort(new Error("budget")) });
      const next = pool.fill(fixtureInput(0));
      await assert.rejects(stuck, /budget/);
      assert.deepEqual([...(await next)], [0, 7, 9]);
    } finally {
      await pool.close();
    }
  });

  test("a queued job whose signal aborts is dropped; an already aborted signal never queues", async () => {
    const pool = createEnginePool({ threads: 1, workerUrl: fixtureUrl });
    try {
      const first = new AbortController();
      const stuck = pool.fill(fixtureInput(1), { signal: first.signal });
      const second = new AbortController();
      const queued = pool.fill(fixtureInput(0), { signal: second.signal });
      second.abort("dropped");
      await assert.rejects(queued, (error) => error === "dropped");
      await assert.rejects(pool.fill(fixtureInput(0), { signal: AbortSignal.abort("early") }), (error) => error === "early");
      first.abort("unstick");
      await assert.rejects(stuck, (error) => error === "unstick");
      assert.deepEqual([...(await pool.fill(fixtureInput(0)))], [0, 7, 9]);
    } finally {
      await pool.close();
    }
  });

  test("a queued job is served after the busy one, in order", async () => {
    const pool = createEnginePool({ threads: 1 });
    try {
      const order: string[] = [];
      const a = pool.fill(sceneInput(256, 60)).then((rgb) => (order.push("a"), rgb));
      const b = pool.fill(small).then((rgb) => (order.push("b"), rgb));
      const [ra, rb] = await Promise.all([a, b]);
      assert.deepEqual(order, ["a", "b"]);
      assert.equal(redPixelCount(ra) + redPixelCount(rb), 0);
    } finally {
      await pool.close();
    }
  });

  test("a crash inside a worker rejects that job with an Error and the pool stays usable", async () => {
    const pool = createEnginePool({ threads: 1, workerUrl: fixtureUrl });
    try {
      await assert.rejects(pool.fill(fixtureInput(2)), /engine worker crashed: fixture blew up/);
      await assert.rejects(pool.fill(fixtureInput(3)), /exited unexpectedly with code 3/);
      assert.deepEqual([...(await pool.fill(fixtureInput(0)))], [0, 7, 9]);
    } finally {
      await pool.close();
    }
  });

  test("a mask the engine refuses arrives as the same 400 RetouchError", async () => {
    const pool = createEnginePool({ threads: 1 });
    try {
      const input = { ...small, mask: new Uint8Array(96 * 96).fill(255) };
      await assert.rejects(pool.fill(input), (error) => error instanceof RetouchError && error.status === 400 && error.param === "mask");
      await assert.rejects(pool.fill({ ...small, rgb: new Uint8Array(5) }), (error) => error instanceof RetouchError && error.param === "image");
    } finally {
      await pool.close();
    }
  });

  test("close rejects pending jobs and later fills", async () => {
    const pool = createEnginePool({ threads: 1, workerUrl: fixtureUrl });
    const running = pool.fill(fixtureInput(1));
    const queued = pool.fill(fixtureInput(0));
    const rejections = Promise.all([assert.rejects(running, /closed/), assert.rejects(queued, /closed/)]);
    await pool.close();
    await rejections;
    await assert.rejects(pool.fill(fixtureInput(0)), /closed/);
  });

  test("an idle worker does not keep a large job's input: its bytes go back once the answer is sent", async () => {
    // The pool copies each job's picture and mask into one buffer, allocated here and moved to the
    // worker. A worker that collected garbage while that request was still in scope kept it until its
    // next job: 30 MB per idle worker for a 2720x2720 edit.
    const pool = createEnginePool({ threads: 1 });
    try {
      const side = 1500;
      const input = sceneInput(side, 40);
      const moved = side * side * 4;
      collectGarbage();
      const before = process.memoryUsage().arrayBuffers;
      const out = await pool.fill(input);
      assert.equal(out.length, side * side * 3);
      for (let polls = 0; ; polls++) {
        collectGarbage(); // this thread's share: the answer, once dropped
        const held = process.memoryUsage().arrayBuffers - before;
        if (held < moved / 2) break;
        assert.ok(polls < 200, `${held} bytes of the job still held 2 s after its answer (the job moved ${moved})`);
        await sleep(10);
      }
    } finally {
      await pool.close();
    }
  });

  test("size: threads option, default capped at 4", async () => {
    const pool = createEnginePool({ threads: 3 });
    assert.equal(pool.size, 3);
    await pool.close();
    assert.equal(createEnginePool().size, Math.min(4, Math.max(1, os.availableParallelism())));
    assert.equal(defaultThreads(), createEnginePool().size);
  });

  describe("loads its TypeScript worker however the process started", () => {
    const dir = mkdtempSync(join(os.tmpdir(), "retouch-pool-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const poolUrl = new URL("./pool.ts", import.meta.url).href;
    const script = `
      const { createEnginePool } = await import(${JSON.stringify(poolUrl)});
      const pool = createEnginePool({ threads: 1 });
      const rgb = await pool.fill({ width: 2, height: 2, rgb: new Uint8Array(12).fill(9), mask: new Uint8Array(4) });
      await pool.close();
      console.log("filled", rgb.length);
    `;
    const root = fileURLToPath(new URL("../..", import.meta.url));

    test("node --import tsx script.mts", () => {
      const file = join(dir, "main.mts");
      writeFileSync(file, `export {};\n${script}`);
      const run = spawnSync(process.execPath, ["--import", "tsx", file], { cwd: root, encoding: "utf8", timeout: 30_000 });
      assert.match(run.stdout, /filled 12/, run.stderr);
    });

    test("a bin script that calls tsx's register() API", () => {
      const file = join(dir, "bin.mjs");
      const api = import.meta.resolve("tsx/esm/api");
      writeFileSync(file, `import { register } from ${JSON.stringify(api)};\nregister();\n${script}`);
      const run = spawnSync(process.execPath, [file], { cwd: root, encoding: "utf8", timeout: 30_000 });
      assert.match(run.stdout, /filled 12/, run.stderr);
    });
  });
});
