// One Solana payment buys one edit, whatever a hostile buyer rewrites around
// it: the fee payer's signature slot, v1 <-> v2, the facilitator's duplicate
// window, concurrency; and a buyer cannot make the seller's fee payer burn SOL.
// Payments are built by x402's own @x402/svm client, then modified; every case
// checks balances on the chain and the ledger.

import { after, before, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  getBase64Decoder,
  getBase64Encoder,
  getCompiledTransactionMessageDecoder,
  getCompiledTransactionMessageEncoder,
  getTransactionDecoder,
  generateKeyPair,
  getTransactionEncoder,
  signBytes,
  type SignatureBytes,
  type Transaction,
} from "@solana/kit";
import type { PaymentPayload } from "@x402/core/types";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { signV2 } from "./support/buyer.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";

const EDIT = "/api/v1/images/image2image";
const PRICE = 1000n;
const BASE_FEE = 5000n; // lamports per signature

let gw: TestGateway;
let edit: Record<string, unknown>;

before(async () => {
  gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain" });
  edit = await sceneEdit(96);
});
after(() => gw.close());

const devchain = () => gw.gateway.devchain!;
const payTo = () => gw.gateway.rail!.networks.find((n) => n.network.name === "solana")!.payTo;
const feePayer = () => devchain().solana.facilitator.signer.address;

async function snapshot() {
  return {
    buyer: await devchain().usdcBalance("solana", devchain().wallets.buyer.solana.address),
    seller: await devchain().usdcBalance("solana", payTo()),
    feePayerSol: await devchain().solana.solBalance(feePayer()),
  };
}

const rows = async () => Number((await gw.gateway.ledger!.db.query<{ n: number }>("SELECT count(*)::int AS n FROM paid_edits"))[0].n);
const resultFiles = async () => (await readdir(join(gw.config.dataDir, "files"))).filter((name) => !name.startsWith(".")).length;

/** A fresh edit request (its own fingerprint) and a v2 payment for it from x402's client. */
async function paidRequest(prompt: string) {
  const body = { ...edit, prompt };
  const { payload } = await signV2(gw, "solana", EDIT, jsonInit(body));
  return { body, payload };
}

const header = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString("base64");

function transactionOf(payload: { payload: Record<string, unknown> }): Transaction {
  return getTransactionDecoder().decode(getBase64Encoder().encode(payload.payload.transaction as string));
}

function withTransaction<T extends { payload: Record<string, unknown> }>(payload: T, transaction: Transaction): T {
  return { ...payload, payload: { ...payload.payload, transaction: getBase64Decoder().decode(getTransactionEncoder().encode(transaction)) } };
}

/** The same signed transfer with 64 random bytes in the fee payer's signature slot. */
function rewriteFeePayerSlot<T extends { payload: Record<string, unknown> }>(payload: T): T {
  const transaction = transactionOf(payload);
  const [first, ...rest] = Object.keys(transaction.signatures);
  const signatures = { [first]: new Uint8Array(randomBytes(64)) as SignatureBytes, ...Object.fromEntries(rest.map((k) => [k, transaction.signatures[k as never]])) };
  return withTransaction(payload, { ...transaction, signatures: signatures as Transaction["signatures"] });
}

/** The v1 X-PAYMENT form of a v2 payment: same signed transaction, v1 envelope. */
function asV1(payload: PaymentPayload) {
  return { x402Version: 1, scheme: "exact", network: "solana", payload: payload.payload };
}

/** The transaction re-signed by the buyer after changing its compute budget (what a hostile buyer can do). */
async function withComputeBudget(payload: PaymentPayload, units: number, microLamports: bigint): Promise<PaymentPayload> {
  const transaction = transactionOf(payload);
  const message = getCompiledTransactionMessageDecoder().decode(transaction.messageBytes);
  if (!("instructions" in message)) throw new Error("expected a v0 message");
  const accounts = message.staticAccounts.map(String);
  const instructions = message.instructions.map((instruction) => {
    if (accounts[instruction.programAddressIndex] !== "ComputeBudget111111111111111111111111111111") return instruction;
    const data = new Uint8Array(instruction.data!);
    const view = new DataView(data.buffer);
    if (data[0] === 2) view.setUint32(1, units, true);
    if (data[0] === 3) view.setBigUint64(1, microLamports, true);
    return { ...instruction, data };
  });
  const messageBytes = getCompiledTransactionMessageEncoder().encode({ ...message, instructions }) as Transaction["messageBytes"];
  const buyer = devchain().wallets.buyer.solana;
  const signatures: Record<string, SignatureBytes | null> = Object.fromEntries(Object.keys(transaction.signatures).map((key) => [key, null]));
  signatures[buyer.address] = await signBytes(buyer.keyPair.privateKey, messageBytes);
  return withTransaction(payload, { messageBytes, signatures: signatures as Transaction["signatures"] });
}

