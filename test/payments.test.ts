// Paid edits end to end on the devchain: real x402 clients, real signatures,
// real EVM and SVM execution; every case checks the USDC balances on chain.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import type { DevWallet } from "../src/chains/index.ts";
import { signTransferAuthorization } from "../src/chains/devchain/testing.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { decodeHeader, payingFetch, signV1, signV2, type TestNetwork } from "./support/buyer.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";

const EDIT = "/api/v1/images/image2image";
const PRICE = 1000n; // local/content-aware-fill: $0.001 = 1000 USDC atomic units

let gw: TestGateway;
let edit: Record<string, unknown>;

before(async () => {
  gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain" });
  edit = await sceneEdit();
});
after(() => gw.close());

function payTo(network: TestNetwork): string {
  return gw.gateway.rail!.networks.find((n) => n.network.name === network)!.payTo;
}

function buyer(network: TestNetwork): string {
  const wallet = gw.gateway.devchain!.wallets.buyer;
  return network === "base" ? wallet.evm.address : wallet.solana.address;
}

async function balances(network: TestNetwork): Promise<{ buyer: bigint; seller: bigint }> {
  const devchain = gw.gateway.devchain!;
  return {
    buyer: await devchain.usdcBalance(network, buyer(network)),
    seller: await devchain.usdcBalance(network, payTo(network)),
  };
}

async function expectMoved(network: TestNetwork, before: { buyer: bigint; seller: bigint }, amount: bigint) {
  const now = await balances(network);
  assert.equal(before.buyer - now.buyer, amount, `${network} buyer paid ${before.buyer - now.buyer}`);
  assert.equal(now.seller - before.seller, amount, `${network} seller got ${now.seller - before.seller}`);
}

interface PaidBody {
  data: { url: string }[];
  price: { amount: string };
  payment: { status: string; tx_hash: string; network: string };
}

describe("the 402 challenge", () => {
  test("lists every network with the exact quote, payTo, USDC and Solana's fee payer", async () => {
    const response = await gw.request(EDIT, jsonInit(edit));
    assert.equal(response.status, 402);
    const required = decodeHeader<{ x402Version: number; accepts: Record<string, unknown>[] }>(response.headers.get("payment-required"));
    assert.equal(required.x402Version, 2);
    const [base, solana] = required.accepts;
    assert.deepEqual(
      { ...base, maxTimeoutSeconds: undefined },
      {
        scheme: "exact",
        network: "eip155:8453",
        asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        amount: "1000",
        payTo: payTo("base"),
        maxTimeoutSeconds: undefined,
        extra: { name: "USD Coin", version: "2" },
      },
    );
    assert.ok((base.maxTimeoutSeconds as number) >= 300);
    assert.equal(solana.network, "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp");
    assert.equal(solana.asset, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
    assert.equal(solana.amount, "1000");
    assert.equal((solana.extra as { feePayer: string }).feePayer, gw.gateway.devchain!.solana.facilitator.signer.address);

    const body = (await response.json()) as { x402Version: number; error: string; accepts: Record<string, unknown>[] };
    assert.equal(body.x402Version, 1);
    assert.match(body.error, /payment required: 0.001 USD/);
    assert.deepEqual(body.accepts.map((a) => [a.network, a.maxAmountRequired]), [["base", "1000"], ["solana", "1000"]]);
  });

  test("an invalid request never gets a 402: validation comes first", async () => {
    const response = await gw.request(EDIT, jsonInit({ ...edit, prompt: undefined }));
    assert.equal(response.status, 400);
  });

  test("a garbage payment header is a 402 that says why", async () => {
    const response = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": "bm90IGpzb24=" }));
    assert.equal(response.status, 402);
    assert.match(((await response.json()) as { error: string }).error, /not base64-encoded JSON/);
  });
});

describe("a paid edit", () => {
  for (const network of ["base", "solana"] as const) {
    test(`@x402/fetch (v2) pays on ${network}: 200, settled, balances move by exactly the quote`, async () => {
      const start = await balances(network);
      const response = await payingFetch(gw, network)(`${gw.config.publicUrl}${EDIT}`, jsonInit(edit));
      const body = (await response.json()) as PaidBody;
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.payment.status, "settled");
      assert.ok(body.payment.tx_hash.length > 40);
      assert.equal(response.headers.get("x-payment-receipt"), body.payment.tx_hash);
      const settled = decodeHeader<{ success: boolean; transaction: string }>(response.headers.get("payment-response"));
      assert.equal(settled.success, true);
      assert.equal(settled.transaction, body.payment.tx_hash);
      await expectMoved(network, start, PRICE);
      const image = await gw.request(new URL(body.data[0].url).pathname);
      assert.equal(image.status, 200);
      const [row] = await gw.gateway.ledger!.db.query<{ status: string; tx_hash: string; amount: string; payer: string }>(
        "SELECT status, tx_hash, amount, payer FROM paid_edits WHERE tx_hash = $1",
        [body.payment.tx_hash],
      );
      assert.deepEqual({ ...row }, { status: "settled", tx_hash: body.payment.tx_hash, amount: "1000", payer: buyer(network) });
    });

    test(`a v1 X-PAYMENT header pays on ${network} and gets X-PAYMENT-RESPONSE`, async () => {
      const start = await balances(network);
      const header = await signV1(gw, network, EDIT, jsonInit(edit));
      const response = await gw.request(EDIT, jsonInit(edit, { "X-PAYMENT": header }));
      const body = (await response.json()) as PaidBody;
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.payment.network, network);
      assert.equal(decodeHeader<{ success: boolean }>(response.headers.get("x-payment-response")).success, true);
      await expectMoved(network, start, PRICE);
    });
  }
});

