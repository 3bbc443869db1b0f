// Edits as jobs on the fleet's queue, in one process: the real BullMQ queue on
// the machine's Redis (a key prefix of this file's own), a scratch space on disk,
// a PGlite ledger, and a stand-in edit that records what reached the worker.
// What a request keeps on its way through the queue, how a worker's answer and
// errors come back, and how a paid edit's row ends when its job cannot run.
// (test/queue.test.ts runs the same with `retouch worker` processes.)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createCatalog } from "../catalog/index.ts";
import type { EditRequest } from "../edits/index.ts";
import { RetouchError } from "../errors.ts";
import type { Ledger, PaidEdit } from "../payments/index.ts";
import { createFilesystemBlobStore, JobLost, type JobAttempt, type JobQueue, type JobWorkers, type ScratchSpace } from "../storage/index.ts";
import { openJobQueue } from "../storage/queue/bullmq.ts";
import { tempLedger } from "../../test/support/ledger.ts";
import { editProcessor, localRunner, queuedRunner, queueWaitMs, type QueuedRunnerOptions } from "./edit-jobs.ts";
import type { EditRun } from "./edit-service.ts";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `retouch-edit-jobs-test-${randomBytes(4).toString("hex")}`;
const GATEWAY_FILES = "http://gw.test/api/v1/files";
const BUDGET_MS = 30_000;
const catalog = createCatalog({ margin: "0" });

/** What the stand-in edit saw, and what it does (set by each test). */
const worker = {
  edit: async (_request: EditRequest): Promise<EditRun> => {
    throw new Error("no edit set");
  },
  seen: [] as { request: EditRequest; timeoutMs: number | undefined }[],
  unexpected: [] as { error: unknown; jobId: string }[],
};

let queue: JobQueue;
let workers: JobWorkers;
let scratch: ScratchSpace;
let scratchDir: string;
let dir: string;
let ledger: Ledger;
let closeLedger: () => Promise<void>;

const edits = {
  run(request: EditRequest, timeoutMs?: number) {
    worker.seen.push({ request, timeoutMs });
    return worker.edit(request);
  },
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-edit-jobs-"));
  ({ scratch } = await createFilesystemBlobStore(join(dir, "results")));
  scratchDir = join(dir, "scratch");
  ({ ledger, close: closeLedger } = await tempLedger("edit-jobs"));
  queue = await openJobQueue({ url: REDIS_URL, prefix: PREFIX, laneLimits: {} });
  const onError = (error: unknown, jobId: string) => void worker.unexpected.push({ error, jobId });
  workers = queue.work({ local: 1 }, editProcessor({ edits, catalog, scratch, ledger, onError }), (error) => worker.unexpected.push({ error, jobId: "" }));
});

after(async () => {
  await workers?.close();
  await queue?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${PREFIX}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await closeLedger?.();
  await rm(dir, { recursive: true, force: true });
});

/** A fresh start for a test: no edits seen, no errors reported, and what the worker's edit does. */
function workerDoes(edit: (request: EditRequest) => Promise<EditRun>): void {
  worker.edit = edit;
  worker.seen = [];
  worker.unexpected = [];
}

interface Finished {
  model: string;
  waitSeconds: number;
  runSeconds: number;
}

/** A gateway's runner on the queue, with what it reported. */
function gateway(overrides: Partial<QueuedRunnerOptions> = {}) {
  const finished: Finished[] = [];
  const unexpected: { error: unknown; jobId: string }[] = [];
  const runner = queuedRunner({
    queue,
    scratch,
    ledger,
    fileUrl: (key) => `${GATEWAY_FILES}/${key}`,
    timeoutMs: BUDGET_MS,
    onJobFinished: (model, waitSeconds, runSeconds) => void finished.push({ model, waitSeconds, runSeconds }),
    onError: (error, jobId) => void unexpected.push({ error, jobId }),
    ...overrides,
  });
  return { runner, finished, unexpected };
}

/** An edit of the embedded engine, as validation makes it: two images, a mask, the caller's options and id. */
function editRequest(): EditRequest {
  return {
    model: catalog.resolve("local/content-aware-fill"),
    prompt: "remove the scooter, keep the café's sign ✂",
    images: [
      { bytes: randomBytes(300), format: "png", width: 64, height: 48 },
      { bytes: randomBytes(200), format: "jpeg", width: 32, height: 32 },
    ],
    mask: { width: 64, height: 48, grey: randomBytes(64 * 48) },
    size: "auto",
    n: 2,
    options: { quality: "high" },
    user: "user-42",
    quote: { model: "local/content-aware-fill", size: "auto", n: 2, unitPrice: 1000n, total: 2000n, amount: "0.002" },
  } as EditRequest;
}