interface Answer {
  status: number;
  body: { payment?: { status: string; tx_hash: string }; data?: { url: string }[]; error?: unknown };
}

async function send(body: unknown, headers: Record<string, string | undefined>): Promise<Answer> {
  const response = await gw.request(EDIT, jsonInit(body, headers as Record<string, string>));
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

/** The x402 refusal text (v1 body) or the error envelope's message. */
const reason = (answer: Answer) => JSON.stringify(answer.body.error);

describe("a settled Solana payment cannot buy a second edit", () => {
  test("its fee-payer slot rewritten, sent as v2 or v1 for another edit: 402 naming the job; as v1 for the same edit: the same result; nothing moves", async () => {
    const { body, payload } = await paidRequest("rewrite the fee payer slot");
    const paid = await send(body, { "PAYMENT-SIGNATURE": header(payload) });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.payment!.status, "settled");
    const start = await snapshot();
    const rowsBefore = await rows();

    const rewritten = rewriteFeePayerSlot(payload);
    const other = { ...body, prompt: "a second edit for the same money" };
    for (const headers of [{ "PAYMENT-SIGNATURE": header(rewritten) }, { "X-PAYMENT": header(asV1(rewritten)) }, { "X-PAYMENT": header(asV1(payload)) }]) {
      const refused = await send(other, headers);
      assert.equal(refused.status, 402, JSON.stringify(refused.body));
      assert.match(reason(refused), /already used for job job_/);
    }
    const replay = await send(body, { "X-PAYMENT": header(asV1(rewritten)) });
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.equal(replay.body.payment!.status, "already_settled");
    assert.equal(replay.body.payment!.tx_hash, paid.body.payment!.tx_hash);
    assert.deepEqual(replay.body.data, paid.body.data);

    assert.deepEqual(await snapshot(), start, "no USDC and no SOL moved");
    assert.equal(await rows(), rowsBefore, "no new ledger row");
  });

  test("after the facilitator's 120 s duplicate window (clock moved 10 minutes), the rewritten payment is still refused", async (t) => {
    const { body, payload } = await paidRequest("after the duplicate window");
    assert.equal((await send(body, { "PAYMENT-SIGNATURE": header(payload) })).status, 200);
    const start = await snapshot();

    mock.timers.enable({ apis: ["Date"], now: Date.now() + 10 * 60_000 });
    t.after(() => mock.timers.reset());
    for (const headers of [{ "PAYMENT-SIGNATURE": header(rewriteFeePayerSlot(payload)) }, { "X-PAYMENT": header(asV1(rewriteFeePayerSlot(payload))) }]) {
      const refused = await send({ ...body, prompt: "later, another edit" }, headers);
      assert.equal(refused.status, 402, JSON.stringify(refused.body));
      const again = await send(body, headers);
      assert.equal(again.status, 200);
      assert.equal(again.body.payment!.status, "already_settled");
    }
    mock.timers.reset();
    assert.deepEqual(await snapshot(), start);
  });
});

