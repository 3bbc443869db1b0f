// Polls prove the paying wallet with Sign-In-With-X (x402's sign-in-with-x
// extension), never with a payment: the 202 and the poll's 402 carry the
// challenge, the wallet that paid signs it (SIWE on Base, SIWS on Solana), and
// another wallet, another job, another origin, a replay or an expired challenge
// is refused with a 403 that says which. Each test pays with its own new wallet
// and reads the balances on chain (devchain mode).

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import type { PaymentRequired } from "@x402/core/types";
import { createSIWxPayload, encodeSIWxHeader, wrapFetchWithSIWx, type SIWxSigner } from "@x402/extensions/sign-in-with-x";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { BASE, SOLANA } from "../src/chains/index.ts";
import type { SiwxChallenge } from "../src/payments/index.ts";
import { dataUri, solidImage, startTestGateway, type TestGateway } from "./support/gateway.ts";
import { decodeHeader, signV2, type TestNetwork } from "./support/buyer.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { testBuyer, type TestBuyer } from "./support/test-buyer.ts";
import { success, startFakeOpenAi, type FakeOpenAi } from "./upstreams/fake-openai.ts";

const KEY = "sk-test-polls-siwx-4d5e6f";
const EDIT = "/api/v1/images/image2image";
/** gpt-image-1-mini at 1024x1024: $0.011 + 5%. */
const MINI_PRICE = 11_550n;

interface Job {
  id: string;
  status: string;
  poll_url: string;
  extensions?: { "sign-in-with-x": SiwxChallenge };
}
interface Paid {
  payment: { status: string; tx_hash: string };
  data: { url: string }[];
}
interface ErrorBody {
  error: { message: string; code: string };
}

let upstream: FakeOpenAi;
/** Answers every paid edit with 202 + poll_url. */
let gw: TestGateway;
let result: Buffer;

