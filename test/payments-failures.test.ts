// What a paying buyer gets when things go wrong (devchain mode): a failing or
// silent upstream, polls of failed, unknown and other people's jobs, a payment
// replayed with other edit options, and v1 payments that do not match the terms.
// Each test pays with its own new wallet and reads the balances on chain.

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_RETRY } from "../src/providers/upstream.ts";
import { dataUri, solidImage, startTestGateway, type TestGateway } from "./support/gateway.ts";
import { signV1, signV2, type TestNetwork, type V1Accept } from "./support/buyer.ts";
import { jsonInit } from "./support/edit-input.ts";
import { testBuyer, type TestBuyer } from "./support/test-buyer.ts";
import { failure, startFakeOpenAi, type FakeOpenAi } from "./upstreams/fake-openai.ts";
import { hang } from "./upstreams/fake-server.ts";

const KEY = "sk-test-payment-failures-9z8y7x";
const EDIT = "/api/v1/images/image2image";
/** gpt-image-1-mini at 1024x1024: $0.011 + 5% = $0.01155. */
const MINI_PRICE = 11_550n;
/** gpt-image-1 at 1024x1024, quality low: $0.011 + 5%. */
const LOW_PRICE = 11_550n;

interface ErrorBody {
  error: { message: string; code: string; type: string };
}
interface PaidBody {
  data: { url: string }[];
  payment: { status: string; tx_hash: string };
}
interface Job {
  id: string;
  status: string;
  poll_url: string;
  payment_status: string;
  error?: { status: number; code: string; message: string };
}

let upstream: FakeOpenAi;
/** Answers within the inline window (200 or the error); an edit may run for 3 s. */
let inline: TestGateway;
/** Answers every paid edit with 202 + poll_url. */
let queued: TestGateway;
let source: string;

before(async () => {
  upstream = await startFakeOpenAi(KEY, await solidImage(1024, 1024, "png", "#2a6"));
  const openai = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: upstream.baseUrl };
  [inline, queued] = await Promise.all([
    startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_UPSTREAM_TIMEOUT_MS: "3000", ...openai }),
    startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_INLINE_WINDOW_MS: "0", ...openai }),
  ]);
  source = dataUri(await solidImage(64, 64));
});
after(async () => {
  await Promise.all([inline?.close(), queued?.close()]);
  await upstream?.close();
});
// Replies scripted by a test never outlive it.
beforeEach(() => upstream.reset());

let prompts = 0;
/** A gpt-image-1-mini edit with a prompt no other test uses (so its own fingerprint). */
function miniEdit(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: "openai/gpt-image-1-mini", prompt: `make it blue #${++prompts} ${Date.now()}`, image: source, ...extra };
}

const calls = (prompt: unknown) => upstream.received.filter((r) => r.body.fields.prompt === prompt).length;

async function errorOf(response: Response, status: number): Promise<ErrorBody["error"]> {
  const body = (await response.json()) as ErrorBody;
  assert.equal(response.status, status, JSON.stringify(body));
  return body.error;
}

async function refusal(response: Response): Promise<string> {
  const body = (await response.json()) as { error: string; x402Version: number; data?: unknown };
  assert.equal(response.status, 402, JSON.stringify(body));
  assert.equal(body.data, undefined);
  return body.error;
}

/** Calls `check` until it is true, a bounded number of times. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`gave up waiting for ${what}`);
}

/** GET poll_url with a payment signed by `buyer` (it proves the wallet; it is never settled). */
async function poll(gw: TestGateway, pollUrl: string, buyer: TestBuyer, network: TestNetwork = "base"): Promise<Response> {
  const path = new URL(pollUrl).pathname;
  const { header } = await signV2(gw, network, path, {}, buyer.wallet);
  return gw.request(path, { headers: { "PAYMENT-SIGNATURE": header } });
}

