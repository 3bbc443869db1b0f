// Reading a payment header and naming the payment: what a client that sends
// garbage is told, and which payments count as the same payment.

import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, SOLANA } from "../chains/index.ts";
import { readExactPayment } from "./exact-payload.ts";
import { paymentIdentity } from "./identity.ts";
import { encodeHeader, MalformedPaymentError, readPaymentHeader, type ClientPayment } from "./protocol.ts";

const FROM = "0xAbCdEf0123456789aBcDeF0123456789ABCDEF01";
const NONCE = `0x${"Ab".repeat(32)}`;

const accepted = { scheme: "exact", network: BASE.caip2, asset: BASE.usdc.address, amount: "1000", payTo: FROM, maxTimeoutSeconds: 300 };

const TO = "0x1111111111111111111111111111111111111111";
const SIGNATURE = `0x${"5a".repeat(65)}`;
const AUTHORIZATION = { from: FROM, to: TO, value: "1000", validAfter: "0", validBefore: "1999999999", nonce: NONCE };

function evm(
  version: 1 | 2,
  fields: Record<string, unknown>,
  network: string = version === 2 ? BASE.caip2 : BASE.name,
  signature: unknown = SIGNATURE,
): ClientPayment {
  const payload = { authorization: { ...AUTHORIZATION, ...fields }, signature };
  return version === 2
    ? ({ version, payload: { x402Version: 2, accepted: { ...accepted, network }, payload } } as unknown as ClientPayment)
    : ({ version, payload: { x402Version: 1, scheme: "exact", network, payload } } as unknown as ClientPayment);
}

/** The identity of a payment, read as the gateway reads it. */
const identify = (payment: ClientPayment) => paymentIdentity(readExactPayment(payment));

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
  assert.deepEqual(identify(evm(2, {})), { id, network: BASE.caip2 });
  assert.deepEqual(identify(evm(1, {})), { id, network: BASE.caip2 });
  assert.equal(identify(evm(2, { from: FROM.toLowerCase(), nonce: NONCE.toUpperCase().replace("0X", "0x") })).id, id);
  assert.notEqual(identify(evm(2, { nonce: `0x${"cd".repeat(32)}` })).id, id, "another nonce is another payment");
});

test("an EVM payment whose payer or nonce is not well formed is refused, naming the field", () => {
  for (const [field, values] of [
    ["from", [undefined, FROM.slice(0, -1), `${FROM}0`, `x${FROM}`, FROM.replace("0x", "0y"), FROM.replace("A", "g"), 7, [FROM]]],
    ["to", [undefined, TO.slice(0, -1), 7, [TO]]],
    // Arrays print as their one element: only a string is an address or a nonce.
    ["nonce", [undefined, NONCE.slice(0, -2), `${NONCE}00`, `x${NONCE}`, NONCE.replace("A", "z"), 7, [NONCE]]],
  ] as const) {
    const refused = malformed(new RegExp(`^payload\\.authorization\\.${field} must be `));
    for (const value of values) assert.throws(() => identify(evm(2, { [field]: value })), refused, `${field}: ${JSON.stringify(value)}`);
  }
  const noAuthorization = { version: 2, payload: { x402Version: 2, accepted, payload: { signature: SIGNATURE } } } as unknown as ClientPayment;
  assert.throws(() => identify(noAuthorization), malformed(/^EVM payment needs payload\.authorization: /));
});

test("amounts and times that are not uint256 decimal strings are refused before any facilitator sees them", () => {
  // The strings a facilitator once failed on with its own exception text ("Cannot convert abc to a BigInt",
  // "value_.replace is not a function"), and their cousins.
  for (const field of ["value", "validAfter", "validBefore"]) {
    for (const value of ["abc", 1000, "-1", "1e3", "0x10", " 1", "", null, [1], { n: 1 }, "1".repeat(79), (2n ** 256n).toString()]) {
      assert.throws(
        () => identify(evm(2, { [field]: value })),
        malformed(new RegExp(`^payload\\.authorization\\.${field} must be a decimal string of a uint256 \\(got `)),
        `${field}: ${JSON.stringify(value)}`,
      );
    }
  }
  assert.equal(readExactPayment(evm(2, { value: (2n ** 256n - 1n).toString() })).family, "evm", "the largest uint256 is well formed");
});