function resultKey(): string {
  return `${randomBytes(16).toString("base64url")}.png`;
}

function run(keys: string[]): EditRun {
  const data = keys.map((key) => ({ url: `http://worker.internal:9000/api/v1/files/${key}` }));
  return { result: { created: 1_700_000_000, data, price: { amount: "0.002", currency: "USD" } }, usage: { images: keys.length } };
}

async function scratchFiles(): Promise<string[]> {
  return readdir(scratchDir).catch(() => []);
}

/** A verified payment's row, as the gateway claims it before handing the edit on. */
async function paidRow(status: "verified" | "running" = "verified"): Promise<string> {
  const jobId = `job_${randomBytes(8).toString("hex")}`;
  const claimed = await ledger.claim({
    paymentId: `eip155:8453:0x${randomBytes(20).toString("hex")}:${randomBytes(8).toString("hex")}`,
    jobId,
    x402Version: 2,
    network: "eip155:8453",
    payer: `0x${randomBytes(20).toString("hex")}`,
    amount: "2000",
    priceUsd: "0.002",
    model: "local/content-aware-fill",
    size: "auto",
    n: 2,
    fingerprint: randomBytes(32).toString("hex"),
    payload: {},
    requirements: {},
  });
  assert.equal(claimed, true);
  if (status === "running") assert.equal(await ledger.transition(jobId, "verified", "running"), true);
  return jobId;
}

async function row(jobId: string): Promise<PaidEdit> {
  return (await ledger.byJob(jobId))!;
}

/** The fields of a request that travel through the queue (the rest is how the gateway answers). */
function travelling(request: EditRequest) {
  const { model, prompt, images, mask, size, n, options, user, quote } = request;
  return { model, prompt, images: images.map((image) => ({ ...image, bytes: Buffer.from(image.bytes) })), mask: mask && { ...mask, grey: Buffer.from(mask.grey) }, size, n, options, user, quote };
}

test("a free edit on the queue reaches the worker as it was sent, its result comes back with this gateway's URLs, and its inputs leave the scratch space", async () => {
  const keys = [resultKey(), resultKey()];
  workerDoes(async () => run(keys));
  const { runner, finished, unexpected } = gateway();
  const request = editRequest();

  const answer = await runner.run(request);

  assert.equal(worker.seen.length, 1);
  const seen = worker.seen[0];
  assert.deepEqual(travelling(seen.request), travelling(request), "pixels, mask, prompt, options, user and quote (bigints) intact");
  assert.ok(seen.timeoutMs! <= BUDGET_MS && seen.timeoutMs! > BUDGET_MS - 10_000, `the worker's budget is what is left of the gateway's (${seen.timeoutMs} ms)`);
  assert.deepEqual(
    answer.result.data.map((item) => item.url),
    keys.map((key) => `${GATEWAY_FILES}/${key}`),
  );
  assert.deepEqual(answer.usage, { images: 2 });
  assert.equal(finished.length, 1);
  assert.equal(finished[0].model, "local/content-aware-fill");
  assert.ok(finished[0].waitSeconds >= 0 && finished[0].waitSeconds < 10, `waited ${finished[0].waitSeconds} s`);
  assert.ok(finished[0].runSeconds >= 0 && finished[0].runSeconds < 10, `ran ${finished[0].runSeconds} s`);
  assert.deepEqual(await scratchFiles(), []);
  assert.deepEqual(unexpected, []);
  assert.deepEqual(worker.unexpected, []);
});

test("the gateway waits for a job as long as the queue wait, the edit and a minute for a dead worker's job to be taken again", async () => {
  workerDoes(async () => run([resultKey()]));
  const waits: number[] = [];
  // The real queue, recording the wait each job is given (0 would be no limit to BullMQ).
  const recording: JobQueue = Object.create(queue, {
    submit: { value: (lane: string, data: object, waitMs: number) => (waits.push(waitMs), queue.submit(lane, data, waitMs)) },
  });
  const { runner } = gateway({ queue: recording });

  await runner.run(editRequest());

  assert.deepEqual(waits, [queueWaitMs(BUDGET_MS) + BUDGET_MS + 60_000]);
  assert.equal(queueWaitMs(BUDGET_MS), BUDGET_MS, "a job may wait for a worker as long as the edit may take");
});

