// The rail against a stand-in facilitator: what an operator sees when the
// facilitator or the configuration cannot serve a network, and what a buyer
// sees for each way verify and settle can go (status, code, the reason in words).

import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, SOLANA, type NetworkName } from "../chains/index.ts";
import { RetouchError } from "../errors.ts";
import type { Facilitator, SettleResponse } from "./facilitator/types.ts";
import type { ClientPayment } from "./protocol.ts";
import { createPaymentRail } from "./rail.ts";
import type { SettlementProbe } from "./settlement-probe.ts";

const EVM_PAYTO = "0x1111111111111111111111111111111111111111";
const SOLANA_PAYTO = "So1anaPayTo1111111111111111111111111111111";
const FEE_PAYER = "FeePayer11111111111111111111111111111111111";
const FEES = { maxComputeUnits: 200_000, maxPriorityFeeMicroLamports: 1_000_000 };

type Kind = { x402Version: number; scheme: string; network: string; extra?: Record<string, unknown> };
const BOTH: Kind[] = [
  { x402Version: 2, scheme: "exact", network: BASE.caip2 },
  { x402Version: 2, scheme: "exact", network: SOLANA.caip2, extra: { feePayer: FEE_PAYER } },
];

function facilitator(overrides: Partial<Facilitator> = {}, kinds: Kind[] = BOTH): Facilitator {
  return {
    supported: async () => ({ kinds, extensions: [], signers: {} }) as never,
    verify: async () => ({ isValid: true, payer: "0xpayer" }),
    settle: async () => ({ success: true, transaction: "0xtx", network: BASE.caip2 }) as SettleResponse,
    ...overrides,
  };
}

function rail(
  options: { facilitator?: Facilitator; networks?: NetworkName[]; settleTimeoutMs?: number; probes?: Record<string, SettlementProbe>; onClose?: () => Promise<void> } = {},
) {
  return createPaymentRail({
    facilitator: options.facilitator ?? facilitator(),
    networks: options.networks ?? ["base", "solana"],
    payTo: { evm: EVM_PAYTO, solana: SOLANA_PAYTO },
    maxTimeoutSeconds: 300,
    solanaFees: FEES,
    settleTimeoutMs: options.settleTimeoutMs ?? 1000,
    probes: options.probes,
    onClose: options.onClose,
  });
}

/** A v2 payment that accepted exactly our base terms, with `change` applied. */
function v2Payment(accepted: Record<string, unknown>, change: Record<string, unknown> = {}): ClientPayment {
  return { version: 2, payload: { x402Version: 2, accepted: { ...accepted, ...change }, payload: {} } as never };
}

function isRefusal(code: string, message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof RetouchError, String(error));
    assert.equal(error.status, 402);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    // A refusal always carries the terms again, so the client can pay right away.
    assert.ok(error.headers["PAYMENT-REQUIRED"]);
    return true;
  };
}

test("start-up stops, naming the network, when the facilitator does not offer exact v2 payments on it", async () => {
  const solanaMissing = /the facilitator does not support exact payments on solana \(solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp\)/;
  await assert.rejects(rail({ facilitator: facilitator({}, [BOTH[0]]) }), solanaMissing);
  // Offered, but only as v1 or under another scheme: not enough either.
  await assert.rejects(rail({ facilitator: facilitator({}, [BOTH[0], { ...BOTH[1], x402Version: 1 }]) }), solanaMissing);
  await assert.rejects(rail({ facilitator: facilitator({}, [BOTH[0], { ...BOTH[1], scheme: "upto" }]) }), solanaMissing);
  // A network that is not configured does not need to be offered.
  assert.deepEqual((await rail({ facilitator: facilitator({}, [BOTH[0]]), networks: ["base"] })).networks.map((n) => n.network.name), ["base"]);
});

test("start-up stops when a configured network has no payTo address of its family", async () => {
  const missing = (payTo: { evm?: string; solana?: string }) =>
    createPaymentRail({ facilitator: facilitator(), networks: ["base", "solana"], payTo, maxTimeoutSeconds: 300, solanaFees: FEES, settleTimeoutMs: 1000 });
  await assert.rejects(missing({ evm: EVM_PAYTO }), /no payTo address for solana/);
  await assert.rejects(missing({ solana: SOLANA_PAYTO }), /no payTo address for base/);
});