describe("the upstream fails after the payment was verified: never charged", () => {
  test("OpenAI answers 500 on every attempt: 502, nothing moves, the row is failed, and the replay says so again", async () => {
    const buyer = await testBuyer(inline);
    const edit = miniEdit();
    const outage = failure(500, { message: "The server had an error while processing your request.", type: "server_error", code: null });
    upstream.reply(...Array<typeof outage>(DEFAULT_RETRY.attempts).fill(outage));
    const { header } = await signV2(inline, "base", EDIT, jsonInit(edit), buyer.wallet);

    const error = await errorOf(await inline.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header })), 502);
    assert.equal(error.code, "upstream_error");
    assert.match(error.message, /OpenAI answered 500/);
    assert.equal(calls(edit.prompt), DEFAULT_RETRY.attempts);
    assert.deepEqual(await buyer.rows(), [{ status: "failed", tx_hash: null }]);
    assert.equal(await buyer.paid("base"), 0n);

    // The upstream is healthy again, but this payment's edit has failed: the replay gets the same error, no new edit.
    const replay = await errorOf(await inline.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header })), 502);
    assert.equal(replay.code, "upstream_error");
    assert.equal(calls(edit.prompt), DEFAULT_RETRY.attempts);
    assert.equal(await buyer.paid("base"), 0n);
  });

  test("OpenAI rate limits the server: the paying buyer gets 429 with Retry-After and X-RateLimit-Source, as unpaid callers do; the replay too", async () => {
    const buyer = await testBuyer(inline);
    const edit = miniEdit();
    const limited = failure(429, { message: "Rate limit reached for gpt-image-1-mini.", type: "requests", code: "rate_limit_exceeded" }, { "retry-after": "3600" });
    upstream.reply(limited);
    const { header } = await signV2(inline, "base", EDIT, jsonInit(edit), buyer.wallet);

    for (const attempt of ["first", "replay"]) {
      const response = await inline.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
      assert.equal(response.headers.get("retry-after"), "3600", attempt);
      assert.equal(response.headers.get("x-ratelimit-source"), "upstream", attempt);
      const error = await errorOf(response, 429);
      assert.equal(error.code, "RATE_LIMITED", attempt);
    }
    assert.equal(calls(edit.prompt), 1, "a 429 is not retried, and the replay runs nothing");
    assert.deepEqual(await buyer.rows(), [{ status: "failed", tx_hash: null }]);
    assert.equal(await buyer.paid("base"), 0n);
  });

  test("OpenAI never answers: 504 when RETOUCH_UPSTREAM_TIMEOUT_MS runs out, nothing moves, the row is failed", async () => {
    const buyer = await testBuyer(inline);
    const edit = miniEdit();
    upstream.reply(hang());
    const { header } = await signV2(inline, "solana", EDIT, jsonInit(edit), buyer.wallet);

    const error = await errorOf(await inline.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header })), 504);
    assert.equal(error.code, "edit_timeout");
    assert.match(error.message, /nothing was charged/);
    assert.deepEqual(await buyer.rows(), [{ status: "failed", tx_hash: null }]);
    assert.equal(await buyer.paid("solana"), 0n);
    const replay = await errorOf(await inline.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header })), 504);
    assert.equal(replay.code, "edit_timeout");
    assert.equal(await buyer.paid("solana"), 0n);
  });
});