before(async () => {
  result = await solidImage(1024, 1024, "png", "#52a");
  upstream = await startFakeOpenAi(KEY, result);
  gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_INLINE_WINDOW_MS: "0", OPENAI_API_KEY: KEY, OPENAI_BASE_URL: upstream.baseUrl });
});
after(async () => {
  await gw?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

const inProcess = ((input: string | URL | Request, init?: RequestInit) =>
  Promise.resolve(gw.gateway.app.fetch(new Request(input, init)))) as typeof fetch;

let edits = 0;
/** Pays for a local edit with `buyer` on `network`: its 202 job and the price. */
async function paidJob(buyer: TestBuyer, network: TestNetwork): Promise<{ job: Job; price: bigint }> {
  const edit = await sceneEdit(256, `remove the ball #${++edits}`);
  const { header, required } = await signV2(gw, network, EDIT, jsonInit(edit), buyer.wallet);
  const accepted = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
  const job = (await accepted.json()) as Job;
  assert.equal(accepted.status, 202, JSON.stringify(job));
  const chain = network === "base" ? BASE.caip2 : SOLANA.caip2;
  return { job, price: BigInt(required.accepts.find((a) => a.network === chain)!.amount) };
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`gave up waiting for ${what}`);
}

const statusOf = async (jobId: string) => (await gw.gateway.ledger!.byJob(jobId))!.status;
const completed = (jobId: string) => until(`${jobId} to complete`, async () => (await statusOf(jobId)) === "completed");

/** The challenge of a poll answered 402 without proof, after checking that it is there twice (header and body). */
async function challengeOf(pollUrl: string): Promise<SiwxChallenge> {
  const answer = await gw.request(new URL(pollUrl).pathname);
  const body = (await answer.json()) as { extensions: { "sign-in-with-x": SiwxChallenge } };
  assert.equal(answer.status, 402, JSON.stringify(body));
  const header = decodeHeader<PaymentRequired>(answer.headers.get("payment-required"));
  assert.deepEqual(header.extensions?.["sign-in-with-x"], body.extensions["sign-in-with-x"]);
  return body.extensions["sign-in-with-x"];
}

/** What a client does: sign the challenge with its wallet for the chain offered, as the header value. */
async function signIn(challenge: SiwxChallenge, signer: PrivateKeyAccount | object, origin = gw.config.publicUrl): Promise<string> {
  const [chain] = challenge.supportedChains;
  const proof = await createSIWxPayload({ ...challenge.info, chainId: chain.chainId, type: chain.type }, signer as SIWxSigner, origin);
  return encodeSIWxHeader(proof);
}

const poll = (pollUrl: string, proof: string) => gw.request(new URL(pollUrl).pathname, { headers: { "SIGN-IN-WITH-X": proof } });

async function refused(response: Response, code: string): Promise<string> {
  const body = (await response.json()) as ErrorBody;
  assert.equal(response.status, 403, JSON.stringify(body));
  assert.equal(body.error.code, code, body.error.message);
  return body.error.message;
}

describe("polls signed in with the wallet that paid", () => {
  test("Base: the 202 offers a challenge; a signed poll of the running job gets the next one, and the poll that sees it done settles it once", async () => {
    const buyer = await testBuyer(gw);
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    upstream.reply(async (res, received, req) => {
      started();
      await released;
      await success([result])(res, received, req);
    });
    const edit = { model: "openai/gpt-image-1-mini", prompt: "make it blue, polled", image: dataUri(await solidImage(64, 64)) };
    const { header } = await signV2(gw, "base", EDIT, jsonInit(edit), buyer.wallet);
    const accepted = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const job = (await accepted.json()) as Job;
    assert.equal(accepted.status, 202, JSON.stringify(job));

    const offered = job.extensions!["sign-in-with-x"];
    assert.equal(offered.info.uri, job.poll_url);
    assert.equal(offered.info.domain, new URL(gw.config.publicUrl).host);
    assert.deepEqual(offered.supportedChains.map((c) => [c.chainId, c.type]), [[BASE.caip2, "eip191"]]);
    const advertised = decodeHeader<PaymentRequired>(accepted.headers.get("payment-required"));
    assert.deepEqual(advertised.accepts, [], "the 202's PAYMENT-REQUIRED asks for no payment");
    assert.deepEqual(advertised.extensions?.["sign-in-with-x"], offered);

    await running;
    const first = await poll(job.poll_url, await signIn(offered, buyer.wallet.evm));
    const still = (await first.json()) as Job;
    assert.equal(first.status, 202, JSON.stringify(still));
    const next = still.extensions!["sign-in-with-x"];
    assert.notEqual(next.info.nonce, offered.info.nonce);
    assert.equal(await buyer.paid("base"), 0n, "nothing moves before the result is delivered");

    release();
    await completed(job.id);
    const proof = await signIn(next, buyer.wallet.evm);
    const done = await poll(job.poll_url, proof);
    const paid = (await done.json()) as Paid;
    assert.equal(done.status, 200, JSON.stringify(paid));
    assert.equal(paid.payment.status, "settled");
    assert.equal(await buyer.paid("base"), MINI_PRICE);
    assert.deepEqual(await buyer.rows(), [{ status: "settled", tx_hash: paid.payment.tx_hash }]);

    assert.match(await refused(await poll(job.poll_url, proof), "siwx_replayed"), /already used/);

    // x402's own client: the 402 is answered by signing, never by paying.
    const again = await wrapFetchWithSIWx(inProcess, buyer.wallet.evm as unknown as SIWxSigner)(job.poll_url);
    const body = (await again.json()) as Paid;
    assert.equal(again.status, 200, JSON.stringify(body));
    assert.equal(body.payment.status, "already_settled");
    assert.equal(body.payment.tx_hash, paid.payment.tx_hash);
    assert.equal(await buyer.paid("base"), MINI_PRICE, "charged once");
  });

  test("Solana: a poll without proof is a 402 offering the job's chain first; x402's fetch wrapper signs it (SIWS) and the job settles once", async () => {
    const buyer = await testBuyer(gw);
    const { job, price } = await paidJob(buyer, "solana");
    await completed(job.id);

    const unproven = await gw.request(new URL(job.poll_url).pathname);
    assert.equal(unproven.status, 402);
    const required = decodeHeader<PaymentRequired>(unproven.headers.get("payment-required"));
    assert.equal(required.accepts[0].network, SOLANA.caip2, "x402's fetch wrapper signs in on the chain of accepts[0]");
    const offered = required.extensions?.["sign-in-with-x"] as SiwxChallenge;
    assert.deepEqual(offered.supportedChains.map((c) => [c.chainId, c.type]), [[SOLANA.caip2, "ed25519"]]);
    assert.equal(await statusOf(job.id), "completed", "a poll without proof settles nothing");

    const answer = await wrapFetchWithSIWx(inProcess, buyer.wallet.solana as unknown as SIWxSigner)(job.poll_url);
    const paid = (await answer.json()) as Paid;
    assert.equal(answer.status, 200, JSON.stringify(paid));
    assert.equal(paid.payment.status, "settled");
    assert.equal(await buyer.paid("solana"), price);
    assert.equal((await gw.request(new URL(paid.data[0].url).pathname)).status, 200);
  });

  test("another wallet, another job, another origin, a replay, an expired challenge: 403 saying which, nothing settled; the payer's poll then settles once", async () => {
    const buyer = await testBuyer(gw);
    const { job, price } = await paidJob(buyer, "base");
    const { job: otherJob } = await paidJob(buyer, "base");
    await completed(job.id);
    await completed(otherJob.id);

    const stranger = privateKeyToAccount(generatePrivateKey());
    assert.match(await refused(await poll(job.poll_url, await signIn(await challengeOf(job.poll_url), stranger)), "wrong_wallet"), /another wallet/);

    const forOtherJob = await signIn(await challengeOf(otherJob.poll_url), buyer.wallet.evm);
    assert.match(await refused(await poll(job.poll_url, forOtherJob), "siwx_wrong_job"), new RegExp(`not for this job`));

    const challenge = await challengeOf(job.poll_url);
    const evil = "https://retouch.evil.example";
    const elsewhere = { ...challenge, info: { ...challenge.info, domain: new URL(evil).host, uri: `${evil}${new URL(job.poll_url).pathname}` } };
    assert.match(await refused(await poll(job.poll_url, await signIn(elsewhere, buyer.wallet.evm, evil)), "siwx_wrong_origin"), /retouch\.evil\.example/);

    const late = await challengeOf(job.poll_url);
    await gw.gateway.ledger!.db.query("UPDATE siwx_nonces SET expires_at = now() - interval '1 second' WHERE nonce = $1", [late.info.nonce]);
    assert.match(await refused(await poll(job.poll_url, await signIn(late, buyer.wallet.evm)), "siwx_expired"), /expired/);

    assert.equal(await statusOf(job.id), "completed");
    assert.equal(await buyer.paid("base"), 0n);

    const proof = await signIn(challenge, buyer.wallet.evm);
    const done = await poll(job.poll_url, proof);
    assert.equal(done.status, 200, await done.clone().text());
    assert.equal(((await done.json()) as Paid).payment.status, "settled");
    assert.match(await refused(await poll(job.poll_url, proof), "siwx_replayed"), /already used/);
    assert.equal(await buyer.paid("base"), price, "one job settled, once");
    assert.equal(await statusOf(otherJob.id), "completed", "the other job was not touched");
  });

  test("a poll with ?response_format=b64_json gets the finished images themselves; another format is a 400 naming it", async () => {
    const buyer = await testBuyer(gw);
    const { job } = await paidJob(buyer, "base");
    await completed(job.id);
    const pollPath = new URL(job.poll_url).pathname;
    const wrong = await gw.request(`${pollPath}?response_format=png`, { headers: { "SIGN-IN-WITH-X": await signIn(await challengeOf(job.poll_url), buyer.wallet.evm) } });
    assert.equal(wrong.status, 400);
    assert.equal(((await wrong.json()) as { error: { param: string } }).error.param, "response_format");
    const proof = await signIn(await challengeOf(job.poll_url), buyer.wallet.evm);
    const done = await gw.request(`${pollPath}?response_format=b64_json`, { headers: { "SIGN-IN-WITH-X": proof } });
    const body = (await done.json()) as { data: { b64_json?: string; url?: string }[]; payment: { status: string } };
    assert.equal(done.status, 200, JSON.stringify(body).slice(0, 300));
    assert.equal(body.payment.status, "settled");
    assert.equal(body.data[0].url, undefined);
    const png = Buffer.from(body.data[0].b64_json!, "base64");
    assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(""), "PNG");
    assert.deepEqual((await sharp(png).metadata()).width, 256, "the filled 256x256 picture");
  });

  test("a SIGN-IN-WITH-X header that is not a proof: 400 naming the header; the job is not touched", async () => {
    const buyer = await testBuyer(gw);
    const { job } = await paidJob(buyer, "base");
    await completed(job.id);
    const answer = await poll(job.poll_url, Buffer.from(JSON.stringify({ address: buyer.wallet.evm.address })).toString("base64"));
    const body = (await answer.json()) as ErrorBody;
    assert.equal(answer.status, 400);
    assert.equal(body.error.code, "siwx_malformed");
    assert.match(body.error.message, /SIGN-IN-WITH-X header is not a sign-in proof/);
    assert.equal(await statusOf(job.id), "completed");
    assert.equal(await buyer.paid("base"), 0n);
  });
});