test("a request without a mask or a user id travels without them", async () => {
  workerDoes(async () => run([resultKey()]));
  const { runner } = gateway();
  const { mask: _mask, user: _user, ...request } = editRequest();
  await runner.run(request as EditRequest);
  assert.equal(worker.seen[0].request.mask, undefined);
  assert.equal("user" in worker.seen[0].request, false);
  assert.equal(worker.seen[0].request.images.length, 2);
});

test("a free edit that fails on the worker is the same error at the gateway; an unexpected one is reported on the worker and answered as a 500 naming no internals", async () => {
  const upstream = new RetouchError("the upstream answered 500: overloaded", { status: 502, type: "server_error", code: "upstream_error", param: null, headers: { "Retry-After": "7" } });
  workerDoes(async () => {
    throw upstream;
  });
  const { runner, unexpected } = gateway();
  await assert.rejects(runner.run(editRequest()), (error: unknown) => {
    assert.ok(error instanceof RetouchError);
    assert.deepEqual(
      { status: error.status, type: error.type, code: error.code, message: error.message, headers: error.headers },
      { status: 502, type: "server_error", code: "upstream_error", message: upstream.message, headers: { "Retry-After": "7" } },
    );
    return true;
  });
  assert.equal(worker.unexpected.length, 0, "a known error is not a fault");

  workerDoes(async () => {
    throw new TypeError("cannot read properties of undefined (reading 'secret')");
  });
  await assert.rejects(runner.run(editRequest()), (error: unknown) => {
    assert.ok(error instanceof RetouchError);
    assert.equal(error.status, 500);
    assert.equal(error.code, "internal_error");
    assert.match(error.message, /^internal server error; quote job \S+ when reporting it\. Nothing was charged\.$/);
    assert.doesNotMatch(error.message, /secret/);
    return true;
  });
  assert.equal(worker.unexpected.length, 1);
  assert.match(String(worker.unexpected[0].error), /reading 'secret'/);
  assert.deepEqual(unexpected, [], "the gateway got an answer, not a fault");
  assert.deepEqual(await scratchFiles(), []);
});

test("a paid edit on the queue: the worker records it completed with its result; sent again, the row is not run twice", async () => {
  const keys = [resultKey()];
  workerDoes(async () => run(keys));
  const { runner } = gateway();
  const jobId = await paidRow();

  await runner.runPaid(jobId, editRequest());
  const done = await row(jobId);
  assert.equal(done.status, "completed");
  assert.deepEqual(done.result, run(keys).result, "the worker's result, recorded for the settlement");
  assert.deepEqual(done.usage, { images: 1 });

  await runner.runPaid(jobId, editRequest());
  assert.equal(worker.seen.length, 1, "a completed row does not run again");
  assert.equal((await row(jobId)).status, "completed");
});

test("a paid edit that fails on the worker is failed in the ledger with its error, never charged", async () => {
  workerDoes(async () => {
    throw new RetouchError("the upstream refused the prompt", { status: 400, type: "invalid_request_error", code: "content_policy_violation", param: "prompt" });
  });
  const { runner } = gateway();
  const jobId = await paidRow();
  await runner.runPaid(jobId, editRequest());
  const failed = await row(jobId);
  assert.equal(failed.status, "failed");
  assert.deepEqual(failed.error, { status: 400, message: "the upstream refused the prompt", type: "invalid_request_error", code: "content_policy_violation", param: "prompt" });
});

// The processor alone, given the attempt a queue would: how long the job waited and whether it ran before.

/** A job as a gateway queues it, its inputs in scratch space. */
async function queuedJob(paidJobId?: string): Promise<{ data: object; keys: string[] }> {
  const stem = `t_${randomBytes(6).toString("hex")}`;
  const keys = [`${stem}.image0`, `${stem}.mask`];
  await scratch.put(keys[0], randomBytes(100));
  await scratch.put(keys[1], randomBytes(16));
  const request = {
    model: "local/content-aware-fill",
    prompt: "remove the scooter",
    size: "auto",
    n: 1,
    options: {},
    quote: { model: "local/content-aware-fill", size: "auto", n: 1, unitPrice: "1000", total: "1000", amount: "0.001" },
    images: [{ key: keys[0], format: "png", width: 4, height: 4 }],
    mask: { key: keys[1], width: 4, height: 4 },
  };
  return { data: { paidJobId, budgetMs: BUDGET_MS, request }, keys };
}

