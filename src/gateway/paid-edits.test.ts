// Paid edits with a real ledger and rail, and a stand-in facilitator, chain and
// edit: each way a settlement can end, what the buyer gets (status, body, headers,
// the reason) and what the ledger row says, without a devchain.

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { authorizationTypes } from "@x402/evm";
import { createSIWxPayload, encodeSIWxHeader, type SIWxSigner } from "@x402/extensions/sign-in-with-x";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { BASE, BASE_SEPOLIA, NETWORKS, type EvmNetwork, type NetworkName } from "../chains/index.ts";
import type { EditRequest } from "../edits/index.ts";
import { RetouchError } from "../errors.ts";
import {
  createPaymentRail,
  createSiwxGate,
  INTERRUPTED,
  encodeHeader,
  SettleTimeout,
  SIWX_HEADER,
  type Facilitator,
  type Ledger,
  type OnChain,
  type PaidEdit,
  type SettleResponse,
  type SiwxChallenge,
  type StaleSettlement,
} from "../payments/index.ts";
import { tempLedger } from "../../test/support/ledger.ts";
import { localRunner } from "./edit-jobs.ts";
import type { EditRun, EditService } from "./edit-service.ts";
import { createPaidEdits, type PaidEditsOptions } from "./paid-edits.ts";
import { startSettlementSweep, type SweepReport } from "./settlement-sweep.ts";

const PUBLIC_URL = "http://gw.test";
const RESOURCE = `${PUBLIC_URL}/api/v1/images/image2image`;
const PAY_TO = "0x5e11e85e11e85e11e85e11e85e11e85e11e85e11" as const;
const TX = `0x${"7a".repeat(32)}`;

let ledger: Ledger;
let closeDb: () => Promise<void>;
before(async () => {
  ({ ledger, close: closeDb } = await tempLedger("paid-edits"));
});
after(() => closeDb());

interface Harness {
  paid: ReturnType<typeof createPaidEdits>;
  /** What the facilitator answers to the next settlements (default: success). */
  settle: () => Promise<SettleResponse>;
  /** What the chain says about a payment (default: the server has no view). */
  chain: () => Promise<OnChain>;
  /** The edit itself (default: one image at once). */
  run: (request: EditRequest) => Promise<EditRun>;
  settlements: number;
  verifications: number;
  edits: number;
  unexpected: { error: unknown; jobId: string }[];
}

const RESULT = { created: 1_700_000_000, data: [{ url: `${PUBLIC_URL}/api/v1/files/abc.png` }], price: { amount: "0.001", currency: "USD" as const } };

/** A gateway's paid edits of its own: a rail on a stand-in facilitator that vouches for whoever signed. */
async function harness(inlineWindowMs = 5_000, on: Ledger = ledger, limits?: PaidEditsOptions["limits"], networks: NetworkName[] = ["base"]): Promise<Harness> {
  const h = {
    settle: async () => ({ success: true, transaction: TX, network: BASE.caip2 }) as SettleResponse,
    chain: async (): Promise<OnChain> => ({ state: "unknown", why: "no view" }),
    run: async () => ({ result: RESULT, usage: { images: 1 } }),
    settlements: 0,
    verifications: 0,
    edits: 0,
    unexpected: [],
  } as Omit<Harness, "paid"> as Harness;
  const facilitator: Facilitator = {
    supported: async () => ({ kinds: networks.map((name) => ({ x402Version: 2, scheme: "exact", network: NETWORKS[name].caip2 })), extensions: [], signers: {} }) as never,
    verify: async (payload) => {
      h.verifications++;
      return { isValid: true, payer: (payload.payload as { authorization: { from: string } }).authorization.from };
    },
    settle: () => {
      h.settlements++;
      return h.settle();
    },
  };
  const rail = await createPaymentRail({
    facilitator,
    networks,
    payTo: { evm: PAY_TO },
    maxTimeoutSeconds: 300,
    solanaFees: { maxComputeUnits: 200_000, maxPriorityFeeMicroLamports: 1_000_000 },
    settleTimeoutMs: 2_000,
    probes: Object.fromEntries(networks.map((name) => [NETWORKS[name].caip2, { check: () => h.chain() }])),
  });
  const onError = (error: unknown, jobId: string) => void h.unexpected.push({ error, jobId });
  const edits = {
    run: (request: EditRequest) => {
      h.edits++;
      return h.run(request);
    },
  } as unknown as EditService;
  const siwx = createSiwxGate({ publicUrl: PUBLIC_URL, nonces: on.nonces });
  const options = { runner: localRunner({ edits, ledger: on, onError }), ledger: on, rail, siwx, publicUrl: PUBLIC_URL, fileUrl: (key: string) => `${PUBLIC_URL}/api/v1/files/${key}`, inlineWindowMs, onError, limits };
  // Only what handle() needs: answers within the window (polls and 202s are tested end to end).
  h.paid = createPaidEdits(options as unknown as PaidEditsOptions);
  return h;
}

function editRequest(prompt = "remove the scooter"): EditRequest {
  return {
    model: { id: "local/content-aware-fill", provider: "local" },
    prompt,
    images: [{ bytes: Buffer.from("image bytes") }],
    size: "512x512",
    n: 1,
    options: {},
    quote: { model: "local/content-aware-fill", size: "512x512", n: 1, unitPrice: 1000n, total: 1000n, amount: "0.001" },
  } as unknown as EditRequest;
}

/** A buyer with a real key: its payments carry real EIP-3009 signatures, as a replay must prove the payer. */
function wallet(chain: EvmNetwork = BASE, account = privateKeyToAccount(generatePrivateKey())) {
  const from = account.address;
  const accepted = { scheme: "exact", network: chain.caip2, asset: chain.usdc.address, amount: "1000", payTo: PAY_TO, maxTimeoutSeconds: 300, extra: {} };
  const signed = async () => {
    const authorization = { from, to: PAY_TO, value: "1000", validAfter: "0", validBefore: "4102444800", nonce: `0x${randomBytes(32).toString("hex")}` };
    const signature = await account.signTypedData({
      domain: { name: chain.usdc.name, version: chain.usdc.version, chainId: chain.chainId, verifyingContract: chain.usdc.address as `0x${string}` },
      types: authorizationTypes,
      primaryType: "TransferWithAuthorization",
      message: { ...authorization, value: 1000n, validAfter: 0n, validBefore: 4102444800n, nonce: authorization.nonce as `0x${string}` },
    });
    return { authorization, signature };
  };
  return {
    from,
    account,
    v2: async () => new Headers({ "PAYMENT-SIGNATURE": encodeHeader({ x402Version: 2, accepted, payload: await signed() }) }),
    v1: async () => new Headers({ "X-PAYMENT": encodeHeader({ x402Version: 1, scheme: "exact", network: chain.name, payload: await signed() }) }),
  };
}

