// The facilitator's EVM settlement takes its gas estimate from verify's time when it can: the
// transaction then carries the headroom of an estimate made ahead, and it still lands. Without a
// verify in the same facilitator first (a restart in between), settle estimates for itself.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { BASE } from "../../chains/index.ts";
import { startTestDevchain, type TestDevchain } from "../../chains/devchain/testing.ts";
import { x402ClientFor } from "../../../test/support/buyer.ts";
import { devchainX402Facilitator } from "./in-process.ts";

let chain: TestDevchain;
before(async () => {
  chain = await startTestDevchain();
});
after(() => chain.dispose());

async function payment(): Promise<{ payload: PaymentPayload; accepted: PaymentRequirements }> {
  const accepted: PaymentRequirements = {
    scheme: "exact",
    network: BASE.caip2,
    asset: BASE.usdc.address,
    amount: "1000",
    payTo: privateKeyToAccount(generatePrivateKey()).address,
    maxTimeoutSeconds: 300,
    extra: { name: "USD Coin", version: "2" },
  };
  const payload = await x402ClientFor(chain.devchain, "base").createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1/edit", description: "test", mimeType: "application/json" },
    accepts: [accepted],
  });
  return { payload: payload as PaymentPayload, accepted };
}

/** The settlement transaction's gas limit over the gas it used, and what the seller received. */
async function landed(transaction: string, payTo: string): Promise<{ headroom: number; received: bigint }> {
  const client = chain.devchain.evm.publicClient;
  const hash = transaction as `0x${string}`;
  const [sent, receipt] = await Promise.all([client.getTransaction({ hash }), client.getTransactionReceipt({ hash })]);
  assert.equal(receipt.status, "success");
  const received = await chain.devchain.usdcBalance("base", payTo);
  return { headroom: Number(sent.gas) / Number(receipt.gasUsed), received };
}

describe("gas estimated ahead of settlement", () => {
  test("verify then settle in one facilitator: sent with the estimate made at verify, and the seller is paid", async () => {
    const facilitator = devchainX402Facilitator(chain.devchain);
    const { payload, accepted } = await payment();
    const verified = await facilitator.verify(payload, accepted);
    assert.equal(verified.isValid, true, verified.invalidReason);
    const settled = await facilitator.settle(payload, accepted);
    assert.equal(settled.success, true, settled.errorReason);
    const { headroom, received } = await landed(settled.transaction, accepted.payTo);
    assert.ok(headroom >= 1.4, `gas limit ${headroom.toFixed(2)}x the gas used: the estimate made ahead was not used`);
    assert.equal(received, 1000n);
  });

  test("settle alone (nothing estimated ahead) estimates at settle time, as before", async () => {
    const { payload, accepted } = await payment();
    const settled = await devchainX402Facilitator(chain.devchain).settle(payload, accepted);
    assert.equal(settled.success, true, settled.errorReason);
    const { headroom, received } = await landed(settled.transaction, accepted.payTo);
    assert.ok(headroom < 1.3, `gas limit ${headroom.toFixed(2)}x the gas used`);
    assert.equal(received, 1000n);
  });
});
