// The sign-in of polls on its own: challenges bound to the origin, the job and a
// nonce that works once, proofs from SIWE (Base) and SIWS (Solana) wallets, and
// every refusal naming its cause. Nonces live in a real PGlite ledger.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPairSigner, type KeyPairSigner } from "@solana/kit";
import { createSIWxMessage, createSIWxPayload, encodeSIWxHeader, type SIWxSigner } from "@x402/extensions/sign-in-with-x";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { BASE, SOLANA } from "../chains/index.ts";
import { RetouchError } from "../errors.ts";
import { openPglite, type Db } from "../storage/index.ts";
import { openLedger, type Ledger } from "./ledger/ledger.ts";
import { advertised, createSiwxGate, signInRequired, type SiwxChallenge, type SiwxGate, type SiwxJob } from "./siwx.ts";
import { paymentTerms } from "./requirements.ts";

const PUBLIC_URL = "http://127.0.0.1:4100";
let dir: string;
let db: Db;
let ledger: Ledger;
let gate: SiwxGate;
let owner: PrivateKeyAccount;
let solanaOwner: KeyPairSigner;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-siwx-"));
  db = await openPglite(dir);
  ledger = await openLedger(db);
  gate = createSiwxGate({ publicUrl: PUBLIC_URL, nonces: ledger.nonces });
  owner = privateKeyToAccount(generatePrivateKey());
  solanaOwner = await generateKeyPairSigner();
});

