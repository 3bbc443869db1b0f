// The settlement probe against the devchain: real transfers, real chain state.
// Each verdict is what the gateway will tell a buyer about their money.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSigner } from "@solana/kit";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { BASE, SOLANA } from "../chains/index.ts";
import { startTestDevchain, type TestDevchain } from "../chains/devchain/testing.ts";
import { x402ClientFor } from "../../test/support/buyer.ts";
import { devchainX402Facilitator } from "./facilitator/in-process.ts";
import { evmSettlementProbe, svmSettlementProbe, type SettlementProbe } from "./settlement-probe.ts";

let chain: TestDevchain;
let probes: { base: SettlementProbe; solana: SettlementProbe };
const sellerEvm = privateKeyToAccount(generatePrivateKey()).address;
let sellerSolana: string;

before(async () => {
  chain = await startTestDevchain();
  const { devchain } = chain;
  probes = {
    base: evmSettlementProbe(devchain.evm.publicClient, BASE.usdc.address),
    solana: svmSettlementProbe(devchain.solana.rpc, [devchain.solana.facilitator.signer]),
  };
  sellerSolana = (await generateKeyPairSigner()).address;
  await devchain.fundUsdc("solana", sellerSolana, 0n);
});
after(() => chain.dispose());

function requirements(network: "base" | "solana", maxTimeoutSeconds = 300): PaymentRequirements {
  if (network === "base") {
    return { scheme: "exact", network: BASE.caip2, asset: BASE.usdc.address, amount: "1000", payTo: sellerEvm, maxTimeoutSeconds, extra: { name: "USD Coin", version: "2" } };
  }
  return {
    scheme: "exact",
    network: SOLANA.caip2,
    asset: SOLANA.usdc.mint,
    amount: "1000",
    payTo: sellerSolana,
    maxTimeoutSeconds,
    extra: { feePayer: chain.devchain.solana.facilitator.signer.address },
  };
}

async function pay(network: "base" | "solana", maxTimeoutSeconds?: number) {
  const accepted = requirements(network, maxTimeoutSeconds);
  const payload = await x402ClientFor(chain.devchain, network).createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1/edit", description: "test", mimeType: "application/json" },
    accepts: [accepted],
  });
  return { payload: payload as PaymentPayload, accepted };
}

describe("EVM (EIP-3009 USDC)", () => {
  test("a settled transfer is landed, with its transaction hash", async () => {
    const { payload, accepted } = await pay("base");
    const settled = await devchainX402Facilitator(chain.devchain).settle(payload, accepted);
    assert.equal(settled.success, true, settled.errorReason);
    assert.deepEqual(await probes.base.check(payload), { state: "landed", transaction: settled.transaction });
  });

  test("an unused authorization is absent and may still land; once validBefore passes it never can", async () => {
    const { payload } = await pay("base");
    assert.deepEqual(await probes.base.check(payload), { state: "absent", final: false });
    const authorization = (payload.payload as { authorization: Record<string, string> }).authorization;
    const expired = { ...payload, payload: { ...payload.payload, authorization: { ...authorization, validBefore: "1" } } };
    assert.deepEqual(await probes.base.check(expired), { state: "absent", final: true });
  });
});

describe("Solana", () => {
  test("a settled transaction is landed, under the signature the facilitator reported", async () => {
    const { payload, accepted } = await pay("solana");
    const settled = await devchainX402Facilitator(chain.devchain).settle(payload, accepted);
    assert.equal(settled.success, true, settled.errorReason);
    assert.deepEqual(await probes.solana.check(payload), { state: "landed", transaction: settled.transaction });
  });

  test("an unsent transaction is absent while its blockhash is valid, and final once it expired", async () => {
    const { payload } = await pay("solana");
    assert.deepEqual(await probes.solana.check(payload), { state: "absent", final: false });
    chain.devchain.solana.svm.expireBlockhash();
    assert.deepEqual(await probes.solana.check(payload), { state: "absent", final: true });
  });

  test("without the fee payer's key the probe says it cannot tell", async () => {
    const { payload } = await pay("solana");
    const blind = svmSettlementProbe(chain.devchain.solana.rpc, []);
    const verdict = await blind.check(payload);
    assert.equal(verdict.state, "unknown");
  });
});
