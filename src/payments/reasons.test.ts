// A refused payment's 402 says why in words the buyer can act on, keeping the
// facilitator's own code in brackets; the codes below are x402's.

import { test } from "node:test";
import assert from "node:assert/strict";
import { explainReason } from "./reasons.ts";

const CASES: [reason: string, words: string][] = [
  ["invalid_exact_evm_payload_authorization_value_mismatch", "the amount signed is not the quoted price"],
  ["invalid_exact_svm_payload_amount_mismatch", "the amount signed is not the quoted price"],
  ["invalid_exact_evm_authorization_value", "the amount signed is not the quoted price"],
  ["invalid_exact_evm_recipient_mismatch", "the payment goes to another address than this server's payTo"],
  ["invalid_exact_svm_payload_payto_mismatch", "the payment goes to another address than this server's payTo"],
  ["invalid_destination", "the payment goes to another address than this server's payTo"],
  ["invalid_exact_evm_payload_authorization_valid_before", "the authorization has expired; sign a new one"],
  ["invalid_upto_svm_payload_expired", "the authorization has expired; sign a new one"],
  ["invalid_exact_evm_payload_authorization_valid_after", "the authorization is not valid yet"],
  ["invalid_payload_not_yet_valid", "the authorization is not valid yet"],
  ["invalid_exact_evm_signature", "the signature does not match the payer"],
  ["invalid_exact_evm_insufficient_balance", "the payer's USDC balance is too low"],
  ["insufficient_funds", "the payer's USDC balance is too low"],
  ["invalid_exact_evm_nonce_already_used", "this authorization was already used"],
  ["duplicate_settlement", "this authorization was already used"],
  ["payment_already_settled", "this authorization was already used"],
  ["invalid_exact_evm_network_mismatch", "the payment is for another network"],
  ["invalid_exact_svm_payload_mint_mismatch", "the payment is not in this network's USDC"],
  ["invalid_asset", "the payment is not in this network's USDC"],
  ["invalid_exact_evm_transaction_simulation_failed", "the transfer would fail on chain (balance, nonce or signature)"],
  ["invalid_exact_evm_transaction_failed", "the transfer would fail on chain (balance, nonce or signature)"],
];

test("each x402 refusal code reads as its cause, with the facilitator's own words and the code kept", () => {
  for (const [reason, words] of CASES) {
    assert.equal(explainReason(reason), `${words} (${reason})`, reason);
    assert.equal(explainReason(reason, "account 7xKX has 0.0001 USDC"), `${words}: account 7xKX has 0.0001 USDC (${reason})`, reason);
    assert.equal(explainReason(reason, reason), `${words} (${reason})`, "a message that only repeats the code is not shown twice");
  }
});

test("a code that is not a known amount code is not read as one", () => {
  // "authorization_value" means the amount only at the end of a code.
  assert.equal(explainReason("invalid_authorization_value_format"), "invalid_authorization_value_format");
});

test("an unknown code keeps the facilitator's message, or is shown as it is", () => {
  assert.equal(explainReason("unexpected_settle_error", "RPC node unavailable"), "RPC node unavailable (unexpected_settle_error)");
  assert.equal(explainReason("unexpected_settle_error"), "unexpected_settle_error");
});

test("no code at all: the facilitator's message, or that it gave no reason", () => {
  assert.equal(explainReason(undefined, "try again later"), "try again later");
  assert.equal(explainReason(undefined), "the facilitator gave no reason");
  assert.equal(explainReason(""), "the facilitator gave no reason");
});