describe("never twice", () => {
  test("replaying a settled payment returns the same result and moves no money", async () => {
    const { header } = await signV2(gw, "base", EDIT, jsonInit(edit));
    const first = (await (await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }))).json()) as PaidBody;
    assert.equal(first.payment.status, "settled");
    const start = await balances("base");
    const replay = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const again = (await replay.json()) as PaidBody;
    assert.equal(replay.status, 200);
    assert.equal(again.payment.status, "already_settled");
    assert.equal(again.payment.tx_hash, first.payment.tx_hash);
    assert.deepEqual(again.data, first.data);
    await expectMoved("base", start, 0n);
  });

  test("the same payment for a different edit is refused, naming the job it paid for", async () => {
    const { header } = await signV2(gw, "base", EDIT, jsonInit(edit));
    assert.equal((await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }))).status, 200);
    const start = await balances("base");
    const rows = async () => (await gw.gateway.ledger!.db.query("SELECT job_id FROM paid_edits")).length;
    const rowsBefore = await rows();
    const other = { ...edit, prompt: "something else" };
    const response = await gw.request(EDIT, jsonInit(other, { "PAYMENT-SIGNATURE": header }));
    assert.equal(response.status, 402);
    assert.match(((await response.json()) as { error: string }).error, /already used for job job_/);
    await expectMoved("base", start, 0n);
    assert.equal(await rows(), rowsBefore);
  });

  test("a replay forged from public chain data (payer and nonce of AuthorizationUsed, a zero signature) gets a 402, not the result", async () => {
    const { header } = await signV2(gw, "base", EDIT, jsonInit(edit));
    const paid = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const first = (await paid.json()) as PaidBody;
    assert.equal(first.payment.status, "settled");

    // What anyone can read off the chain: the authorizer and nonce the settlement used.
    const evm = gw.gateway.devchain!.evm;
    const [used] = await evm.publicClient.getContractEvents({
      address: evm.usdc,
      abi: [{ type: "event", name: "AuthorizationUsed", inputs: [{ name: "authorizer", type: "address", indexed: true }, { name: "nonce", type: "bytes32", indexed: true }] }],
      eventName: "AuthorizationUsed",
      fromBlock: "earliest",
      args: { nonce: decodeHeader<{ payload: { authorization: { nonce: `0x${string}` } } }>(header).payload.authorization.nonce },
    });
    const original = decodeHeader<{ accepted: unknown; payload: { authorization: Record<string, string> } }>(header);
    const forged = Buffer.from(
      JSON.stringify({
        x402Version: 2,
        accepted: original.accepted,
        payload: {
          authorization: { ...original.payload.authorization, from: used.args.authorizer, nonce: used.args.nonce },
          signature: `0x${"00".repeat(65)}`,
        },
      }),
    ).toString("base64");
    const start = await balances("base");
    const response = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": forged }));
    const text = await response.text();
    assert.equal(response.status, 402, text);
    assert.match((JSON.parse(text) as { error: string }).error, /^payment refused: it was already used and does not prove its payer: its signature is not a valid signature$/);
    assert.doesNotMatch(text, /\/api\/v1\/files\//, "no result URL");
    assert.doesNotMatch(text, /job_/, "not even the job it paid for");
    await expectMoved("base", start, 0n);
    // The buyer's own header still replays to its result.
    const replay = (await (await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }))).json()) as PaidBody;
    assert.deepEqual(replay.data, first.data);
  });

  test("payment payloads that are not well formed are 402 invalid_payment in words, never a 502 with exception text", async () => {
    const { header } = await signV2(gw, "base", EDIT, jsonInit(edit));
    const original = decodeHeader<{ payload: { authorization: Record<string, unknown>; signature: string } }>(header);
    const start = await balances("base");
    const variants: [string, Record<string, unknown>, RegExp][] = [
      ["value abc", { authorization: { ...original.payload.authorization, value: "abc" } }, /payload\.authorization\.value must be a decimal string of a uint256 \(got "abc"\)/],
      ["value as a number", { authorization: { ...original.payload.authorization, value: 1000 } }, /payload\.authorization\.value must be a decimal string/],
      ["validBefore as an object", { authorization: { ...original.payload.authorization, validBefore: { a: 1 } } }, /payload\.authorization\.validBefore must be/],
      ["to as a number", { authorization: { ...original.payload.authorization, to: 5 } }, /payload\.authorization\.to must be a 0x-prefixed 20-byte address/],
      ["signature as a number", { signature: 12 }, /payload\.signature: a 0x-prefixed hex signature/],
      ["no authorization", { authorization: "yes" }, /EVM payment needs payload\.authorization/],
    ];
    for (const [name, change, reason] of variants) {
      const payment = { ...decodeHeader<Record<string, unknown>>(header), payload: { ...original.payload, ...change } };
      const response = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": Buffer.from(JSON.stringify(payment)).toString("base64") }));
      const text = await response.text();
      assert.equal(response.status, 402, `${name}: ${text}`);
      const required = decodeHeader<{ error: string }>(response.headers.get("payment-required"));
      assert.match(required.error, reason, name);
      assert.match(required.error, /^invalid payment: /, name);
      assert.doesNotMatch(text, /BigInt|is not a function|TypeError|at .*\.ts:/, name);
    }
    await expectMoved("base", start, 0n);
  });

  for (const network of ["base", "solana"] as const) {
    test(`10 concurrent requests with one payment on ${network}: one edit, one settlement`, async () => {
      const { header } = await signV2(gw, network, EDIT, jsonInit(edit));
      const start = await balances(network);
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }))),
      );
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as PaidBody[];
      assert.deepEqual(responses.map((r) => r.status), Array(10).fill(200));
      assert.deepEqual(bodies.map((b) => b.payment.status).sort(), ["already_settled", ...Array(9).fill("already_settled")].map((s, i) => (i === 9 ? "settled" : s)).sort());
      assert.equal(new Set(bodies.map((b) => b.data[0].url)).size, 1, "one edit");
      assert.equal(new Set(bodies.map((b) => b.payment.tx_hash)).size, 1, "one settlement");
      await expectMoved(network, start, PRICE);
    });
  }
});

