// The gateway's final answers as `retouch edit` reports them: one prefix per message,
// the exit code its cause deserves, the gateway's own error code kept for --json.

import { test } from "node:test";
import assert from "node:assert/strict";
import { editResult } from "./edit-answer.ts";
import { CliError } from "./errors.ts";

const answer = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

async function refusal(response: Response, paid: boolean): Promise<CliError> {
  try {
    await editResult(response, paid);
  } catch (error) {
    assert.ok(error instanceof CliError);
    return error;
  }
  assert.fail("expected a refusal");
}

test("a payment the gateway refuses says 'payment refused' once and is exit 3", async () => {
  const body = { x402Version: 1, error: "payment refused: the transfer would fail on chain (transaction_simulation_failed)", accepts: [] };
  const error = await refusal(answer(402, body), true);
  assert.equal(error.message, "payment refused: the transfer would fail on chain (transaction_simulation_failed); not charged");
  assert.equal(error.exitCode, 3);
  assert.equal(error.code, "payment_refused");
});

test("a 400 before paying is bad input (exit 2) with the gateway's code; after paying, a failed edit (exit 4)", async () => {
  const body = { error: { message: 'unknown model "x/y"', type: "invalid_request_error", code: "model_not_found", param: "model" } };
  const before = await refusal(answer(400, body), false);
  assert.equal(before.message, 'the gateway refused the request (HTTP 400, nothing was paid): unknown model "x/y"');
  assert.deepEqual([before.exitCode, before.code], [2, "model_not_found"]);
  const after = await refusal(answer(400, body), true);
  assert.equal(after.exitCode, 4);
  assert.match(after.message, /not charged/);
});

test("a 502 or 504 is a failed edit, never charged; another 5xx after paying keeps the payment for --resume", async () => {
  const failed = await refusal(answer(504, { error: { message: "the edit failed: it took too long", code: "timeout" } }), true);
  assert.equal(failed.message, "the edit failed: it took too long (HTTP 504, not charged)");
  assert.equal(failed.exitCode, 4);
  const unsure = await refusal(answer(503, { error: { message: "settlement not confirmed yet", code: "settlement_unconfirmed" } }), true);
  assert.equal(unsure.exitCode, 4);
  assert.match(unsure.message, /may be charged: the payment is kept, run `retouch edit --resume`/);
  assert.equal(unsure.code, "settlement_unconfirmed");
});

test("a 200 without images, or a failed job, is exit 4", async () => {
  assert.equal((await refusal(answer(200, { data: [] }), true)).exitCode, 4);
  const failed = await refusal(answer(200, { status: "failed", error: { message: "upstream refused the prompt" } }), true);
  assert.equal(failed.message, "the edit failed: upstream refused the prompt (not charged)");
});

test("a poll that finds the job interrupted by a gateway restart says so, and how to run it again", async () => {
  const job = { status: "interrupted", error: { message: "the edit was interrupted by a server restart", code: "edit_interrupted" }, payment_status: "not_charged" };
  const interrupted = await refusal(answer(200, job), true);
  assert.equal(interrupted.exitCode, 4);
  assert.equal(interrupted.code, "edit_interrupted");
  assert.match(interrupted.message, /cut off by a restart of the gateway \(not charged\); the payment is kept: run `retouch edit --resume`/);
});

test("a result is returned as the gateway sent it", async () => {
  const body = { data: [{ url: "http://127.0.0.1:4021/api/v1/files/a.png" }], price: { amount: "0.001", currency: "USD" } };
  assert.deepEqual(await editResult(answer(200, body), true), body);
});