test("the terms name each network's payTo and USDC, and Solana's fee payer as the facilitator advertises it", async () => {
  const terms = (await rail()).terms(1234n, "http://gw/api/v1/images/image2image", "image edit");
  assert.deepEqual(
    terms.v2.map((r) => [r.network, r.payTo, r.asset, r.amount, r.extra]),
    [
      [BASE.caip2, EVM_PAYTO, BASE.usdc.address, "1234", { name: "USD Coin", version: "2" }],
      [SOLANA.caip2, SOLANA_PAYTO, SOLANA.usdc.mint, "1234", { feePayer: FEE_PAYER }],
    ],
  );
  assert.equal(terms.resource.url, "http://gw/api/v1/images/image2image");
});

test("a payment on a network this server does not take is a 402 listing the ones it does", async () => {
  const r = await rail();
  const terms = r.terms(1000n, "http://gw/x", "image edit");
  assert.throws(
    () => r.select(v2Payment(terms.v2[0], { network: "eip155:84532" }), terms),
    isRefusal("network_not_accepted", /payment is on network "eip155:84532", which this server does not accept; accepted: base, solana$/),
  );
  assert.throws(
    () => r.select({ version: 1, payload: { x402Version: 1, scheme: "exact", network: "ethereum", payload: {} } as never }, terms),
    isRefusal("network_not_accepted", /"ethereum"/),
  );
});

test("select answers with this server's own requirement: v1 gets the v1 shape, v2 is checked field by field", async () => {
  const r = await rail();
  const terms = r.terms(1000n, "http://gw/x", "image edit");
  const v1 = r.select({ version: 1, payload: { x402Version: 1, scheme: "exact", network: "base", payload: {} } as never }, terms);
  assert.equal((v1 as { maxAmountRequired: string }).maxAmountRequired, "1000");
  assert.equal(v1.network, "base");

  // EVM addresses are compared without case: a checksummed or lower-case copy of our payTo is ours.
  assert.equal(r.select(v2Payment(terms.v2[0], { payTo: EVM_PAYTO.toUpperCase().replace("0X", "0x") }), terms), terms.v2[0]);
  assert.throws(() => r.select(v2Payment(terms.v2[0], { amount: "999" }), terms), isRefusal("wrong_amount", /^payment amount is 999 but this edit requires 1000$/));
  assert.throws(() => r.select(v2Payment(terms.v2[0], { payTo: "0x2222222222222222222222222222222222222222" }), terms), isRefusal("wrong_payto", /payment payTo is 0x2222/));
  assert.throws(() => r.select(v2Payment(terms.v2[0], { asset: "0xdead" }), terms), isRefusal("wrong_asset", /payment asset is 0xdead but this edit requires 0x8335/));
  assert.throws(() => r.select(v2Payment(terms.v2[0], { scheme: "upto" }), terms), isRefusal("wrong_scheme", /payment scheme is upto but this edit requires exact/));
});

test("a Solana transaction that cannot be read is a 402 invalid_payment before the facilitator sees it", async () => {
  let verified = 0;
  const r = await rail({ facilitator: facilitator({ verify: async () => (verified++, { isValid: true, payer: "x" }) }) });
  const terms = r.terms(1000n, "http://gw/x", "image edit");
  const garbage = { version: 2, payload: { x402Version: 2, accepted: terms.v2[1], payload: { transaction: "bm90IGEgdHJhbnNhY3Rpb24=" } } } as ClientPayment;
  assert.throws(() => r.select(garbage, terms), isRefusal("invalid_payment", /^invalid payment: the Solana transaction could not be decoded$/));
  assert.equal(verified, 0);
});

