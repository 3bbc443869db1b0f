import { test } from "node:test";
import assert from "node:assert/strict";
import { formatUsd, parseUsd, priceWithMargin } from "./money.ts";

test("gpt-image-1 prices come out exactly at a 5% margin", () => {
  assert.equal(formatUsd(priceWithMargin("0.02", "0.05")), "0.021");
  assert.equal(formatUsd(priceWithMargin("0.04", "0.05")), "0.042");
  assert.equal(priceWithMargin("0.02", "0.05"), 21000n);
});

test("margins that do not divide evenly round up to the next atomic unit", () => {
  // 0.011 * 1.07 = 0.01177 exactly; 0.0000011 * 1.05 = 0.000001155 -> 2 atomic units
  assert.equal(formatUsd(priceWithMargin("0.011", "0.07")), "0.01177");
  assert.equal(priceWithMargin("0.0000011", "0.05"), 2n);
});

test("a zero margin keeps the cost", () => {
  assert.equal(priceWithMargin("0.001", "0"), 1000n);
});

test("formatting and parsing are exact inverses on USDC amounts", () => {
  for (const text of ["0", "1", "0.000001", "12.5", "0.042", "1000"]) {
    assert.equal(formatUsd(parseUsd(text)), text);
  }
  assert.throws(() => parseUsd("0.0000001"), /more than 6 decimals/);
  assert.throws(() => parseUsd("-1"), /not a non-negative decimal/);
  assert.throws(() => parseUsd("1e-3"), /not a non-negative decimal/);
});