function decode(value: string | undefined): Record<string, unknown> {
  assert.ok(value, "header present");
  return JSON.parse(Buffer.from(value, "base64").toString("utf8")) as Record<string, unknown>;
}

async function rowOf(jobOrPayer: { jobId?: string; payer?: string }): Promise<PaidEdit> {
  if (jobOrPayer.jobId) return (await ledger.byJob(jobOrPayer.jobId))!;
  const [row] = await ledger.db.query<{ job_id: string }>("SELECT job_id FROM paid_edits WHERE payer = $1", [jobOrPayer.payer]);
  return (await ledger.byJob(row.job_id))!;
}

function refused(status: number, code: string, message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof RetouchError, String(error));
    assert.equal(error.status, status, error.message);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  };
}

test("no payment: a 402 with the price and model; the edit does not run", async () => {
  const h = await harness();
  await assert.rejects(
    h.paid.handle(editRequest(), new Headers(), RESOURCE),
    (error: unknown) => {
      refused(402, "payment_required", /^payment required: 0\.001 USD in USDC for local\/content-aware-fill$/)(error);
      const required = decode((error as RetouchError).headers["PAYMENT-REQUIRED"]) as {
        resource: { url: string; description: string };
        extensions: Record<string, { info: { required: boolean } }>;
      };
      assert.deepEqual(required.resource, { url: RESOURCE, description: "image edit", mimeType: "application/json" });
      // The payment-identifier extension is declared, and optional: a buyer may send one, none is asked for.
      assert.equal(required.extensions["payment-identifier"].info.required, false);
      return true;
    },
  );
  assert.equal(h.edits, 0);
});

test("a v2 payment whose payment identifier breaks the extension's rules is a 402 naming the rule, before the facilitator or the edit", async () => {
  const h = await harness();
  const headers = await wallet().v2();
  const payment = decode(headers.get("PAYMENT-SIGNATURE")!);
  for (const id of ["short", "x".repeat(129), "pay with spaces and more", 42]) {
    const withId = { ...payment, extensions: { "payment-identifier": { info: { id } } } };
    await assert.rejects(
      h.paid.handle(editRequest(), new Headers({ "PAYMENT-SIGNATURE": encodeHeader(withId) }), RESOURCE),
      refused(402, "invalid_payment", /^invalid payment: extensions\["payment-identifier"\]\.info\.id must be 16 to 128 letters, digits, "-" or "_" \(such as pay_[0-9a-f]{32}\)$/),
      `id ${JSON.stringify(id)}`,
    );
  }
  assert.equal(h.verifications, 0);
  assert.equal(h.edits, 0);
});

test("a paid edit done within the window: 200 with the result, settled, and the x402 v2 receipt headers", async () => {
  const h = await harness();
  const buyer = wallet();
  const reply = await h.paid.handle(editRequest(), await buyer.v2(), RESOURCE);
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.body, { ...RESULT, payment: { status: "settled", tx_hash: TX, network: BASE.caip2 } });
  assert.deepEqual(decode(reply.headers["PAYMENT-RESPONSE"]), { success: true, transaction: TX, network: BASE.caip2, payer: buyer.from });
  assert.equal(reply.headers["X-Payment-Receipt"], TX);
  const row = await rowOf({ payer: buyer.from });
  assert.equal(row.status, "settled");
  assert.equal(row.txHash, TX);
  assert.deepEqual(row.usage, { images: 1 });
  assert.equal(h.settlements, 1);
});

test("v1: the receipt is X-PAYMENT-RESPONSE and names the network as v1 does", async () => {
  const h = await harness();
  const buyer = wallet();
  const reply = await h.paid.handle(editRequest(), await buyer.v1(), RESOURCE);
  assert.equal(reply.status, 200);
  assert.equal((reply.body as { payment: { network: string } }).payment.network, "base");
  assert.deepEqual(decode(reply.headers["X-PAYMENT-RESPONSE"]), { success: true, transaction: TX, network: "base", payer: buyer.from });
  assert.equal(reply.headers["PAYMENT-RESPONSE"], undefined);
});

test("the replay of a settled payment is the same result as already_settled, with no second edit or settlement", async () => {
  const h = await harness();
  const headers = await wallet().v2();
  await h.paid.handle(editRequest(), headers, RESOURCE);
  const again = await h.paid.handle(editRequest(), headers, RESOURCE);
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, { ...RESULT, payment: { status: "already_settled", tx_hash: TX, network: BASE.caip2 } });
  assert.equal(h.edits, 1);
  assert.equal(h.settlements, 1);
});

test("the same payment for another edit is refused, naming the job it paid for", async () => {
  const h = await harness();
  const buyer = wallet();
  const headers = await buyer.v2();
  await h.paid.handle(editRequest(), headers, RESOURCE);
  const { jobId } = await rowOf({ payer: buyer.from });
  await assert.rejects(
    h.paid.handle(editRequest("another edit"), headers, RESOURCE),
    refused(402, "payment_already_used", new RegExp(`^this payment was already used for job ${jobId} \\(${PUBLIC_URL}/api/v1/images/jobs/${jobId}\\); sign a new payment for a new edit$`)),
  );
  assert.equal(h.edits, 1);
});

test("payment headers that are not well-formed exact payments are 402 invalid_payment, before any edit or facilitator call", async () => {
  const h = await harness();
  const invalid = (message: RegExp) => refused(402, "invalid_payment", message);
  await assert.rejects(h.paid.handle(editRequest(), new Headers({ "PAYMENT-SIGNATURE": "bm90IGpzb24=" }), RESOURCE), invalid(/^invalid payment: PAYMENT-SIGNATURE header is not base64-encoded JSON$/));
  const v1 = (authorization: Record<string, unknown>) =>
    new Headers({ "X-PAYMENT": encodeHeader({ x402Version: 1, scheme: "exact", network: "base", payload: { authorization, signature: `0x${"11".repeat(65)}` } }) });
  const good = { from: wallet().from, to: PAY_TO, value: "1000", validAfter: "0", validBefore: "4102444800", nonce: `0x${"22".repeat(32)}` };
  await assert.rejects(h.paid.handle(editRequest(), v1({ ...good, nonce: undefined }), RESOURCE), invalid(/payload\.authorization\.nonce must be 32 bytes/));
  await assert.rejects(h.paid.handle(editRequest(), v1({ ...good, value: "abc" }), RESOURCE), invalid(/payload\.authorization\.value must be a decimal string of a uint256 \(got "abc"\)$/));
  await assert.rejects(h.paid.handle(editRequest(), v1({ ...good, value: 1000 }), RESOURCE), invalid(/payload\.authorization\.value must be a decimal string of a uint256 \(got 1000\)$/));
  await assert.rejects(h.paid.poll("job_x", new Headers({ "X-PAYMENT": "e30=" }), RESOURCE), refused(404, "job_not_found", /^no job job_x$/));
  assert.equal(h.edits, 0);
  assert.equal(h.verifications, 0, "the facilitator never saw them");
});