test("verify: the facilitator unreachable is a 502 in our words (its error kept for the log); a refusal is a 402 with its reason in words", async () => {
  const terms = (await rail()).terms(1000n, "http://gw/x", "image edit");
  const payment = v2Payment(terms.v2[0]);

  const down = await rail({ facilitator: facilitator({ verify: async () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:4021")) }) });
  await assert.rejects(down.verify(payment, terms.v2[0], terms), (error: RetouchError) => {
    assert.equal(error.status, 502);
    assert.equal(error.code, "facilitator_unavailable");
    // Its exception text (hosts, internals) stays in the log through `cause`, not in the answer.
    assert.equal(error.message, "the payment facilitator could not be reached; nothing was charged, try again shortly");
    assert.equal((error.cause as Error).message, "connect ECONNREFUSED 127.0.0.1:4021");
    return true;
  });

  const refusing = await rail({ facilitator: facilitator({ verify: async () => ({ isValid: false, invalidReason: "insufficient_funds", payer: "0xp" }) }) });
  await assert.rejects(
    refusing.verify(payment, terms.v2[0], terms),
    isRefusal("insufficient_funds", /^payment refused: the payer's USDC balance is too low \(insufficient_funds\)$/),
  );

  const silent = await rail({ facilitator: facilitator({ verify: async () => ({ isValid: false }) as never }) });
  await assert.rejects(silent.verify(payment, terms.v2[0], terms), isRefusal("payment_invalid", /^payment refused: the facilitator gave no reason$/));

  // "Valid" without saying who paid cannot be tied to a wallet: refused too.
  const payerless = await rail({ facilitator: facilitator({ verify: async () => ({ isValid: true }) as never }) });
  await assert.rejects(payerless.verify(payment, terms.v2[0], terms), isRefusal("payment_invalid", /payment refused/));

  assert.equal(await (await rail()).verify(payment, terms.v2[0], terms), "0xpayer");
});

test("settle: the facilitator's answer is passed on; no answer within the settle timeout rejects, naming the timeout", async () => {
  const answer = { success: false, errorReason: "invalid_transaction_state", transaction: "", network: BASE.caip2 } as SettleResponse;
  assert.deepEqual(await (await rail({ facilitator: facilitator({ settle: async () => answer }) })).settle({}, {}), answer);

  const hanging = await rail({ facilitator: facilitator({ settle: () => new Promise(() => {}) }), settleTimeoutMs: 30 });
  const started = Date.now();
  await assert.rejects(hanging.settle({}, {}), /^SettleTimeout: the facilitator did not answer within 30 ms$/);
  assert.ok(Date.now() - started < 1000);

  const failing = await rail({ facilitator: facilitator({ settle: async () => Promise.reject(new Error("socket hang up")) }) });
  await assert.rejects(failing.settle({}, {}), /socket hang up/);
});

test("settle leaves no timer behind once the facilitator answered or failed (a shutdown would wait for it)", async () => {
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
  const before = timers();
  const answering = await rail({ settleTimeoutMs: 3_600_000 });
  await answering.settle({}, {});
  assert.equal(timers(), before, "answered");
  const failing = await rail({ facilitator: facilitator({ settle: async () => Promise.reject(new Error("socket hang up")) }), settleTimeoutMs: 3_600_000 });
  await assert.rejects(failing.settle({}, {}));
  assert.equal(timers(), before, "failed");
});

test("onChain asks the network's probe, and says so when this server has no view of that chain", async () => {
  const asked: unknown[] = [];
  const probe: SettlementProbe = { check: async (payload) => (asked.push(payload), { state: "landed", transaction: "0xabc" }) };
  const r = await rail({ probes: { [BASE.caip2]: probe } });
  assert.deepEqual(await r.onChain({ p: 1 }, BASE.caip2), { state: "landed", transaction: "0xabc" });
  assert.deepEqual(asked, [{ p: 1 }]);
  assert.deepEqual(await r.onChain({ p: 2 }, SOLANA.caip2), { state: "unknown", why: `this server has no RPC access to ${SOLANA.caip2}` });
  assert.deepEqual(await (await rail()).onChain({}, BASE.caip2), { state: "unknown", why: `this server has no RPC access to ${BASE.caip2}` });
});

test("close closes the facilitator and what the rail was given to close", async () => {
  const closed: string[] = [];
  const r = await rail({
    facilitator: facilitator({ close: async () => void closed.push("facilitator") }),
    onClose: async () => void closed.push("probes"),
  });
  await r.close();
  assert.deepEqual(closed, ["facilitator", "probes"]);
  await (await rail()).close(); // neither given: nothing to do, no error
});
