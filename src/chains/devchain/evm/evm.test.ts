// End-to-end on the local Base: viem over HTTP JSON-RPC, raw EIP-3009 in both signature forms,
// and the real x402 exact-EVM client + facilitator settling against it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { x402Client } from "@x402/core/client";
import { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { toClientEvmSigner, toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme as ExactEvmClient } from "@x402/evm/exact/client";
import { ExactEvmScheme as ExactEvmFacilitator } from "@x402/evm/exact/facilitator";
import { createPublicClient, createWalletClient, http, parseSignature, toHex, type Address } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { BASE } from "../../networks.ts";
import { USDC_ABI } from "./contracts.ts";
import { signTransferAuthorization, startTestDevchain, type TestDevchain } from "../testing.ts";

let t: TestDevchain;
before(async () => {
  t = await startTestDevchain();
});
after(() => t.dispose());

const randomAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address;

describe("local Base over HTTP JSON-RPC", () => {
  test("viem reads chain id 8453 and USD Coin v2 (6 decimals) at Base's USDC address, and the buyer holds 1,000 USDC", async () => {
    const client = createPublicClient({ transport: http(t.devchain.evm.rpcUrl) });
    assert.equal(await client.getChainId(), 8453);
    const read = (functionName: "name" | "version" | "decimals" | "symbol") =>
      client.readContract({ address: BASE.usdc.address, abi: USDC_ABI, functionName });
    assert.equal(await read("name"), "USD Coin");
    assert.equal(await read("version"), "2");
    assert.equal(await read("decimals"), 6);
    assert.equal(await read("symbol"), "USDC");
    const buyer = t.devchain.wallets.buyer.evm.address;
    assert.equal(await client.readContract({ address: BASE.usdc.address, abi: USDC_ABI, functionName: "balanceOf", args: [buyer] }), 1_000_000_000n);
    assert.ok((await client.getBalance({ address: t.devchain.wallets.facilitator.evm.address })) > 0n, "facilitator has gas");
  });
});

describe("EIP-3009 transferWithAuthorization", () => {
  const buyer = () => t.devchain.wallets.buyer.evm;
  async function authorize(from: PrivateKeyAccount, to: Address, value: bigint) {
    const now = BigInt(Math.floor(Date.now() / 1000));
    const message = { from: from.address, to, value, validAfter: now - 600n, validBefore: now + 600n, nonce: toHex(crypto.getRandomValues(new Uint8Array(32))) };
    const signature = await signTransferAuthorization(from, message);
    return { message, signature };
  }
  // Submitted over HTTP by the facilitator wallet, as a relayer would.
  const relayer = () =>
    createWalletClient({ account: t.devchain.wallets.facilitator.evm, chain: t.devchain.evm.chain, transport: http(t.devchain.evm.rpcUrl) });
  const args = (m: Awaited<ReturnType<typeof authorize>>["message"]) =>
    [m.from, m.to, m.value, m.validAfter, m.validBefore, m.nonce] as const;

  test("the (v, r, s) form moves exactly the amount, and a replay reverts with FiatToken's reason", async () => {
    const payee = randomAddress();
    const before = await t.devchain.evm.usdcBalance(buyer().address);
    const { message, signature } = await authorize(buyer(), payee, 12_345n);
    const { v, r, s } = parseSignature(signature);
    const call = { address: BASE.usdc.address, abi: USDC_ABI, functionName: "transferWithAuthorization", args: [...args(message), Number(v), r, s] } as const;
    const hash = await relayer().writeContract(call);
    const receipt = await t.devchain.evm.publicClient.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, "success");
    assert.equal(await t.devchain.evm.usdcBalance(payee), 12_345n);
    assert.equal(await t.devchain.evm.usdcBalance(buyer().address), before - 12_345n);
    assert.equal(
      await t.devchain.evm.publicClient.readContract({ address: BASE.usdc.address, abi: USDC_ABI, functionName: "authorizationState", args: [message.from, message.nonce] }),
      true,
    );
    await assert.rejects(t.devchain.evm.publicClient.simulateContract({ ...call, account: relayer().account }), /FiatTokenV2: authorization is used or canceled/);
  });

  test("the bytes-signature form moves exactly the amount; a forged signature reverts", async () => {
    const payee = randomAddress();
    const { message, signature } = await authorize(buyer(), payee, 777n);
    const call = { address: BASE.usdc.address, abi: USDC_ABI, functionName: "transferWithAuthorization", args: [...args(message), signature] } as const;
    const hash = await relayer().writeContract(call);
    assert.equal((await t.devchain.evm.publicClient.waitForTransactionReceipt({ hash })).status, "success");
    assert.equal(await t.devchain.evm.usdcBalance(payee), 777n);

    const stranger = privateKeyToAccount(generatePrivateKey());
    const forged = await authorize(stranger, payee, 1n);
    const forgedCall = { ...call, args: [...args({ ...forged.message, from: buyer().address }), forged.signature] } as const;
    await assert.rejects(t.devchain.evm.publicClient.simulateContract({ ...forgedCall, account: relayer().account }), /FiatTokenV2: invalid signature/);
  });
});