test("a replay that does not prove its payer gets a 402 and nothing of the paid result", async () => {
  const h = await harness();
  const buyer = wallet();
  const headers = await buyer.v2();
  const paid = await h.paid.handle(editRequest(), headers, RESOURCE);
  assert.equal(paid.status, 200);
  const original = decode(headers.get("PAYMENT-SIGNATURE")!) as { accepted: unknown; payload: { authorization: Record<string, string>; signature: string } };
  const replay = (payload: object) => new Headers({ "PAYMENT-SIGNATURE": encodeHeader({ x402Version: 2, accepted: original.accepted, payload }) });
  const notProven = (why: RegExp) => refused(402, "invalid_signature", new RegExp(`^payment refused: it was already used and does not prove its payer: ${why.source}`));

  // The attack: payer and nonce copied from public chain data, any signature.
  const zero = `0x${"00".repeat(65)}`;
  await assert.rejects(h.paid.handle(editRequest(), replay({ ...original.payload, signature: zero }), RESOURCE), notProven(/its signature is not a valid signature$/));
  // Another wallet's valid signature over the same authorization.
  const thief = privateKeyToAccount(generatePrivateKey());
  const theirs = await thief.signTypedData({
    domain: { name: BASE.usdc.name, version: BASE.usdc.version, chainId: BASE.chainId, verifyingContract: BASE.usdc.address as `0x${string}` },
    types: authorizationTypes,
    primaryType: "TransferWithAuthorization",
    message: {
      ...(original.payload.authorization as unknown as { from: `0x${string}`; to: `0x${string}`; nonce: `0x${string}` }),
      value: 1000n,
      validAfter: 0n,
      validBefore: 4102444800n,
    },
  });
  await assert.rejects(h.paid.handle(editRequest(), replay({ ...original.payload, signature: theirs }), RESOURCE), notProven(/its signature was not made by the wallet that paid$/));
  // The payer's signature, but over another amount: not the authorization that paid.
  const otherValue = { ...original.payload, authorization: { ...original.payload.authorization, value: "1" } };
  await assert.rejects(h.paid.handle(editRequest(), replay(otherValue), RESOURCE), notProven(/its authorization is not the one that paid for this edit$/));
  // A contract wallet's signature cannot be checked offline.
  await assert.rejects(h.paid.handle(editRequest(), replay({ ...original.payload, signature: `0x${"11".repeat(200)}` }), RESOURCE), notProven(/its signature is a contract wallet's/));

  // The real payment still replays to its result, settled once.
  const again = await h.paid.handle(editRequest(), headers, RESOURCE);
  assert.deepEqual((again.body as { data: unknown }).data, (paid.body as { data: unknown }).data);
  assert.equal((again.body as { payment: { status: string } }).payment.status, "already_settled");
  assert.equal(h.settlements, 1);
  assert.equal(h.edits, 1);
});

test("an upstream failure after the payment: its error, the row failed, nothing settled; the replay says the same", async () => {
  const h = await harness();
  h.run = async () => {
    throw new RetouchError("the upstream answered 500", { status: 502, type: "upstream_error", code: "upstream_error" });
  };
  const buyer = wallet();
  const headers = await buyer.v2();
  await assert.rejects(h.paid.handle(editRequest(), headers, RESOURCE), refused(502, "upstream_error", /^the upstream answered 500$/));
  const row = await rowOf({ payer: buyer.from });
  assert.equal(row.status, "failed");
  assert.deepEqual(row.error, { status: 502, message: "the upstream answered 500", type: "upstream_error", code: "upstream_error", param: null });
  await assert.rejects(h.paid.handle(editRequest(), headers, RESOURCE), refused(502, "upstream_error", /^the upstream answered 500$/));
  assert.equal(h.settlements, 0);
  assert.equal(h.edits, 1);
  assert.deepEqual(h.unexpected, [], "a RetouchError is an expected failure, not reported");
});

test("an edit that crashes is a 500 quoting the job, reported once, never charged; its replay says the same", async () => {
  const h = await harness();
  const crash = new TypeError("cannot read properties of undefined");
  h.run = async () => {
    throw crash;
  };
  const buyer = wallet();
  const headers = await buyer.v2();
  const { jobId } = await h.paid.handle(editRequest(), headers, RESOURCE).then(
    () => assert.fail("expected a failure"),
    async (error: RetouchError) => {
      const row = await rowOf({ payer: buyer.from });
      refused(500, "internal_error", new RegExp(`^internal server error; quote job ${row.jobId} when reporting it\\. Nothing was charged\\.$`))(error);
      assert.equal(error.type, "server_error");
      return row;
    },
  );
  assert.deepEqual(h.unexpected, [{ error: crash, jobId }]);
  await assert.rejects(h.paid.handle(editRequest(), headers, RESOURCE), refused(500, "internal_error", new RegExp(`quote job ${jobId}`)));
  assert.equal((await rowOf({ jobId })).status, "failed");
  assert.equal(h.settlements, 0);
  assert.equal(h.edits, 1);
});

test("the facilitator refuses the settlement: 402 with its reason, the result withheld, the row failed; the replay says the same", async () => {
  const h = await harness();
  h.settle = async () => ({ success: false, errorReason: "invalid_exact_evm_insufficient_balance", transaction: "", network: BASE.caip2 }) as SettleResponse;
  h.chain = async () => ({ state: "absent", final: false });
  const buyer = wallet();
  const headers = await buyer.v2();
  const message =
    "settlement failed, nothing was charged and the result is withheld: the payer's USDC balance is too low (invalid_exact_evm_insufficient_balance)";
  const reason = new RegExp(`^${message.replace(/[()]/g, "\\$&")}$`);
  await assert.rejects(h.paid.handle(editRequest(), headers, RESOURCE), (error: RetouchError) => {
    refused(402, "settlement_failed", reason)(error);
    assert.ok(error.headers["PAYMENT-REQUIRED"], "the terms come again, to pay anew");
    assert.equal(JSON.stringify(error.toJSON()).includes("abc.png"), false, "no result in the answer");
    return true;
  });
  const row = await rowOf({ payer: buyer.from });
  assert.equal(row.status, "failed");
  assert.deepEqual(row.error, { status: 402, message, type: "payment_required", code: "settlement_failed", param: null });
  await assert.rejects(h.paid.handle(editRequest(), headers, RESOURCE), (error: RetouchError) => {
    refused(402, "settlement_failed", reason)(error);
    assert.ok(error.headers["PAYMENT-REQUIRED"], "the replay's 402 carries the terms too");
    assert.deepEqual(Object.keys(error.toJSON() as object), ["x402Version", "error", "accepts"], "the x402 v1 body, not an error envelope");
    return true;
  });
  assert.equal(h.settlements, 1);
});

test("the facilitator refuses but the transfer is on chain: 200 settled with the chain's transaction", async () => {
  const h = await harness();
  h.settle = async () => ({ success: false, errorReason: "unexpected_settle_error", transaction: "", network: BASE.caip2 }) as SettleResponse;
  h.chain = async () => ({ state: "landed", transaction: "0xfromchain" });
  const buyer = wallet();
  const reply = await h.paid.handle(editRequest(), await buyer.v2(), RESOURCE);
  assert.equal(reply.status, 200);
  assert.deepEqual((reply.body as { payment: unknown }).payment, { status: "settled", tx_hash: "0xfromchain", network: BASE.caip2 });
  assert.equal(decode(reply.headers["PAYMENT-RESPONSE"]).payer, buyer.from);
  assert.equal((await rowOf({ payer: buyer.from })).txHash, "0xfromchain");
});

test("no answer from the facilitator and a chain that says it can never land: 402, nothing charged, naming the silence", async () => {
  const h = await harness();
  h.settle = async () => {
    throw new Error("fetch failed: ECONNRESET");
  };
  h.chain = async () => ({ state: "absent", final: true });
  const buyer = wallet();
  await assert.rejects(
    h.paid.handle(editRequest(), await buyer.v2(), RESOURCE),
    refused(402, "settlement_failed", /^settlement failed, nothing was charged and the result is withheld: the facilitator failed before answering$/),
  );
  const row = await rowOf({ payer: buyer.from });
  assert.equal(row.status, "failed");
  // The facilitator's own words go to the operator's log, not to the buyer.
  assert.deepEqual(h.unexpected.map((u) => [(u.error as Error).message, u.jobId]), [["fetch failed: ECONNRESET", row.jobId]]);
});

test("no answer and the chain cannot tell (or may still land): 503 uncertain, result kept; a later replay that finds it landed is 200", async () => {
  for (const chain of [async (): Promise<OnChain> => ({ state: "absent", final: false }), async (): Promise<OnChain> => Promise.reject(new Error("rpc down"))]) {
    const h = await harness();
    h.settle = () => Promise.reject(new SettleTimeout(2000));
    h.chain = chain;
    const buyer = wallet();
    const headers = await buyer.v2();
    const error = await h.paid.handle(editRequest(), headers, RESOURCE).then(
      () => assert.fail("expected 503"),
      (thrown: unknown) => thrown,
    );
    const { jobId } = await rowOf({ payer: buyer.from });
    refused(503, "settlement_unconfirmed", /^the payment was sent for settlement but its outcome is not known yet \(the facilitator did not answer within 2000 ms\); the result is kept: /)(error);
    assert.match((error as RetouchError).message, new RegExp(`\\(or poll ${PUBLIC_URL}/api/v1/images/jobs/${jobId}\\)\\. You are charged at most once\\.$`));
    assert.equal((error as RetouchError).headers["Retry-After"], "30");
    assert.deepEqual(h.unexpected, [], "a settle timeout and a chain that cannot be read are outcomes, not errors to report");
    const row = await rowOf({ jobId });
    assert.equal(row.status, "uncertain");
    assert.deepEqual(row.result, RESULT, "the result is kept for the retry");

    // The retry's refusal proves nothing (the first attempt may have spent the authorization): still uncertain.
    h.settle = async () => ({ success: false, errorReason: "invalid_exact_evm_nonce_already_used", transaction: "", network: BASE.caip2 }) as SettleResponse;
    h.chain = async () => ({ state: "absent", final: false });
    await assert.rejects(
      h.paid.handle(editRequest(), headers, RESOURCE),
      refused(503, "settlement_unconfirmed", /not known yet \(this authorization was already used \(invalid_exact_evm_nonce_already_used\)\)/),
    );
    assert.equal((await rowOf({ jobId })).status, "uncertain");

    h.chain = async () => ({ state: "landed", transaction: "0xlanded" });
    const reply = await h.paid.handle(editRequest(), headers, RESOURCE);
    assert.equal(reply.status, 200);
    assert.deepEqual((reply.body as { payment: unknown }).payment, { status: "settled", tx_hash: "0xlanded", network: BASE.caip2 });
    assert.equal(h.edits, 1, "one edit for all the tries");
  }
});

test("a settlement the chain reports landed without a transaction id is still settled (receipt empty)", async () => {
  const h = await harness();
  h.settle = async () => {
    throw new Error("socket hang up");
  };
  h.chain = async () => ({ state: "landed" });
  const reply = await h.paid.handle(editRequest(), await wallet().v2(), RESOURCE);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers["X-Payment-Receipt"], "");
});

test("a payer's slot is held while its edit runs; a request that loses the claim of the same payment gives its slot back at once", { timeout: 20_000 }, async () => {
  let held = 0;
  /** How many times each slot was given back, by the order it was taken. */
  const givenBack: number[] = [];
  let gaveBack!: () => void;
  const firstGivenBack = new Promise<void>((resolve) => (gaveBack = resolve));
  let arrivals = 0;
  let bothArrived!: () => void;
  const together = new Promise<void>((resolve) => (bothArrived = resolve));
  const limits = {
    payerSlot: async () => {
      held++;
      const slot = givenBack.push(0) - 1;
      // Both requests pass verify before either claims the payment.
      if (++arrivals === 2) bothArrived();
      await together;
      return async () => {
        held--;
        givenBack[slot]++;
        gaveBack();
      };
    },
  };
  const h = await harness(5_000, ledger, limits);
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let running!: () => void;
  const started = new Promise<void>((resolve) => (running = resolve));
  h.run = async () => {
    running();
    await finished;
    return { result: RESULT, usage: { images: 1 } };
  };
  const buyer = wallet();
  const headers = await buyer.v2();
  const answers = Promise.all([h.paid.handle(editRequest(), headers, RESOURCE), h.paid.handle(editRequest(), headers, RESOURCE)]);
  await Promise.all([started, firstGivenBack]);
  assert.equal(held, 1, "the edit holds one slot; the loser gave its back");
  finish();
  const statuses = (await answers).map((reply) => (reply.body as { payment: { status: string } }).payment.status).sort();
  assert.deepEqual(statuses, ["already_settled", "settled"]);
  assert.equal(h.edits, 1);
  await h.paid.idle();
  assert.equal(held, 0, "given back when the edit ended");
  assert.deepEqual(givenBack, [1, 1], "each slot given back once");
});

test("a poll of a job nobody knows is a 404 naming the id", async () => {
  const h = await harness();
  await assert.rejects(h.paid.poll("job_unknown", new Headers(), RESOURCE), (error: unknown) => {
    refused(404, "job_not_found", /^no job job_unknown$/)(error);
    assert.equal((error as RetouchError).param, "id");
    return true;
  });
});

test("v1 on the second of two networks: the receipt and the answer name that network as v1 does", async () => {
  const h = await harness(5_000, ledger, undefined, ["base", "base-sepolia"]);
  const buyer = wallet(BASE_SEPOLIA);
  const reply = await h.paid.handle(editRequest(), await buyer.v1(), RESOURCE);
  assert.equal(reply.status, 200);
  assert.equal((reply.body as { payment: { network: string } }).payment.network, "base-sepolia");
  assert.equal(decode(reply.headers["X-PAYMENT-RESPONSE"]).network, "base-sepolia");
});

test("a client gone before its edit ended: 499, nothing settled, the row kept completed with why; its replay settles it once", async () => {
  const h = await harness();
  const buyer = wallet();
  const headers = await buyer.v2();
  const gone = new AbortController();
  gone.abort();
  await assert.rejects(
    h.paid.handle(editRequest(), headers, RESOURCE, gone.signal),
    refused(499, "client_disconnected", /^the client disconnected before the answer was written; nothing was charged\. Send the same request with the same payment to receive the result \(it is settled then\)\.$/),
  );
  const kept = await rowOf({ payer: buyer.from });
  assert.equal(kept.status, "completed");
  assert.match(kept.note ?? "", /^not settled at \d{4}-\d\d-\d\dT[\d:.]+Z: the client disconnected before the answer was written$/);
  assert.equal(h.settlements, 0);

  const replay = await h.paid.handle(editRequest(), headers, RESOURCE);
  assert.equal(replay.status, 200);
  assert.equal((replay.body as { payment: { status: string } }).payment.status, "settled");
  assert.equal(h.settlements, 1);
  assert.equal(h.edits, 1);
});

/** An edit that waits: `started` resolves once it runs; it ends when the test says. */
function heldEdit(h: Harness) {
  let begin!: () => void;
  let end!: (run: Promise<EditRun>) => void;
  const started = new Promise<void>((resolve) => (begin = resolve));
  h.run = () => {
    begin();
    return new Promise<EditRun>((resolve) => (end = resolve)).then((run) => run);
  };
  return {
    started,
    finish: () => end(Promise.resolve({ result: RESULT, usage: { images: 1 } })),
    fail: (error: Error) => end(Promise.reject(error)),
  };
}

/** What a paying wallet does with the sign-in challenge of a 202 (or a poll's 402): sign it, as the header. */
async function signIn(challenge: SiwxChallenge, account: PrivateKeyAccount): Promise<Headers> {
  const payload = await createSIWxPayload({ ...challenge.info, chainId: challenge.supportedChains[0].chainId, type: challenge.supportedChains[0].type }, account as unknown as SIWxSigner, PUBLIC_URL);
  return new Headers({ [SIWX_HEADER]: encodeSIWxHeader(payload) });
}

interface Envelope {
  id: string;
  status: string;
  poll_url: string;
  created: number;
  extensions: { "sign-in-with-x": SiwxChallenge };
}

test("an edit slower than the window is a 202 with the job and a sign-in challenge; the payer's signed polls see it run, then settle it once", async () => {
  const h = await harness(0);
  const edit = heldEdit(h);
  const buyer = wallet();
  const before = Math.floor(Date.now() / 1000);
  const accepted = await h.paid.handle(editRequest(), await buyer.v2(), RESOURCE);
  assert.equal(accepted.status, 202);
  const job = accepted.body as Envelope;
  const { jobId } = await rowOf({ payer: buyer.from });
  assert.deepEqual(
    { ...job, status: undefined, created: undefined, extensions: undefined },
    {
      id: jobId,
      object: "image.edit.job",
      status: undefined,
      model: "local/content-aware-fill",
      size: "512x512",
      n: 1,
      price: { amount: "0.001", currency: "USD" },
      payment_status: "verified",
      created: undefined,
      poll_url: `${PUBLIC_URL}/api/v1/images/jobs/${jobId}`,
      extensions: undefined,
    },
  );
  assert.ok(["queued", "in_progress"].includes(job.status), job.status);
  assert.ok(job.created >= before && job.created <= Math.floor(Date.now() / 1000), `created ${job.created} is now, in seconds`);
  assert.equal(accepted.headers["Retry-After"], "2");
  assert.deepEqual((decode(accepted.headers["PAYMENT-REQUIRED"]).extensions as Envelope["extensions"])["sign-in-with-x"], job.extensions["sign-in-with-x"]);

  await edit.started;
  const running = await h.paid.poll(jobId, await signIn(job.extensions["sign-in-with-x"], buyer.account), job.poll_url);
  assert.equal(running.status, 202);
  assert.equal((running.body as Envelope).status, "in_progress");
  assert.equal(h.settlements, 0);

  edit.finish();
  await h.paid.idle();
  const done = await h.paid.poll(jobId, await signIn((running.body as Envelope).extensions["sign-in-with-x"], buyer.account), job.poll_url);
  assert.equal(done.status, 200);
  assert.deepEqual(done.body, { ...RESULT, payment: { status: "settled", tx_hash: TX, network: BASE.caip2 } });
  assert.equal(h.settlements, 1);
  assert.equal(h.edits, 1);
});

test("a poll of a job still waiting to start says queued", async () => {
  const h = await harness();
  const payer = privateKeyToAccount(generatePrivateKey());
  const row = await leftBehind([], ledger, payer.address);
  const first = await h.paid.poll(row.jobId, new Headers(), RESOURCE).then(
    () => assert.fail("a poll without a proof is refused"),
    (error: RetouchError) => {
      refused(402, "sign_in_required", new RegExp(`^sign in to poll ${row.jobId}: send SIGN-IN-WITH-X signed by the wallet that paid \\(the challenge is in extensions\\["sign-in-with-x"\\]\\)$`))(error);
      return (error.toJSON() as { extensions: Envelope["extensions"] }).extensions["sign-in-with-x"];
    },
  );
  const reply = await h.paid.poll(row.jobId, await signIn(first, payer), RESOURCE);
  assert.equal(reply.status, 202);
  assert.equal((reply.body as Envelope).status, "queued");
});

test("a poll of a paid edit that failed after its 202: 200 with the job failed, its error, and not_charged", async () => {
  const h = await harness(0);
  const edit = heldEdit(h);
  const buyer = wallet();
  const job = (await h.paid.handle(editRequest(), await buyer.v2(), RESOURCE)).body as Envelope;
  await edit.started;
  edit.fail(new RetouchError("the upstream answered 500", { status: 502, type: "server_error", code: "upstream_error" }));
  await h.paid.idle();
  const reply = await h.paid.poll(job.id, await signIn(job.extensions["sign-in-with-x"], buyer.account), job.poll_url);
  assert.deepEqual(reply, {
    status: 200,
    body: {
      id: job.id,
      object: "image.edit.job",
      status: "failed",
      error: { status: 502, message: "the upstream answered 500", type: "server_error", code: "upstream_error", param: null },
      payment_status: "not_charged",
    },
    headers: {},
  });
  assert.equal(h.settlements, 0);
});

test("a poll proven the deprecated way, by a payment from the payer (v1 too), is answered and never settles that payment; another wallet's is 403", async () => {
  const h = await harness(0);
  const edit = heldEdit(h);
  const buyer = wallet();
  const job = (await h.paid.handle(editRequest(), await buyer.v2(), RESOURCE)).body as Envelope;
  await edit.started;
  edit.finish();
  await h.paid.idle();

  await assert.rejects(h.paid.poll(job.id, await wallet().v2(), job.poll_url), refused(403, "wrong_wallet", new RegExp(`^job ${job.id} was paid for by another wallet$`)));
  // The payer's address spelled in lower case (no checksum) is still the payer.
  const proof = decode((await buyer.v1()).get("X-PAYMENT")!) as { payload: { authorization: { from: string } } };
  proof.payload.authorization.from = buyer.from.toLowerCase();
  const done = await h.paid.poll(job.id, new Headers({ "X-PAYMENT": encodeHeader(proof) }), job.poll_url);
  assert.equal(done.status, 200);
  assert.ok(done.headers["X-PAYMENT-RESPONSE"], "a v1 proof gets the v1 receipt header");
  assert.equal((done.body as { payment: { network: string } }).payment.network, "base");
  assert.equal(h.settlements, 1, "the edit's own payment settled; the proof's never");
});

/** A paid edit whose process "dies" mid-edit: its row is running, then a restart marks it interrupted. */
async function interruptedEdit(buyer: ReturnType<typeof wallet>, headers: Headers): Promise<string> {
  const dying = await harness();
  dying.run = () => new Promise(() => {}); // the edit never ends in this process
  const waiting = dying.paid.handle(editRequest(), headers, RESOURCE);
  let row: PaidEdit | undefined;
  for (let i = 0; i < 200 && row?.status !== "running"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    row = await rowOf({ payer: buyer.from }).catch(() => undefined);
  }
  assert.equal(row?.status, "running");
  assert.equal(await ledger.transition(row.jobId, "running", "interrupted", { error: INTERRUPTED }), true);
  // Whoever still waited on it hears that it was interrupted: 503 with Retry-After, not a 500.
  await assert.rejects(waiting, (error: unknown) => {
    refused(503, "edit_interrupted", /interrupted by a server restart.*nothing was charged\. Send the same request with the same payment again/)(error);
    assert.equal((error as RetouchError).headers["Retry-After"], "1");
    assert.equal((error as RetouchError).type, "server_error", "OpenAI's error type for a 503");
    return true;
  });
  return row.jobId;
}

test("an edit a restart cut off runs again when its payment is sent again (concurrently too): one edit, settled once", async () => {
  const buyer = wallet();
  const headers = await buyer.v2();
  const jobId = await interruptedEdit(buyer, headers);

  const restarted = await harness();
  const replies = await Promise.all([1, 2, 3].map(() => restarted.paid.handle(editRequest(), headers, RESOURCE)));
  assert.deepEqual(replies.map((r) => r.status), [200, 200, 200]);
  assert.deepEqual(replies.map((r) => (r.body as { payment: { status: string } }).payment.status).sort(), ["already_settled", "already_settled", "settled"]);
  assert.equal(restarted.edits, 1, "one edit for all the retries");
  assert.equal(restarted.settlements, 1);
  const row = await rowOf({ jobId });
  assert.equal(row.status, "settled");
  assert.equal(row.error, null, "the interruption is no longer its state");

  // Another request with the same payment is still refused: it paid for this edit only.
  await assert.rejects(restarted.paid.handle(editRequest("another edit"), headers, RESOURCE), refused(402, "payment_already_used", /already used for job/));
});

test("an interrupted edit whose authorization has (nearly) expired is failed on its replay: 402, never run, never charged", async () => {
  const buyer = wallet();
  const headers = await buyer.v2();
  const jobId = await interruptedEdit(buyer, headers);
  // Valid for 30 more seconds: too little to edit and settle.
  const soon = String(Math.floor(Date.now() / 1000) + 30);
  await ledger.db.query(`UPDATE paid_edits SET payload = jsonb_set(payload, '{payload,authorization,validBefore}', to_jsonb($2::text)) WHERE job_id = $1`, [jobId, soon]);

  const restarted = await harness();
  await assert.rejects(restarted.paid.handle(editRequest(), headers, RESOURCE), refused(402, "payment_expired", /interrupted by a server restart and its payment has expired since; nothing was charged/));
  assert.equal(restarted.edits, 0);
  assert.equal(restarted.settlements, 0);
  const row = await rowOf({ jobId });
  assert.equal(row.status, "failed");
  // What a poll of the job shows.
  assert.deepEqual({ ...row.error, message: undefined }, { status: 402, message: undefined, type: "payment_required", code: "payment_expired", param: null });
});

test("an interrupted edit whose authorization stays valid exactly the margin (60 s) more runs again", async (t) => {
  const buyer = wallet();
  const headers = await buyer.v2();
  const jobId = await interruptedEdit(buyer, headers);
  const validBefore = Math.floor(Date.now() / 1000) + 600;
  await ledger.db.query(`UPDATE paid_edits SET payload = jsonb_set(payload, '{payload,authorization,validBefore}', to_jsonb($2::text)) WHERE job_id = $1`, [jobId, String(validBefore)]);
  t.mock.timers.enable({ apis: ["Date"], now: validBefore * 1000 - 60_000 });
  const restarted = await harness();
  const reply = await restarted.paid.handle(editRequest(), headers, RESOURCE);
  t.mock.timers.reset();
  assert.equal(reply.status, 200);
  assert.equal(restarted.edits, 1);
  assert.equal((await rowOf({ jobId })).status, "settled");
});

/** A row a stopped process left in `path`'s last state, paid for by a new wallet (as the sweep finds it). */
async function leftBehind(path: PaidEdit["status"][], on: Ledger = ledger, from: string = privateKeyToAccount(generatePrivateKey()).address): Promise<PaidEdit> {
  const jobId = `job_${randomBytes(8).toString("hex")}`;
  const authorization = { from, to: PAY_TO, value: "1000", validAfter: "0", validBefore: "4102444800", nonce: `0x${randomBytes(32).toString("hex")}` };
  assert.equal(
    await on.claim({
      paymentId: `${BASE.caip2}:${from}:${authorization.nonce}`,
      jobId,
      x402Version: 2,
      network: BASE.caip2,
      payer: from,
      amount: "1000",
      priceUsd: "0.001",
      model: "local/content-aware-fill",
      size: "512x512",
      n: 1,
      fingerprint: "f".repeat(64),
      payload: { x402Version: 2, payload: { authorization, signature: "0x" } },
      requirements: { scheme: "exact", network: BASE.caip2, amount: "1000", payTo: PAY_TO },
    }),
    true,
  );
  let state: PaidEdit["status"] = "verified";
  for (const to of path) {
    assert.equal(await on.transition(jobId, state, to, to === "completed" ? { result: RESULT } : {}), true);
    state = to;
  }
  return (await on.byJob(jobId))!;
}

test("the sweep finishes a settlement a crash cut off from what the chain says: landed is settled and expired failed, with no second settlement", async () => {
  const h = await harness();
  const landed = await leftBehind(["running", "completed", "settling"]);
  h.chain = async () => ({ state: "landed", transaction: "0xlanded" });
  assert.deepEqual(await h.paid.resolve({ edit: landed, was: "settling" }), { outcome: "settled", transaction: "0xlanded", payer: landed.payer });
  assert.equal((await rowOf({ jobId: landed.jobId })).status, "settled");
  assert.equal((await rowOf({ jobId: landed.jobId })).txHash, "0xlanded");
  // A chain that finds the transfer but cannot name its transaction: settled all the same, with no id.
  const nameless = await leftBehind(["running", "completed", "settling"]);
  h.chain = async () => ({ state: "landed" });
  assert.deepEqual(await h.paid.resolve({ edit: nameless, was: "settling" }), { outcome: "settled", transaction: "", payer: nameless.payer });

  const expired = await leftBehind(["running", "completed", "settling", "uncertain", "settling"]);
  h.chain = async () => ({ state: "absent", final: true });
  const failed = await h.paid.resolve({ edit: expired, was: "uncertain" });
  assert.equal(failed.outcome, "failed");
  const row = await rowOf({ jobId: expired.jobId });
  assert.equal(row.status, "failed");
  assert.equal(row.error?.code, "settlement_failed");
  assert.match(row.error?.message ?? "", /nothing was charged and the result is withheld: the payment expired before it could be settled/);
  assert.equal(h.settlements, 0, "what the chain decided is never sent to the facilitator");
});

test("the sweep settles once what never reached the chain: an unsent settlement still valid, and an edit finished but never settled", async () => {
  const h = await harness();
  const unsent = await leftBehind(["running", "completed", "settling"]);
  h.chain = async () => ({ state: "absent", final: false });
  assert.deepEqual(await h.paid.resolve({ edit: unsent, was: "settling" }), { outcome: "settled", transaction: TX, payer: unsent.payer });
  assert.equal(h.settlements, 1);

  // A finished edit was never sent: no chain lookup first (it would only cost an RPC call).
  const finished = await leftBehind(["running", "completed", "settling"]);
  h.chain = () => Promise.reject(new Error("the chain must not be asked before the first settlement"));
  assert.equal((await h.paid.resolve({ edit: finished, was: "completed" })).outcome, "settled");
  assert.equal(h.settlements, 2);
  assert.equal((await rowOf({ jobId: finished.jobId })).status, "settled");

  // Sent before (uncertain), refused now, the chain cannot tell: still uncertain, never failed on a refusal.
  const unknown = await leftBehind(["running", "completed", "settling", "uncertain", "settling"]);
  h.chain = async () => ({ state: "unknown", why: "no view" });
  h.settle = async () => ({ success: false, errorReason: "invalid_exact_evm_nonce_already_used", transaction: "", network: BASE.caip2 }) as SettleResponse;
  assert.equal((await h.paid.resolve({ edit: unknown, was: "uncertain" })).outcome, "uncertain");
  assert.equal((await rowOf({ jobId: unknown.jobId })).status, "uncertain");
});

// A sweep that never ends its pass is a failure, not a hung suite.
describe("the settlement sweep", { timeout: 60_000 }, () => {
  /** A ledger of its own, so the sweep finds only the rows the test left. */
  let own: Ledger;
  let closeOwn: () => Promise<void>;
  before(async () => {
    ({ ledger: own, close: closeOwn } = await tempLedger("sweep"));
  });
  after(() => closeOwn());
  beforeEach(() => own.db.exec("DELETE FROM paid_edits"));

  function sweeper(h: Harness, resolve = (stale: StaleSettlement) => h.paid.resolve(stale)) {
    const reports: SweepReport[] = [];
    const errors: unknown[] = [];
    const sweep = startSettlementSweep({ ledger: own, paidEdits: { resolve }, intervalMs: 3_600_000, staleMs: 0, onReport: (report) => reports.push(report), onError: (error) => errors.push(error) });
    return { sweep, reports, errors };
  }

  const statuses = async () => Object.fromEntries((await own.db.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM paid_edits GROUP BY status")).map((row) => [row.status, row.n]));

  test("one pass settles every finished edit left behind, however many batches they take, and reports once", async () => {
    const h = await harness(5_000, own);
    for (let i = 0; i < 45; i++) await leftBehind(["running", "completed"], own);
    const { sweep, reports, errors } = sweeper(h);
    const report = await sweep.sweep();
    await sweep.stop();
    assert.deepEqual(report, { interrupted: 0, settled: 45, failed: 0, uncertain: 0 });
    assert.deepEqual(reports, [report]);
    assert.deepEqual(errors, []);
    assert.equal(h.settlements, 45);
    assert.deepEqual(await statuses(), { settled: 45 });
  });

  test("a pass over rows that stay uncertain ends: each is tried at least once and none more than twice", async () => {
    const h = await harness(5_000, own);
    for (let i = 0; i < 25; i++) await leftBehind(["running", "completed", "settling", "uncertain"], own);
    h.chain = async () => ({ state: "unknown", why: "no view" });
    h.settle = async () => ({ success: false, errorReason: "unexpected_settle_error", transaction: "", network: BASE.caip2 }) as SettleResponse;
    const { sweep, reports } = sweeper(h);
    const report = await sweep.sweep();
    await sweep.stop();
    assert.ok(report.uncertain >= 25 && report.uncertain <= 50, `uncertain ${report.uncertain}`);
    assert.deepEqual(reports, [report], "a pass that left rows uncertain is reported");
    assert.deepEqual(await statuses(), { uncertain: 25 });
  });

  test("finished edits whose settlement the facilitator refuses and the chain never saw are failed, not charged, and reported", async () => {
    const h = await harness(5_000, own);
    for (let i = 0; i < 2; i++) await leftBehind(["running", "completed"], own);
    h.chain = async () => ({ state: "absent", final: false });
    h.settle = async () => ({ success: false, errorReason: "invalid_exact_evm_payload_authorization_valid_before", transaction: "", network: BASE.caip2 }) as SettleResponse;
    const { sweep, reports } = sweeper(h);
    const report = await sweep.sweep();
    await sweep.stop();
    assert.deepEqual(report, { interrupted: 0, settled: 0, failed: 2, uncertain: 0 });
    assert.deepEqual(reports, [report]);
    assert.deepEqual(await statuses(), { failed: 2 });
  });

  test("a row the sweep fails on counts as uncertain and is logged; the others are settled", async () => {
    const h = await harness(5_000, own);
    const broken = await leftBehind(["running", "completed"], own);
    for (let i = 0; i < 2; i++) await leftBehind(["running", "completed"], own);
    const failure = new Error("the ledger's connection dropped");
    const { sweep, reports, errors } = sweeper(h, (stale) => (stale.edit.jobId === broken.jobId ? Promise.reject(failure) : h.paid.resolve(stale)));
    assert.deepEqual(await sweep.sweep(), { interrupted: 0, settled: 2, failed: 0, uncertain: 1 });
    await sweep.stop();
    assert.deepEqual(errors, [failure]);
    assert.equal(reports.length, 1);
  });

  test("a pass with nothing to do reports nothing; two passes asked at once are one", async () => {
    const h = await harness(5_000, own);
    const { sweep, reports } = sweeper(h);
    assert.deepEqual(await sweep.sweep(), { interrupted: 0, settled: 0, failed: 0, uncertain: 0 });
    assert.deepEqual(reports, []);
    for (let i = 0; i < 3; i++) await leftBehind(["running", "completed"], own);
    const [a, b] = [sweep.sweep(), sweep.sweep()];
    assert.equal(a, b, "the second caller shares the pass under way");
    assert.deepEqual(await a, { interrupted: 0, settled: 3, failed: 0, uncertain: 0 });
    assert.equal(h.settlements, 3);
    await sweep.stop();
  });

  test("at start-up, edits left running are interrupted and settlements left behind are all taken, then settled", async () => {
    const h = await harness(5_000, own);
    await leftBehind(["running"], own);
    await leftBehind([], own);
    const finished = await leftBehind(["running", "completed"], own);
    const { sweep, reports } = sweeper(h);
    const started = await sweep.recover(0);
    assert.deepEqual({ interrupted: started.interrupted, taken: started.taken }, { interrupted: 2, taken: 1 });
    assert.equal((await own.byJob(finished.jobId))?.status, "settling", "taken before any request is served");
    const report = await started.settled;
    assert.deepEqual(report, { interrupted: 2, settled: 1, failed: 0, uncertain: 0 });
    assert.deepEqual(reports, [report]);
    assert.deepEqual(await statuses(), { interrupted: 2, settled: 1 });
    await sweep.stop();
  });

  test("stop() waits for the pass under way", async () => {
    const h = await harness(5_000, own);
    await leftBehind(["running", "completed"], own);
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    let resolving!: () => void;
    const started = new Promise<void>((resolve) => (resolving = resolve));
    const { sweep } = sweeper(h, async (stale) => {
      resolving();
      await held;
      return h.paid.resolve(stale);
    });
    const pass = sweep.sweep();
    await started;
    let stopped = false;
    const stopping = sweep.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false, "stop() returned while a settlement was under way");
    letGo();
    await stopping;
    assert.equal((await pass).settled, 1);
    assert.deepEqual(await statuses(), { settled: 1 });
  });

  test("the timer runs a pass every interval", async (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const h = await harness(5_000, own);
    await leftBehind(["running", "completed"], own);
    const passed = new Promise<SweepReport>((resolve) => {
      const sweep = startSettlementSweep({ ledger: own, paidEdits: h.paid, intervalMs: 60_000, staleMs: 0, onReport: resolve, onError: (error) => assert.fail(String(error)) });
      t.after(() => sweep.stop());
    });
    t.mock.timers.tick(59_999);
    assert.equal(h.settlements, 0);
    t.mock.timers.tick(1);
    assert.deepEqual(await passed, { interrupted: 0, settled: 1, failed: 0, uncertain: 0 });
  });

  test("a pass the timer started that fails is logged, and the next one runs", async (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const h = await harness(5_000, own);
    const failure = new Error("the database is restarting");
    let down = true;
    const flaky: Ledger = Object.create(own, { recoverAbandoned: { value: (ms: number) => (down ? Promise.reject(failure) : own.recoverAbandoned(ms)) } });
    const errors: unknown[] = [];
    let failed!: () => void;
    const logged = new Promise<void>((resolve) => (failed = resolve));
    const reported = new Promise<SweepReport>((resolve) => {
      const sweep = startSettlementSweep({
        ledger: flaky,
        paidEdits: h.paid,
        intervalMs: 60_000,
        staleMs: 0,
        onReport: resolve,
        onError: (error) => {
          errors.push(error);
          failed();
        },
      });
      t.after(() => sweep.stop());
    });
    t.mock.timers.tick(60_000);
    await logged;
    assert.deepEqual(errors, [failure]);
    down = false;
    await leftBehind(["running", "completed"], own);
    t.mock.timers.tick(60_000);
    assert.deepEqual(await reported, { interrupted: 0, settled: 1, failed: 0, uncertain: 0 });
  });
});