test("a refused amount is quoted back short and safe, whatever JSON it was", () => {
  for (const [value, quoted] of [
    ["a".repeat(24), `"${"a".repeat(24)}"`],
    ["1".repeat(79), `"${"1".repeat(24)}…"`],
    [1000, "1000"],
    [null, "null"],
    [true, "true"],
    [undefined, "undefined"],
    [[1], "an array"],
    [{ n: 1 }, "an object"],
  ] as const) {
    assert.throws(
      () => identify(evm(2, { value })),
      (error: unknown) => error instanceof MalformedPaymentError && error.message === `payload.authorization.value must be a decimal string of a uint256 (got ${quoted})`,
      JSON.stringify(value),
    );
  }
});

test("an authorization that is a list, or a signature with anything before its 0x, is refused", () => {
  const listed = { version: 2, payload: { x402Version: 2, accepted, payload: { signature: SIGNATURE, authorization: [AUTHORIZATION] } } } as unknown as ClientPayment;
  assert.throws(() => identify(listed), malformed(/^EVM payment needs payload\.authorization: /));
  assert.throws(() => identify(evm(2, {}, BASE.caip2, `xx${SIGNATURE}`)), malformed(/^EVM payment needs payload\.signature: /));
});

test("a refusal of a header is a MalformedPaymentError by name too (logs show it); a v2 resource without a string url is not a payment", () => {
  const read = (value: unknown) => () => readPaymentHeader(new Headers({ "PAYMENT-SIGNATURE": encodeHeader(value) }));
  assert.throws(read(42), (error: unknown) => error instanceof Error && error.name === "MalformedPaymentError");
  assert.throws(read({ x402Version: 2, resource: { url: 5 }, accepted, payload: {} }), malformed(/^PAYMENT-SIGNATURE header is not an x402 payment: resource\.url: /));
  assert.equal(readPaymentHeader(new Headers({ "PAYMENT-SIGNATURE": encodeHeader({ x402Version: 2, resource: { url: "https://x/y", mimeType: "image/png" }, accepted, payload: {} }) }))?.version, 2);
});

test("an EVM signature must be hex of at least 65 bytes", () => {
  for (const signature of [null, 7, "0x00", `0x${"5a".repeat(64)}`, `0x${"5a".repeat(65)}0`, `${"5a".repeat(66)}`, `0x${"zz".repeat(65)}`]) {
    assert.throws(() => identify(evm(2, {}, BASE.caip2, signature)), malformed(/^EVM payment needs payload\.signature: /), String(signature));
  }
  // Contract wallets sign longer blobs (ERC-1271, ERC-6492).
  assert.equal(readExactPayment(evm(2, {}, BASE.caip2, `0x${"5a".repeat(300)}`)).family, "evm");
});

test("a scheme other than exact is refused by name, in v1 and v2 alike", () => {
  const v2 = { version: 2, payload: { x402Version: 2, accepted: { ...accepted, scheme: "upto" }, payload: {} } } as unknown as ClientPayment;
  const v1 = { version: 1, payload: { x402Version: 1, scheme: "upto", network: BASE.name, payload: {} } } as unknown as ClientPayment;
  for (const payment of [v2, v1]) assert.throws(() => readExactPayment(payment), malformed(/^payment scheme "upto" is not supported; this server takes "exact"$/));
});

test("a payment on a network nobody knows, or a Solana payment without a readable transaction, has no identity", () => {
  assert.throws(() => identify(evm(2, {}, "eip155:1")), malformed(/^payment is for unknown network "eip155:1"$/));
  assert.throws(() => identify(evm(1, {}, "ethereum")), malformed(/^payment is for unknown network "ethereum"$/));
  const solana = (payload: Record<string, unknown>) => ({ version: 1, payload: { x402Version: 1, scheme: "exact", network: SOLANA.name, payload } }) as unknown as ClientPayment;
  assert.throws(() => identify(solana({})), malformed(/^Solana payment needs payload\.transaction: a base64 transaction$/));
  assert.throws(() => identify(solana({ transaction: 42 })), malformed(/^Solana payment needs payload\.transaction: a base64 transaction$/));
  assert.throws(() => identify(solana({ transaction: "bm90IGEgdHJhbnNhY3Rpb24=" })), malformed(/^Solana payment: the Solana transaction could not be decoded$/));
});