describe("x402 exact EVM, unmodified client and in-process facilitator", () => {
  const requirements = (payTo: Address, amount: string): PaymentRequirements => ({
    scheme: "exact",
    network: BASE.caip2,
    amount,
    asset: BASE.usdc.address,
    payTo,
    maxTimeoutSeconds: 300,
    extra: { name: BASE.usdc.name, version: BASE.usdc.version },
  });
  const pay = async (req: PaymentRequirements): Promise<PaymentPayload> => {
    // Default spend controls: only real USDC on known networks is paid. No setSpendControls(false).
    const client = new x402Client().register(BASE.caip2, new ExactEvmClient(toClientEvmSigner(t.devchain.wallets.buyer.evm, t.devchain.evm.publicClient)));
    return client.createPaymentPayload({ x402Version: 2, resource: { url: "http://127.0.0.1/edit", description: "edit", mimeType: "application/json" }, accepts: [req] });
  };
  const facilitator = () => {
    const c = t.devchain.evm.facilitator.client;
    const signer = toFacilitatorEvmSigner({
      address: c.account.address,
      readContract: (a) => c.readContract(a as Parameters<typeof c.readContract>[0]),
      verifyTypedData: (a) => c.verifyTypedData(a as Parameters<typeof c.verifyTypedData>[0]),
      writeContract: (a) => c.writeContract(a as Parameters<typeof c.writeContract>[0]),
      sendTransaction: (a) => c.sendTransaction(a as Parameters<typeof c.sendTransaction>[0]),
      waitForTransactionReceipt: (a) => c.waitForTransactionReceipt(a),
      getCode: (a) => c.getCode(a),
    });
    return new x402Facilitator().register(BASE.caip2, new ExactEvmFacilitator(signer));
  };

  test("verify + settle moves exactly the quoted amount; a replay is refused as a used nonce", async () => {
    const payTo = randomAddress();
    const buyer = t.devchain.wallets.buyer.evm.address;
    const before = await t.devchain.usdcBalance("base", buyer);
    const req = requirements(payTo, "21000");
    const payload = await pay(req);
    const fac = facilitator();
    const verified = await fac.verify(payload, req);
    assert.equal(verified.isValid, true, JSON.stringify(verified));
    assert.equal(verified.payer, buyer);
    const settled = await fac.settle(payload, req);
    assert.equal(settled.success, true, JSON.stringify(settled));
    assert.match(settled.transaction, /^0x[0-9a-f]{64}$/);
    assert.equal(await t.devchain.usdcBalance("eip155:8453", payTo), 21_000n);
    assert.equal(await t.devchain.usdcBalance("base", buyer), before - 21_000n);

    // Multicall3 is installed, so x402 diagnoses the failed simulation precisely.
    const replay = await fac.verify(payload, req);
    assert.equal(replay.isValid, false);
    assert.equal(replay.invalidReason, "invalid_exact_evm_nonce_already_used");
    assert.equal((await fac.settle(payload, req)).success, false);
    assert.equal(await t.devchain.usdcBalance("base", payTo), 21_000n, "paid once");
  });

  test("concurrent settlements from the one facilitator wallet all land (sends are serialized)", async () => {
    const payTo = randomAddress();
    const fac = facilitator();
    const reqs = Array.from({ length: 40 }, (_, i) => requirements(payTo, String(1_000 + i)));
    const payloads = await Promise.all(reqs.map(pay));
    const results = await Promise.all(payloads.map((p, i) => fac.settle(p, reqs[i]!)));
    assert.deepEqual(results.map((r) => r.success), reqs.map(() => true), JSON.stringify(results));
    assert.equal(await t.devchain.usdcBalance("base", payTo), reqs.reduce((sum, r) => sum + BigInt(r.amount), 0n));
  });

  test("a settlement after another process spent the wallet's next nonce still lands (the count is read again)", async () => {
    const payTo = randomAddress();
    const fac = facilitator();
    const first = requirements(payTo, "1000");
    assert.equal((await fac.settle(await pay(first), first)).success, true);
    // The same key used elsewhere (another process, the operator's own transfer): the queue's count is now stale.
    const elsewhere = createWalletClient({ account: t.devchain.wallets.facilitator.evm, chain: t.devchain.evm.chain, transport: http(t.devchain.evm.rpcUrl) });
    await elsewhere.sendTransaction({ to: randomAddress(), value: 1n });
    await elsewhere.sendTransaction({ to: randomAddress(), value: 1n });
    const second = requirements(payTo, "2000");
    const settled = await fac.settle(await pay(second), second);
    assert.equal(settled.success, true, JSON.stringify(settled));
    assert.equal(await t.devchain.usdcBalance("base", payTo), 3000n);
  });
});