after(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

let jobs = 0;
function baseJob(payer: string = owner.address): SiwxJob {
  const jobId = `job_test${String(++jobs).padStart(18, "0")}`;
  return { jobId, pollUrl: `${PUBLIC_URL}/api/v1/images/jobs/${jobId}`, network: BASE.caip2, payer };
}

/** What a client does with a challenge: sign it for its chain and encode the header. */
async function sign(challenge: SiwxChallenge, signer: PrivateKeyAccount | KeyPairSigner, origin = PUBLIC_URL): Promise<string> {
  const [chain] = challenge.supportedChains;
  const payload = await createSIWxPayload({ ...challenge.info, chainId: chain.chainId, type: chain.type }, signer as unknown as SIWxSigner, origin);
  return encodeSIWxHeader(payload);
}

/** A proof a client builds from fields of its own choosing, signed properly (SIWE). */
async function signFields(fields: Partial<SiwxChallenge["info"]>, challenge: SiwxChallenge, signer = owner): Promise<string> {
  const info = { ...challenge.info, ...fields, chainId: BASE.caip2, type: "eip191" as const };
  const signature = await signer.signMessage({ message: createSIWxMessage(info, signer.address) });
  return encodeSIWxHeader({ ...info, address: signer.address, signature });
}

async function refusal(promise: Promise<unknown>, status: number, code: string): Promise<string> {
  const error = await promise.then(
    () => assert.fail(`expected ${status} ${code}, but the proof was accepted`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof RetouchError, String(error));
  assert.deepEqual({ status: error.status, code: error.code }, { status, code }, error.message);
  return error.message;
}

describe("a poll's sign-in", () => {
  test("the challenge is bound to the gateway's origin, the job's poll URL and the payer's chain, and lasts 5 minutes", async () => {
    const job = baseJob();
    const challenge = await gate.challenge(job);
    assert.equal(challenge.info.domain, "127.0.0.1:4100");
    assert.equal(challenge.info.uri, job.pollUrl);
    assert.deepEqual(challenge.info.resources, [job.pollUrl]);
    assert.match(challenge.info.nonce, /^[0-9a-f]{32}$/);
    assert.equal(Date.parse(challenge.info.expirationTime!) - Date.parse(challenge.info.issuedAt), 300_000);
    assert.deepEqual(challenge.supportedChains, [{ chainId: BASE.caip2, type: "eip191", signatureScheme: "eip191" }]);
    assert.match(challenge.info.statement!, /not a payment/);
    const second = await gate.challenge(job);
    assert.notEqual(second.info.nonce, challenge.info.nonce, "every challenge has its own nonce");
  });

  test("SIWE from the Base wallet that paid is accepted once; the same proof again is a replay, in another process too", async () => {
    const job = baseJob();
    const header = await sign(await gate.challenge(job), owner);
    assert.equal(await gate.prove(header, job), owner.address);
    assert.match(await refusal(gate.prove(header, job), 403, "siwx_replayed"), /already used/);
    const otherProcess = createSiwxGate({ publicUrl: PUBLIC_URL, nonces: (await openLedger(db)).nonces });
    await refusal(otherProcess.prove(header, job), 403, "siwx_replayed");
  });

  test("SIWS from the Solana wallet that paid is accepted; a Base wallet's proof for that job is another wallet", async () => {
    const jobId = "job_solana000000000000000";
    const job: SiwxJob = { jobId, pollUrl: `${PUBLIC_URL}/api/v1/images/jobs/${jobId}`, network: SOLANA.caip2, payer: solanaOwner.address };
    const challenge = await gate.challenge(job);
    assert.deepEqual(challenge.supportedChains, [{ chainId: SOLANA.caip2, type: "ed25519", signatureScheme: "siws" }]);
    const evm = await signFields({}, challenge);
    assert.match(await refusal(gate.prove(evm, job), 403, "wrong_wallet"), /paid on solana:/);
    assert.equal(await gate.prove(await sign(challenge, solanaOwner), job), solanaOwner.address);
  });

  test("another wallet's valid proof is refused as wrong_wallet and does not use up the challenge", async () => {
    const job = baseJob();
    const challenge = await gate.challenge(job);
    const stranger = privateKeyToAccount(generatePrivateKey());
    assert.match(await refusal(gate.prove(await sign(challenge, stranger), job), 403, "wrong_wallet"), /another wallet/);
    const otherSolana = await generateKeyPairSigner();
    const solanaJob = { ...baseJob(), network: SOLANA.caip2, payer: solanaOwner.address };
    await refusal(gate.prove(await sign(await gate.challenge(solanaJob), otherSolana), solanaJob), 403, "wrong_wallet");
    assert.equal(await gate.prove(await sign(challenge, owner), job), owner.address);
  });

  test("a proof for another job is refused, whether its URL or its nonce belongs to that job", async () => {
    const mine = baseJob();
    const other = baseJob();
    const forOther = await sign(await gate.challenge(other), owner);
    assert.match(await refusal(gate.prove(forOther, mine), 403, "siwx_wrong_job"), new RegExp(`not for this job \\(${mine.pollUrl}\\)`));
    const otherNonce = await signFields({ uri: mine.pollUrl, resources: [mine.pollUrl] }, await gate.challenge(other));
    assert.match(await refusal(gate.prove(otherNonce, mine), 403, "siwx_wrong_job"), /issued for another job/);
  });

  test("a proof made for another origin is refused, even with the same path and a nonce of ours", async () => {
    const job = baseJob();
    const elsewhere = createSiwxGate({ publicUrl: "https://other.example", nonces: ledger.nonces });
    const foreign = await elsewhere.challenge({ ...job, pollUrl: `https://other.example/api/v1/images/jobs/${job.jobId}` });
    const header = await sign(foreign, owner, "https://other.example");
    assert.match(await refusal(gate.prove(header, job), 403, "siwx_wrong_origin"), /signed for other\.example/);
    const wrongPort = await signFields({ domain: "127.0.0.1:4101" }, await gate.challenge(job));
    await refusal(gate.prove(wrongPort, job), 403, "siwx_wrong_origin");
  });

  test("an expired challenge is refused, and rewriting its times in the signed message does not revive it", async () => {
    const job = baseJob();
    const tenMinutesAgo = createSiwxGate({ publicUrl: PUBLIC_URL, nonces: ledger.nonces, now: () => Date.now() - 600_000 });
    const old = await tenMinutesAgo.challenge(job);
    assert.match(await refusal(gate.prove(await sign(old, owner), job), 403, "siwx_expired"), /expired/);
    const now = new Date();
    const refreshed = await signFields({ issuedAt: now.toISOString(), expirationTime: new Date(now.getTime() + 60_000).toISOString() }, old);
    assert.match(await refusal(gate.prove(refreshed, job), 403, "siwx_expired"), /expired at/);
  });

  test("a nonce this gateway never issued, a changed message, and a header that is not a proof are refused", async () => {
    const job = baseJob();
    const challenge = await gate.challenge(job);
    await refusal(gate.prove(await signFields({ nonce: "0123456789abcdef0123456789abcdef" }, challenge), job), 403, "siwx_unknown_nonce");
    const proof = JSON.parse(Buffer.from(await sign(challenge, owner), "base64").toString());
    const changed = Buffer.from(JSON.stringify({ ...proof, statement: "I agree to pay 100 USDC" })).toString("base64");
    await refusal(gate.prove(changed, job), 403, "siwx_bad_signature");
    await refusal(gate.prove("not base64 at all!", job), 400, "siwx_malformed");
    await refusal(gate.prove(Buffer.from(JSON.stringify({ domain: "x" })).toString("base64"), job), 400, "siwx_malformed");
    assert.equal(await gate.prove(await sign(challenge, owner), job), owner.address, "the refusals did not use up the challenge");
  });

  test("ten polls sending one proof at once: exactly one is accepted", async () => {
    const job = baseJob();
    const header = await sign(await gate.challenge(job), owner);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => gate.prove(header, job)));
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of results) if (r.status === "rejected") assert.equal((r.reason as RetouchError).code, "siwx_replayed");
  });

  test("the poll's 402 carries the challenge and the job's own network first (x402's fetch wrapper signs for accepts[0])", async () => {
    const networks = [BASE, SOLANA].map((network) => ({ network, payTo: "payee", extra: {} }));
    const terms = paymentTerms({ amount: 1000n, networks, resourceUrl: `${PUBLIC_URL}/x`, offer: { description: "d" }, maxTimeoutSeconds: 300 });
    const job = { ...baseJob(), network: SOLANA.caip2, payer: solanaOwner.address };
    const challenge = await gate.challenge(job);
    const error = signInRequired(terms, SOLANA.caip2, "sign in", challenge);
    assert.deepEqual({ status: error.status, type: error.type, code: error.code }, { status: 402, type: "payment_required", code: "sign_in_required" });
    const header = JSON.parse(Buffer.from(error.headers["PAYMENT-REQUIRED"], "base64").toString());
    assert.deepEqual(header.accepts.map((a: { network: string }) => a.network), [SOLANA.caip2, BASE.caip2]);
    assert.deepEqual(header.extensions["sign-in-with-x"], challenge);
    const body = error.toJSON() as { accepts: { network: string }[]; extensions: unknown };
    assert.deepEqual(body.accepts.map((a) => a.network), ["solana", "base"]);
    assert.deepEqual(body.extensions, { "sign-in-with-x": challenge });
  });
  test("a 202's challenge asks for no payment and describes the poll it is for", async () => {
    const job = baseJob();
    const challenge = await gate.challenge(job);
    const { header, extensions } = advertised(challenge);
    assert.deepEqual(JSON.parse(Buffer.from(header["PAYMENT-REQUIRED"], "base64").toString()), {
      x402Version: 2,
      resource: { url: job.pollUrl, description: "poll of a paid image edit", mimeType: "application/json" },
      accepts: [],
      extensions: { "sign-in-with-x": challenge },
    });
    assert.deepEqual(extensions, { "sign-in-with-x": challenge });
  });

  test("a gate with a longer TTL accepts a proof older than the default 5 minutes, until its own TTL", async () => {
    const job = baseJob();
    let clock = Date.now() - 400_000;
    const tenMinutes = createSiwxGate({ publicUrl: PUBLIC_URL, nonces: ledger.nonces, ttlSeconds: 600, now: () => clock });
    const header = await sign(await tenMinutes.challenge(job), owner);
    clock = Date.now();
    assert.equal(await tenMinutes.prove(header, job), owner.address, "signed 400 s ago with a 600 s TTL");
  });

  test("a challenge is expired from the millisecond its TTL ends", async () => {
    const job = baseJob();
    // Issued 240 s ago by the real clock, so the message itself is still young enough and unexpired.
    const issued = Date.now() - 240_000;
    let clock = issued;
    const timed = createSiwxGate({ publicUrl: PUBLIC_URL, nonces: ledger.nonces, now: () => clock });
    const header = await sign(await timed.challenge(job), owner);
    clock = issued + 300_000;
    assert.match(await refusal(timed.prove(header, job), 403, "siwx_expired"), new RegExp(`expired at ${new Date(clock).toISOString()}`));
    clock = issued + 299_999;
    assert.equal(await timed.prove(header, job), owner.address, "one millisecond earlier it is still good");
  });

  test("a Base payer is matched whatever the case of its address; a Solana address must match exactly", async () => {
    const job = baseJob(owner.address.toLowerCase());
    assert.equal(await gate.prove(await sign(await gate.challenge(job), owner), job), owner.address);
    const solanaJob = { ...baseJob(), network: SOLANA.caip2, payer: solanaOwner.address.toLowerCase() };
    assert.notEqual(solanaJob.payer, solanaOwner.address, "base58 is case-sensitive: this is another address");
    await refusal(gate.prove(await sign(await gate.challenge(solanaJob), solanaOwner), solanaJob), 403, "wrong_wallet");
  });

  test("refusals say what is wrong: an unknown nonce, a signature that does not match, a header that is not base64", async () => {
    const job = baseJob();
    const challenge = await gate.challenge(job);
    const stranger = "0123456789abcdef0123456789abcdef";
    assert.match(await refusal(gate.prove(await signFields({ nonce: stranger }, challenge), job), 403, "siwx_unknown_nonce"), new RegExp(`never issued nonce ${stranger}`));
    const proof = JSON.parse(Buffer.from(await sign(challenge, owner), "base64").toString());
    const changed = Buffer.from(JSON.stringify({ ...proof, statement: "I agree to pay 100 USDC" })).toString("base64");
    assert.match(await refusal(gate.prove(changed, job), 403, "siwx_bad_signature"), new RegExp(`does not match the sign-in message and ${owner.address}`));
    assert.equal(await refusal(gate.prove("not base64 at all!", job), 400, "siwx_malformed"), "SIGN-IN-WITH-X header is not a sign-in proof: not valid base64");
  });

  test("a header longer than 16,384 characters is refused before it is decoded; one at the limit is read", async () => {
    const job = baseJob();
    assert.match(await refusal(gate.prove("A".repeat(16_385), job), 400, "siwx_malformed"), /longer than 16384 characters/);
    // 16,384 base64 "A"s are valid base64 (zero bytes), so the refusal is about the content.
    assert.match(await refusal(gate.prove("A".repeat(16_384), job), 400, "siwx_malformed"), /not valid JSON/);
  });

  test("spaces around the header are ignored", async () => {
    const job = baseJob();
    const header = await sign(await gate.challenge(job), owner);
    assert.equal(await gate.prove(` ${header} `, job), owner.address);
  });

  test("a proof not valid yet is refused: issued in the future, or with a notBefore to come", async () => {
    const job = baseJob();
    const challenge = await gate.challenge(job);
    const future = new Date(Date.now() + 60_000).toISOString();
    assert.match(await refusal(gate.prove(await signFields({ issuedAt: future }, challenge), job), 403, "siwx_not_yet_valid"), /not valid yet \(issuedAt is in the future\)/);
    assert.match(await refusal(gate.prove(await signFields({ notBefore: future }, challenge), job), 403, "siwx_not_yet_valid"), /notBefore is in the future/);
    assert.equal(await gate.prove(await sign(challenge, owner), job), owner.address, "the refusals did not use up the challenge");
  });

  test("a SIWE proof EIP-4361 cannot express (an address that is not 20 bytes) is a malformed proof naming the line, not a crash", async () => {
    const job = baseJob();
    const proof = JSON.parse(Buffer.from(await sign(await gate.challenge(job), owner), "base64").toString());
    const short = Buffer.from(JSON.stringify({ ...proof, address: "0x123" })).toString("base64");
    assert.equal(
      await refusal(gate.prove(short, job), 400, "siwx_malformed"),
      "SIGN-IN-WITH-X header is not a sign-in proof: it is not a valid sign-in message: line 2: invalid address",
    );
  });
});