function processor(withLedger = true) {
  const unexpected: { error: unknown; jobId: string }[] = [];
  const process = editProcessor({ edits, catalog, scratch, ledger: withLedger ? ledger : undefined, onError: (error, jobId) => void unexpected.push({ error, jobId }) });
  return { process, unexpected };
}

/** An attempt that waited `waitedMs` for a worker and (when resumed) started `ranMs` ago. */
function attempt(waitedMs: number, ranMs = 0, resumed = false): JobAttempt {
  const firstStartedAt = Date.now() - ranMs;
  return { id: `q${randomBytes(4).toString("hex")}`, queuedAt: firstStartedAt - waitedMs, firstStartedAt, resumed };
}

interface Answer {
  run?: EditRun;
  error?: { status: number; code: string; message: string; headers?: Record<string, string> };
  model: string;
  waitMs: number;
  runMs: number;
}

test("a job that waited for a worker longer than its budget is refused 503 queue_timeout and not run; its paid row is failed; exactly the budget still runs", async () => {
  workerDoes(async () => run([resultKey()]));
  const { process } = processor();
  const jobId = await paidRow();
  const late = await queuedJob(jobId);

  const answer = (await process(late.data, attempt(BUDGET_MS + 3_000))) as Answer;
  assert.deepEqual(answer.error, {
    status: 503,
    message: "every edit worker was busy for 33 s, so the edit did not start; nothing was charged, try again shortly",
    type: "server_error",
    code: "queue_timeout",
    param: null,
    headers: { "Retry-After": "30" },
  });
  assert.equal(answer.model, "local/content-aware-fill");
  assert.equal(answer.waitMs, BUDGET_MS + 3_000);
  assert.equal(worker.seen.length, 0);
  const failed = await row(jobId);
  assert.equal(failed.status, "failed");
  assert.equal(failed.error!.code, "queue_timeout");
  assert.deepEqual(await scratchFiles(), [], "the worker removes a refused job's inputs");

  const onTime = await queuedJob();
  const ran = (await process(onTime.data, attempt(BUDGET_MS))) as Answer;
  assert.equal(ran.error, undefined);
  assert.equal(worker.seen.length, 1);
  assert.ok(worker.seen[0].timeoutMs! > BUDGET_MS - 5_000, "a job that waited gets the whole budget once it starts");
});

test("a resumed job with less than a second of its budget left fails 504 from the dead worker's `running`; with a second left it runs on what is left", async () => {
  workerDoes(async () => run([resultKey()]));
  const { process } = processor();
  const jobId = await paidRow("running");
  const job = await queuedJob(jobId);

  const answer = (await process(job.data, attempt(0, BUDGET_MS - 500, true))) as Answer;
  assert.equal(answer.error?.status, 504);
  assert.equal(worker.seen.length, 0);
  const failed = await row(jobId);
  assert.equal(failed.status, "failed", "failed from running, where the dead worker left it");
  assert.equal(failed.error!.status, 504);

  const resumedId = await paidRow("running");
  const resumed = await queuedJob(resumedId);
  const before = Date.now();
  const ran = (await process(resumed.data, attempt(0, BUDGET_MS - 20_000, true))) as Answer;
  assert.equal(ran.error, undefined);
  assert.equal(worker.seen.length, 1);
  const left = worker.seen[0].timeoutMs!;
  assert.ok(left <= 20_000 && left > 20_000 - (Date.now() - before) - 1_000, `the resumed edit gets what is left of the budget (${left} ms)`);
  assert.equal((await row(resumedId)).status, "completed");
});

test("a resumed job with exactly a second of its budget left still runs", async (t) => {
  workerDoes(async () => run([resultKey()]));
  t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
  const { process } = processor();
  const jobId = await paidRow("running");
  const answer = (await process((await queuedJob(jobId)).data, attempt(0, BUDGET_MS - 1_000, true))) as Answer;
  assert.equal(answer.error, undefined);
  assert.equal(worker.seen[0].timeoutMs, 1_000);
  assert.equal((await row(jobId)).status, "completed");
});