describe("refusals move no money", () => {
  async function signedAuthorization(overrides: { value?: bigint; validBefore?: bigint; validAfter?: bigint }) {
    const { payload } = await signV2(gw, "base", EDIT, jsonInit(edit));
    const account = gw.gateway.devchain!.wallets.buyer.evm;
    const now = BigInt(Math.floor(Date.now() / 1000));
    const authorization = {
      from: account.address,
      to: payTo("base") as `0x${string}`,
      value: overrides.value ?? PRICE,
      validAfter: overrides.validAfter ?? now - 600n,
      validBefore: overrides.validBefore ?? now + 300n,
      nonce: generatePrivateKey(),
    };
    const signature = await signTransferAuthorization(account, authorization);
    const body = {
      ...payload,
      payload: {
        signature,
        authorization: Object.fromEntries(Object.entries(authorization).map(([k, v]) => [k, String(v)])),
      },
    };
    return Buffer.from(JSON.stringify(body)).toString("base64");
  }

  const cases: [string, () => Promise<string>, RegExp][] = [
    ["an expired authorization", () => signedAuthorization({ validBefore: BigInt(Math.floor(Date.now() / 1000) - 10) }), /expired|valid_before/],
    ["a not-yet-valid authorization", () => signedAuthorization({ validAfter: BigInt(Math.floor(Date.now() / 1000) + 3600) }), /not valid yet|valid_after/],
    ["a wrong amount", () => signedAuthorization({ value: PRICE - 1n }), /amount signed is not the quoted price/],
  ];
  for (const [name, sign, reason] of cases) {
    test(`${name} is a 402 with the reason`, async () => {
      const start = await balances("base");
      const response = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": await sign() }));
      assert.equal(response.status, 402);
      assert.match(((await response.json()) as { error: string }).error, reason);
      await expectMoved("base", start, 0n);
    });
  }

  test("a signature by someone else is refused", async () => {
    const { payload } = await signV2(gw, "base", EDIT, jsonInit(edit));
    const stranger = privateKeyToAccount(generatePrivateKey());
    const tampered = structuredClone(payload) as unknown as { payload: { authorization: { from: string } } };
    tampered.payload.authorization.from = stranger.address;
    const start = await balances("base");
    const response = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": Buffer.from(JSON.stringify(tampered)).toString("base64") }));
    assert.equal(response.status, 402);
    assert.match(((await response.json()) as { error: string }).error, /signature/);
    await expectMoved("base", start, 0n);
  });

  for (const [field, value, reason] of [
    ["payTo", "0x000000000000000000000000000000000000dEaD", /payment payto is 0x0+dEaD but this edit requires 0x/i],
    ["asset", "0x036CbD53842c5426634e7929541eC2318f3dCF7e", /payment asset is 0x036C.* but this edit requires 0x8335/i],
    ["network", "eip155:84532", /network "eip155:84532", which this server does not accept; accepted: base, solana/],
  ] as const) {
    test(`a payment with another ${field} is a 402 that says so`, async () => {
      const { payload } = await signV2(gw, "base", EDIT, jsonInit(edit));
      const changed = structuredClone(payload) as unknown as { accepted: Record<string, string> };
      changed.accepted[field] = value;
      const start = await balances("base");
      const response = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": Buffer.from(JSON.stringify(changed)).toString("base64") }));
      assert.equal(response.status, 402);
      assert.match(((await response.json()) as { error: string }).error, reason);
      await expectMoved("base", start, 0n);
    });
  }

  test("a wallet without enough USDC is refused", async () => {
    const devchain = gw.gateway.devchain!;
    const poor = { evm: privateKeyToAccount(generatePrivateKey()), solana: devchain.wallets.buyer.solana } as unknown as DevWallet;
    await devchain.fundUsdc("base", poor.evm.address, PRICE - 1n);
    const { header } = await signV2(gw, "base", EDIT, jsonInit(edit), poor);
    const response = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    assert.equal(response.status, 402);
    assert.match(((await response.json()) as { error: string }).error, /balance is too low|insufficient/);
    assert.equal(await devchain.usdcBalance("base", poor.evm.address), PRICE - 1n);
  });

  test("a payment that claims another price than the quote is refused before the facilitator", async () => {
    const { payload } = await signV2(gw, "base", EDIT, jsonInit(edit));
    const claimed = structuredClone(payload);
    claimed.accepted.amount = "1";
    const response = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": Buffer.from(JSON.stringify(claimed)).toString("base64") }));
    assert.equal(response.status, 402);
    assert.match(((await response.json()) as { error: string }).error, /payment amount is 1 but this edit requires 1000/);
  });
});
