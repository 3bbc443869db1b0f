// Reading a payment header and naming the payment: what a client that sends
// garbage is told, and which payments count as the same payment.

import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, SOLANA } from "../chains/index.ts";
import { paymentIdentity } from "./identity.ts";
import { encodeHeader, MalformedPaymentError, readPaymentHeader, type ClientPayment } from "./protocol.ts";

const FROM = "0xAbCdEf0123456789aBcDeF0123456789ABCDEF01";
const NONCE = `0x${"Ab".repeat(32)}`;

const accepted = { scheme: "exact", network: BASE.caip2, asset: BASE.usdc.address, amount: "1000", payTo: FROM, maxTimeoutSeconds: 300 };

function evm(version: 1 | 2, authorization: Record<string, unknown>, network: string = version === 2 ? BASE.caip2 : BASE.name): ClientPayment {
  const payload = { authorization, signature: "0x00" };
  return version === 2
    ? ({ version, payload: { x402Version: 2, accepted: { ...accepted, network }, payload } } as unknown as ClientPayment)
    : ({ version, payload: { x402Version: 1, scheme: "exact", network, payload } } as unknown as ClientPayment);
}

function malformed(message: RegExp) {
  return (error: unknown) => error instanceof MalformedPaymentError && message.test(error.message);
}

test("v2 and v1 headers are read as what they are; v2 wins when both are sent; none is no payment", () => {
  const v2 = { x402Version: 2, accepted, payload: { a: 1 } };
  const v1 = { x402Version: 1, scheme: "exact", network: "base", payload: { b: 2 } };
  const read = (headers: Record<string, string>) => readPaymentHeader(new Headers(headers));

  assert.deepEqual(read({ "PAYMENT-SIGNATURE": encodeHeader(v2) }), { version: 2, payload: { ...v2, accepted: { ...accepted, extra: {} } } });
  assert.deepEqual(read({ "X-PAYMENT": encodeHeader(v1) }), { version: 1, payload: v1 });
  assert.equal(read({ "PAYMENT-SIGNATURE": encodeHeader(v2), "X-PAYMENT": encodeHeader(v1) })?.version, 2);
  assert.equal(read({}), undefined);
});

test("a header that is not an x402 payment is refused with what is wrong, naming the header", () => {
  const read = (name: string, value: string) => () => readPaymentHeader(new Headers({ [name]: value }));
  assert.throws(read("PAYMENT-SIGNATURE", "bm90IGpzb24="), malformed(/^PAYMENT-SIGNATURE header is not base64-encoded JSON$/));
  assert.throws(read("X-PAYMENT", "bm90IGpzb24="), malformed(/^X-PAYMENT header is not base64-encoded JSON$/));
  assert.throws(
    read("PAYMENT-SIGNATURE", encodeHeader({ x402Version: 2, accepted: { ...accepted, amount: 1000 }, payload: {} })),
    malformed(/^PAYMENT-SIGNATURE header is not an x402 payment: accepted\.amount: /),
  );
  assert.throws(read("X-PAYMENT", encodeHeader(42)), malformed(/^X-PAYMENT header is not an x402 payment: \(root\): /));
  // A v2 payment sent in the v1 header is not a v1 payment.
  assert.throws(read("X-PAYMENT", encodeHeader({ x402Version: 2, accepted, payload: {} })), malformed(/^X-PAYMENT header is not an x402 payment: x402Version: /));
});

test("headers above 16,384 characters are refused before they are decoded", () => {
  const read = (value: string) => () => readPaymentHeader(new Headers({ "PAYMENT-SIGNATURE": value }));
  assert.throws(read("A".repeat(16_385)), malformed(/^PAYMENT-SIGNATURE header is longer than 16384 characters$/));
  // At the limit it is decoded (and this one is not JSON).
  assert.throws(read("A".repeat(16_384)), malformed(/not base64-encoded JSON/));
});

test("an EVM payment is named by chain, payer and nonce, whatever their case and whichever protocol version carries it", () => {
  const id = `${BASE.caip2}:${FROM.toLowerCase()}:${NONCE.toLowerCase()}`;
  assert.deepEqual(paymentIdentity(evm(2, { from: FROM, nonce: NONCE })), { id, network: BASE.caip2 });
  assert.deepEqual(paymentIdentity(evm(1, { from: FROM, nonce: NONCE })), { id, network: BASE.caip2 });
  assert.equal(paymentIdentity(evm(2, { from: FROM.toLowerCase(), nonce: NONCE.toUpperCase().replace("0X", "0x") })).id, id);
  assert.notEqual(paymentIdentity(evm(2, { from: FROM, nonce: `0x${"cd".repeat(32)}` })).id, id, "another nonce is another payment");
});

test("an EVM payment without a well-formed payer address and 32-byte nonce has no identity", () => {
  const refused = malformed(/^EVM payment needs payload\.authorization\.from \(an address\) and a 32-byte payload\.authorization\.nonce$/);
  for (const authorization of [
    {},
    { from: FROM },
    { nonce: NONCE },
    { from: FROM.slice(0, -1), nonce: NONCE },
    { from: `${FROM}0`, nonce: NONCE },
    { from: `x${FROM}`, nonce: NONCE },
    { from: FROM.replace("0x", "0y"), nonce: NONCE },
    { from: FROM.replace("A", "g"), nonce: NONCE },
    { from: FROM, nonce: NONCE.slice(0, -2) },
    { from: FROM, nonce: `${NONCE}00` },
    { from: FROM, nonce: `x${NONCE}` },
    { from: FROM, nonce: NONCE.replace("A", "z") },
    { from: FROM, nonce: 7 },
    { from: 7, nonce: NONCE },
    // Arrays print as their one element: only a string is an address or a nonce.
    { from: [FROM], nonce: NONCE },
    { from: FROM, nonce: [NONCE] },
  ]) {
    assert.throws(() => paymentIdentity(evm(2, authorization)), refused, JSON.stringify(authorization));
  }
  assert.throws(() => paymentIdentity({ version: 2, payload: { x402Version: 2, accepted, payload: {} } } as ClientPayment), refused);
});

test("a payment on a network nobody knows, or a Solana payment without a readable transaction, has no identity", () => {
  assert.throws(() => paymentIdentity(evm(2, { from: FROM, nonce: NONCE }, "eip155:1")), malformed(/^payment is for unknown network "eip155:1"$/));
  assert.throws(() => paymentIdentity(evm(1, { from: FROM, nonce: NONCE }, "ethereum")), malformed(/^payment is for unknown network "ethereum"$/));
  const solana = (payload: Record<string, unknown>) => ({ version: 1, payload: { x402Version: 1, scheme: "exact", network: SOLANA.name, payload } }) as unknown as ClientPayment;
  assert.throws(() => paymentIdentity(solana({})), malformed(/^Solana payment needs payload\.transaction \(base64\)$/));
  assert.throws(() => paymentIdentity(solana({ transaction: 42 })), malformed(/^Solana payment needs payload\.transaction \(base64\)$/));
  assert.throws(() => paymentIdentity(solana({ transaction: "bm90IGEgdHJhbnNhY3Rpb24=" })), malformed(/^Solana payment: the Solana transaction could not be decoded$/));
});