describe("a replay must prove the buyer signed it", () => {
  test("the settled transaction with the buyer's signature zeroed or replaced by another wallet's: 402, no result; the real one replays", async () => {
    const { body, payload } = await paidRequest("replay proof on solana");
    const paid = await send(body, { "PAYMENT-SIGNATURE": header(payload) });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    const start = await snapshot();

    const buyer = devchain().wallets.buyer.solana.address;
    const transaction = transactionOf(payload);
    const stranger = await generateKeyPair();
    const forgeries: [string, SignatureBytes | null][] = [
      ["zeroed", new Uint8Array(64) as SignatureBytes],
      ["missing", null],
      ["another wallet's", await signBytes(stranger.privateKey, transaction.messageBytes)],
    ];
    for (const [name, signature] of forgeries) {
      const signatures = { ...transaction.signatures, [buyer]: signature } as Transaction["signatures"];
      const forged = await send(body, { "PAYMENT-SIGNATURE": header(withTransaction(payload, { ...transaction, signatures })) });
      assert.equal(forged.status, 402, `${name}: ${JSON.stringify(forged.body)}`);
      assert.match(reason(forged), /does not prove its payer: the paying wallet's signature (does not verify|is missing from the transaction)/, name);
      assert.equal(forged.body.data, undefined, name);
      assert.doesNotMatch(JSON.stringify(forged.body), /job_/, `${name}: not even the job it paid for`);
    }
    assert.deepEqual(await snapshot(), start, "nothing moves");
    const replay = await send(body, { "PAYMENT-SIGNATURE": header(payload) });
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.deepEqual(replay.body.data, paid.body.data);
  });
});

describe("one payment in flight", () => {
  test("sent at once in four disguises for the same edit: one edit runs, one settlement", async () => {
    const { body, payload } = await paidRequest("concurrent disguises");
    const start = await snapshot();
    const files = await resultFiles();
    const answers = await Promise.all([
      send(body, { "PAYMENT-SIGNATURE": header(payload) }),
      send(body, { "PAYMENT-SIGNATURE": header(rewriteFeePayerSlot(payload)) }),
      send(body, { "X-PAYMENT": header(asV1(payload)) }),
      send(body, { "X-PAYMENT": header(asV1(rewriteFeePayerSlot(payload))) }),
    ]);
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200], JSON.stringify(answers.map((a) => a.body)));
    assert.deepEqual(answers.map((a) => a.body.payment!.status).sort(), ["already_settled", "already_settled", "already_settled", "settled"]);
    assert.equal(new Set(answers.map((a) => a.body.payment!.tx_hash)).size, 1);
    assert.equal(await resultFiles(), files + 1, "exactly one edit ran");
    const now = await snapshot();
    assert.equal(start.buyer - now.buyer, PRICE);
    assert.equal(now.seller - start.seller, PRICE);
  });

  test("sent at once for four different edits: one runs and is paid, the others are refused before any edit", async () => {
    const { body, payload } = await paidRequest("one of four edits");
    const start = await snapshot();
    const files = await resultFiles();
    const answers = await Promise.all([
      send(body, { "PAYMENT-SIGNATURE": header(payload) }),
      send({ ...body, prompt: "second" }, { "PAYMENT-SIGNATURE": header(rewriteFeePayerSlot(payload)) }),
      send({ ...body, prompt: "third" }, { "X-PAYMENT": header(asV1(payload)) }),
      send({ ...body, size: "256x256" }, { "PAYMENT-SIGNATURE": header(payload) }),
    ]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 402, 402, 402], JSON.stringify(answers.map((a) => a.body)));
    assert.equal(await resultFiles(), files + 1, "the refused requests ran no edit");
    const now = await snapshot();
    assert.equal(start.buyer - now.buyer, PRICE);
  });
});

describe("the fee payer's exposure", () => {
  test("a paid edit costs the fee payer the base fee per signature and a tiny priority fee, no more", async () => {
    const { body, payload } = await paidRequest("what does the fee payer spend");
    const start = await snapshot();
    const paid = await send(body, { "PAYMENT-SIGNATURE": header(payload) });
    assert.equal(paid.status, 200);
    const spent = start.feePayerSol - (await snapshot()).feePayerSol;
    assert.ok(spent >= 2n * BASE_FEE && spent <= 2n * BASE_FEE + 100n, `the fee payer spent ${spent} lamports`);
  });

  for (const [label, units, price] of [
    ["1.4 M compute units at 5,000,000 micro-lamports", 1_400_000, 5_000_000n],
    ["the default units at an absurd price", 20_000, 5_000_000n],
    ["more units than the cap at a normal price", 1_000_000, 1n],
  ] as const) {
    for (const version of [2, 1] as const) {
      test(`v${version}: ${label} is a 402 before anything is sent; no SOL or USDC moves`, async () => {
        const { body, payload } = await paidRequest(`fee ask ${label} v${version}`);
        const greedy = await withComputeBudget(payload, units, price);
        const start = await snapshot();
        const rowsBefore = await rows();
        const headers = version === 2 ? { "PAYMENT-SIGNATURE": header(greedy) } : { "X-PAYMENT": header(asV1(greedy)) };
        const refused = await send(body, headers);
        assert.equal(refused.status, 402, JSON.stringify(refused.body));
        assert.match(reason(refused), /asks the fee payer for \d+ compute units at \d+ micro-lamports.*this server pays for at most 200000 units at 50000 micro-lamports/);
        assert.deepEqual(await snapshot(), start);
        assert.equal(await rows(), rowsBefore, "refused before the ledger");
      });
    }
  }

  test("a transaction at the caps is accepted, and costs the fee payer at most twice the base fee", async () => {
    const { body, payload } = await paidRequest("at the caps");
    const capped = await withComputeBudget(payload, 200_000, 50_000n);
    const start = await snapshot();
    const paid = await send(body, { "PAYMENT-SIGNATURE": header(capped) });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    const spent = start.feePayerSol - (await snapshot()).feePayerSol;
    assert.ok(spent <= 4n * BASE_FEE, `the fee payer spent ${spent} lamports`);
  });
});