test("embedded, a paid edit whose row is already running (its edit under way here) is not run a second time", async () => {
  workerDoes(async () => run([resultKey()]));
  const runner = localRunner({ edits, ledger, onError: (error) => assert.fail(String(error)) });
  const jobId = await paidRow("running");
  await runner.runPaid(jobId, editRequest());
  assert.equal(worker.seen.length, 0);
  assert.equal((await row(jobId)).status, "running");
});

test("a job not resumed whose row another worker is running does nothing to it", async () => {
  workerDoes(async () => run([resultKey()]));
  const { process } = processor();
  const jobId = await paidRow("running");
  const answer = (await process((await queuedJob(jobId)).data, attempt(0))) as Answer;
  assert.equal(answer.error, undefined);
  assert.equal(worker.seen.length, 0);
  assert.equal((await row(jobId)).status, "running");
});

test("a job whose inputs are gone from the scratch space fails as a 500, reported, its paid row failed", async () => {
  workerDoes(async () => run([resultKey()]));
  const { process, unexpected } = processor();
  const jobId = await paidRow();
  const job = await queuedJob(jobId);
  await scratch.remove(job.keys);
  const answer = (await process(job.data, attempt(0))) as Answer;
  assert.equal(answer.error?.status, 500);
  assert.equal(answer.error?.message, `internal server error; quote job ${jobId} when reporting it. Nothing was charged.`);
  assert.equal(unexpected.length, 1);
  assert.equal(unexpected[0].jobId, jobId);
  assert.match(String(unexpected[0].error), /the inputs of this edit are gone from the scratch space \(t_[0-9a-f]+\.image0\)/);
  assert.equal(worker.seen.length, 0);
});

test("a paid job on a worker started without the ledger fails naming the settings to give it, and its inputs are removed", async () => {
  workerDoes(async () => run([resultKey()]));
  const { process, unexpected } = processor(false);
  const job = await queuedJob(await paidRow());
  const answer = (await process(job.data, attempt(0))) as Answer;
  assert.equal(answer.error?.status, 500);
  assert.match(String(unexpected[0].error), /a paid edit reached a worker without the ledger: give workers the gateways' DATABASE_URL and RETOUCH_PAYMENTS/);
  assert.equal(worker.seen.length, 0);
  assert.deepEqual(await scratchFiles(), []);
});

// The gateway's side when the queue fails it: a queue that answers with the failure BullMQ gives.

function failingQueue(error: Error): JobQueue {
  return { ...queue, submit: async () => Promise.reject(error) };
}

test("a job whose worker was lost: 503 edit_lost for a free edit; a paid row is failed from either state, with no fault reported", async () => {
  const lost = new JobLost("job stalled more than allowable limit");
  const { runner, unexpected } = gateway({ queue: failingQueue(lost) });
  await assert.rejects(runner.run(editRequest()), (error: unknown) => {
    assert.ok(error instanceof RetouchError);
    assert.equal(error.status, 503);
    assert.equal(error.code, "edit_lost");
    assert.equal(error.message, "the worker running this edit stopped before it finished; nothing was charged, send the request again");
    assert.deepEqual(error.headers, { "Retry-After": "5" });
    return true;
  });

  for (const state of ["verified", "running"] as const) {
    const jobId = await paidRow(state);
    await runner.runPaid(jobId, editRequest());
    const failed = await row(jobId);
    assert.equal(failed.status, "failed", `from ${state}`);
    assert.equal(failed.error!.code, "edit_lost");
    assert.equal(failed.error!.status, 503);
  }
  assert.deepEqual(unexpected, []);
  assert.deepEqual(await scratchFiles(), [], "the gateway removes the inputs no worker will");
});

test("a queue that cannot take the job: 503 queue_unavailable, and a paid edit's failure is reported", async () => {
  const down = new Error("connect ECONNREFUSED 127.0.0.1:6379");
  const { runner, unexpected } = gateway({ queue: failingQueue(down) });
  await assert.rejects(runner.run(editRequest()), (error: unknown) => {
    assert.ok(error instanceof RetouchError);
    assert.equal(error.status, 503);
    assert.equal(error.code, "queue_unavailable");
    assert.equal(error.message, "the edit queue is unavailable; nothing was charged, try again shortly");
    return true;
  });
  const jobId = await paidRow();
  await runner.runPaid(jobId, editRequest());
  assert.equal((await row(jobId)).error!.code, "queue_unavailable");
  assert.deepEqual(unexpected, [{ error: down, jobId }]);
});