describe("polls", () => {
  /** A paid edit on the queued gateway whose upstream fails on every attempt: its 202 job. */
  async function failingJob(buyer: TestBuyer): Promise<Job> {
    const edit = miniEdit();
    const outage = failure(503, { message: "Service unavailable.", type: "server_error", code: null });
    upstream.reply(...Array<typeof outage>(DEFAULT_RETRY.attempts).fill(outage));
    const { header } = await signV2(queued, "base", EDIT, jsonInit(edit), buyer.wallet);
    const accepted = await queued.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const job = (await accepted.json()) as Job;
    assert.equal(accepted.status, 202, JSON.stringify(job));
    return job;
  }

  async function expectFailedJob(response: Response, job: Job): Promise<void> {
    const body = (await response.json()) as Job;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.deepEqual(
      { id: body.id, status: body.status, payment_status: body.payment_status, error: { status: body.error?.status, code: body.error?.code } },
      { id: job.id, status: "failed", payment_status: "not_charged", error: { status: 502, code: "upstream_error" } },
    );
  }

  test("a failed job: 200 {status: failed, payment_status: not_charged} with the error; nothing moves, the poll's own payment included", async () => {
    const buyer = await testBuyer(queued);
    const job = await failingJob(buyer);
    await until("the edit to fail", async () => (await buyer.rows())[0]?.status === "failed");
    await expectFailedJob(await poll(queued, job.poll_url, buyer), job);
    assert.deepEqual(await buyer.rows(), [{ status: "failed", tx_hash: null }]);
    assert.equal(await buyer.paid("base"), 0n);
    // Asked again, the same answer, and still nothing is settled.
    await expectFailedJob(await poll(queued, job.poll_url, buyer), job);
    assert.equal(await buyer.paid("base"), 0n);
  });

  test(
    "a poll that arrives as the job fails answers the failed job (200), not the error",
    async () => {
      const buyer = await testBuyer(queued);
      const edit = miniEdit();
      // The upstream's last attempt waits at a gate, so the edit fails exactly when the test lets it: while a poll is under way.
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const outage = failure(503, { message: "Service unavailable.", type: "server_error", code: null });
      const lastAttempt: typeof outage = async (...args) => {
        await gate;
        await outage(...args);
      };
      upstream.reply(...Array<typeof outage>(DEFAULT_RETRY.attempts - 1).fill(outage), lastAttempt);
      const { header } = await signV2(queued, "base", EDIT, jsonInit(edit), buyer.wallet);
      const job = (await (await queued.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }))).json()) as Job;
      await until("the last attempt to reach the upstream", async () => calls(edit.prompt) === DEFAULT_RETRY.attempts);

      const path = new URL(job.poll_url).pathname;
      const { header: pollHeader } = await signV2(queued, "base", path, {}, buyer.wallet);
      const answer = queued.request(path, { headers: { "PAYMENT-SIGNATURE": pollHeader } });
      open();
      await expectFailedJob(await answer, job);
      assert.deepEqual(await buyer.rows(), [{ status: "failed", tx_hash: null }]);
      assert.equal(await buyer.paid("base"), 0n);
    },
  );

  test("an unknown job id: 404 job_not_found, and the payment sent with the poll is not used", async () => {
    const buyer = await testBuyer(queued);
    const { header } = await signV2(queued, "base", EDIT, jsonInit(miniEdit()), buyer.wallet);
    const response = await queued.request("/api/v1/images/jobs/job_AAAAAAAAAAAAAAAAAAAAAA", { headers: { "PAYMENT-SIGNATURE": header } });
    const error = await errorOf(response, 404);
    assert.equal(error.code, "job_not_found");
    assert.match(error.message, /no job job_AAAAAAAAAAAAAAAAAAAAAA/);
    assert.deepEqual(await buyer.rows(), []);
    assert.equal(await buyer.paid("base"), 0n);
  });

  test("another wallet's poll: 403 wrong_wallet, it settles nothing and pays nothing; the owner's poll then settles once", async () => {
    const owner = await testBuyer(queued);
    const stranger = await testBuyer(queued);
    const edit = miniEdit();
    const { header } = await signV2(queued, "base", EDIT, jsonInit(edit), owner.wallet);
    const accepted = await queued.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const job = (await accepted.json()) as Job;
    assert.equal(accepted.status, 202, JSON.stringify(job));
    await until("the edit to complete", async () => (await owner.rows())[0]?.status === "completed");

    const error = await errorOf(await poll(queued, job.poll_url, stranger), 403);
    assert.equal(error.code, "wrong_wallet");
    assert.deepEqual(await owner.rows(), [{ status: "completed", tx_hash: null }], "the stranger's poll did not settle it");
    assert.deepEqual(await stranger.rows(), []);
    assert.equal(await owner.paid("base"), 0n);
    assert.equal(await stranger.lost("base"), 0n);

    const done = await poll(queued, job.poll_url, owner);
    const body = (await done.json()) as PaidBody;
    assert.equal(done.status, 200, JSON.stringify(body));
    assert.equal(body.payment.status, "settled");
    assert.deepEqual(await owner.rows(), [{ status: "settled", tx_hash: body.payment.tx_hash }]);
    assert.equal(await owner.paid("base"), MINI_PRICE);
    assert.equal(await stranger.lost("base"), 0n);
  });
});

describe("the payment's fingerprint includes the edit options", () => {
  for (const [option, value] of [
    ["size", "1536x1024"],
    ["quality", "high"],
    ["n", 2],
  ] as const) {
    test(`a settled payment re-sent with another ${option} is refused: 402 already used, nothing moves, no second row, no edit`, async () => {
      const buyer = await testBuyer(inline);
      const edit = miniEdit({ model: "openai/gpt-image-1", size: "1024x1024", quality: "low", n: 1 });
      const { header } = await signV2(inline, "base", EDIT, jsonInit(edit), buyer.wallet);
      const first = await inline.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
      const paid = (await first.json()) as PaidBody;
      assert.equal(first.status, 200, JSON.stringify(paid));
      assert.equal(await buyer.paid("base"), LOW_PRICE);
      assert.equal(calls(edit.prompt), 1);

      const other = { ...edit, [option]: value };
      const reason = await refusal(await inline.request(EDIT, jsonInit(other, { "PAYMENT-SIGNATURE": header })));
      assert.match(reason, /this payment was already used for job job_\S+ .*sign a new payment for a new edit/);
      assert.equal(calls(edit.prompt), 1, "no second edit ran");
      assert.deepEqual(await buyer.rows(), [{ status: "settled", tx_hash: paid.payment.tx_hash }]);
      assert.equal(await buyer.paid("base"), LOW_PRICE);

      // The same options again are the same edit: its stored result, nothing more to pay.
      const same = (await (await inline.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }))).json()) as PaidBody;
      assert.equal(same.payment.status, "already_settled");
      assert.deepEqual(same.data, paid.data);
      assert.equal(await buyer.paid("base"), LOW_PRICE);
    });
  }
});

describe("v1 (X-PAYMENT) payments are refused for each reason v2 ones are", () => {
  // v1 carries no asset field: a payment signed for another token is a signature made for another contract.
  const cases: [string, (accept: V1Accept) => V1Accept, RegExp][] = [
    ["a wrong amount", (a) => ({ ...a, maxAmountRequired: String(MINI_PRICE - 1n) }), /the amount signed is not the quoted price/],
    ["a wrong payTo", (a) => ({ ...a, payTo: "0x000000000000000000000000000000000000dEaD" }), /goes to another address than this server's payTo/],
    ["a wrong asset", (a) => ({ ...a, asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e" }), /the signature does not match the payer/],
    ["an expired authorization", (a) => ({ ...a, maxTimeoutSeconds: -10 }), /the authorization has expired; sign a new one/],
  ];
  for (const [name, tamper, reason] of cases) {
    test(`base: ${name} is a 402 that says why; nothing moves, no row`, async () => {
      const buyer = await testBuyer(inline);
      const edit = miniEdit();
      const header = await signV1(inline, "base", EDIT, jsonInit(edit), { wallet: buyer.wallet, tamper });
      const message = await refusal(await inline.request(EDIT, jsonInit(edit, { "X-PAYMENT": header })));
      assert.match(message, reason);
      assert.equal(calls(edit.prompt), 0, "no edit ran");
      assert.deepEqual(await buyer.rows(), []);
      assert.equal(await buyer.paid("base"), 0n);
    });
  }

  test("base: another network is a 402 that names the accepted ones; nothing moves, no row", async () => {
    const buyer = await testBuyer(inline);
    const edit = miniEdit();
    const signed = JSON.parse(
      Buffer.from(await signV1(inline, "base", EDIT, jsonInit(edit), { wallet: buyer.wallet }), "base64").toString(),
    ) as { network: string };
    signed.network = "base-sepolia";
    const header = Buffer.from(JSON.stringify(signed)).toString("base64");
    const message = await refusal(await inline.request(EDIT, jsonInit(edit, { "X-PAYMENT": header })));
    assert.match(message, /network "base-sepolia", which this server does not accept; accepted: base, solana/);
    assert.deepEqual(await buyer.rows(), []);
    assert.equal(await buyer.paid("base"), 0n);
  });

  for (const network of ["base", "solana"] as const) {
    test(`${network}: a settled v1 payment reused for another edit is refused; one row, charged once`, async () => {
      const buyer = await testBuyer(inline);
      const edit = miniEdit();
      const header = await signV1(inline, network, EDIT, jsonInit(edit), { wallet: buyer.wallet });
      const first = await inline.request(EDIT, jsonInit(edit, { "X-PAYMENT": header }));
      const paid = (await first.json()) as PaidBody;
      assert.equal(first.status, 200, JSON.stringify(paid));
      assert.equal(await buyer.paid(network), MINI_PRICE);

      const other = miniEdit();
      const message = await refusal(await inline.request(EDIT, jsonInit(other, { "X-PAYMENT": header })));
      assert.match(message, /already used for job job_/);
      assert.equal(calls(other.prompt), 0, "the other edit never ran");
      assert.deepEqual(await buyer.rows(), [{ status: "settled", tx_hash: paid.payment.tx_hash }]);
      assert.equal(await buyer.paid(network), MINI_PRICE);
    });
  }

  for (const [name, tamper, reason] of [
    ["a wrong amount", (a: V1Accept) => ({ ...a, maxAmountRequired: String(MINI_PRICE - 1n) }), /the amount signed is not the quoted price/],
    ["a wrong payTo", (a: V1Accept) => ({ ...a, payTo: "So11111111111111111111111111111111111111112" }), /goes to another address than this server's payTo/],
  ] as const) {
    test(`solana: ${name} is a 402 that says why; nothing moves, no row`, async () => {
      const buyer = await testBuyer(inline);
      const edit = miniEdit();
      const header = await signV1(inline, "solana", EDIT, jsonInit(edit), { wallet: buyer.wallet, tamper });
      const message = await refusal(await inline.request(EDIT, jsonInit(edit, { "X-PAYMENT": header })));
      assert.match(message, reason);
      assert.deepEqual(await buyer.rows(), []);
      assert.equal(await buyer.paid("solana"), 0n);
    });
  }
});
