// End-to-end on the local Solana: real Solana JSON-RPC shapes over HTTP, and the real x402
// exact-SVM client (pointed at the devchain's RPC URL) + facilitator (in-process Rpc) settling on LiteSVM.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { x402Client } from "@x402/core/client";
import { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { toFacilitatorSvmSigner } from "@x402/svm";
import { ExactSvmScheme as ExactSvmClient } from "@x402/svm/exact/client";
import { ExactSvmScheme as ExactSvmFacilitator } from "@x402/svm/exact/facilitator";
import { createSolanaRpc, generateKeyPairSigner, type Address } from "@solana/kit";
import { SOLANA } from "../../networks.ts";
import { associatedTokenAddress } from "./token.ts";
import { startTestDevchain, type TestDevchain } from "../testing.ts";

let t: TestDevchain;
before(async () => {
  t = await startTestDevchain();
});
after(() => t.dispose());

const newOwner = async (): Promise<Address> => (await generateKeyPairSigner()).address;

describe("local Solana over HTTP JSON-RPC", () => {
  test("answers like a Solana node: USDC mint at the mainnet address, buyer's 1,000 USDC and SOL", async () => {
    const rpc = createSolanaRpc(t.devchain.solana.rpcUrl);
    const buyer = t.devchain.wallets.buyer.solana.address;
    assert.equal(await rpc.getHealth().send(), "ok");
    assert.equal(await rpc.getGenesisHash().send(), "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d");

    const mint = await rpc.getAccountInfo(SOLANA.usdc.mint as Address, { encoding: "base64" }).send();
    assert.equal(mint.value?.owner, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
    assert.equal(mint.value?.data[1], "base64");
    assert.equal(Buffer.from(mint.value!.data[0], "base64")[44], 6, "decimals byte of the Mint layout");

    const ata = await associatedTokenAddress(buyer, SOLANA.usdc.mint as Address);
    const balance = await rpc.getTokenAccountBalance(ata).send();
    assert.deepEqual(balance.value, { amount: "1000000000", decimals: 6, uiAmount: 1000, uiAmountString: "1000" });
    const byOwner = await rpc.getTokenAccountsByOwner(buyer, { mint: SOLANA.usdc.mint as Address }, { encoding: "jsonParsed" }).send();
    assert.equal(byOwner.value.length, 1);
    assert.equal(byOwner.value[0]!.pubkey, ata);
    assert.equal(byOwner.value[0]!.account.data.parsed.info.tokenAmount.amount, "1000000000");

    assert.ok((await rpc.getBalance(buyer).send()).value > 0n);
    assert.ok((await rpc.getBalance(t.devchain.wallets.facilitator.solana.address).send()).value > 0n, "facilitator has SOL for fees");
    assert.equal(await rpc.getMinimumBalanceForRentExemption(165n).send(), 2_039_280n);
    const { value: latest } = await rpc.getLatestBlockhash().send();
    assert.equal(latest.blockhash, t.devchain.solana.svm.latestBlockhash());
  });

  test("unknown methods are JSON-RPC 'method not found', oversized bodies are refused", async () => {
    const post = (body: string) => fetch(t.devchain.solana.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
    const unknown = (await (await post('{"jsonrpc":"2.0","id":1,"method":"getBlock","params":[1]}')).json()) as { error: { code: number } };
    assert.equal(unknown.error.code, -32601);
    assert.equal((await post("x".repeat(5 * 1024 * 1024))).status, 413);
  });
});

describe("x402 exact SVM, unmodified client and in-process facilitator", () => {
  test("verify + settle moves exactly the quoted amount; the same payment cannot settle twice", async () => {
    const { solana } = t.devchain;
    const facilitator = new x402Facilitator().register(
      solana.network,
      new ExactSvmFacilitator(toFacilitatorSvmSigner(solana.facilitator.signer, { [solana.network]: solana.rpc })),
    );
    const feePayer = (await facilitator.getSupported()).kinds.find((k) => k.network === SOLANA.caip2)?.extra?.feePayer;
    assert.equal(feePayer, t.devchain.wallets.facilitator.solana.address);

    const payTo = await newOwner();
    await t.devchain.fundUsdc("solana", payTo, 0n); // a seller needs a USDC account, as on mainnet
    const req: PaymentRequirements = {
      scheme: "exact",
      network: SOLANA.caip2,
      amount: "21000",
      asset: SOLANA.usdc.mint,
      payTo,
      maxTimeoutSeconds: 300,
      extra: { feePayer },
    };
    // Default spend controls (real USDC only): the devchain's mint is the real address.
    const client = new x402Client().register(SOLANA.caip2, new ExactSvmClient(t.devchain.wallets.buyer.solana, { rpcUrl: solana.rpcUrl }));
    const payload: PaymentPayload = await client.createPaymentPayload({
      x402Version: 2,
      resource: { url: "http://127.0.0.1/edit", description: "edit", mimeType: "application/json" },
      accepts: [req],
    });

    const buyer = t.devchain.wallets.buyer.solana.address;
    const before = await t.devchain.usdcBalance("solana", buyer);
    const verified = await facilitator.verify(payload, req);
    assert.equal(verified.isValid, true, JSON.stringify(verified));
    const settled = await facilitator.settle(payload, req);
    assert.equal(settled.success, true, JSON.stringify(settled));
    assert.equal(await t.devchain.usdcBalance(SOLANA.caip2, payTo), 21_000n);
    assert.equal(await t.devchain.usdcBalance("solana", buyer), before - 21_000n);

    const status = await createSolanaRpc(solana.rpcUrl).getSignatureStatuses([settled.transaction as never]).send();
    assert.equal(status.value[0]?.confirmationStatus, "finalized");
    assert.equal(status.value[0]?.err, null);

    const replay = await facilitator.settle(payload, req);
    assert.equal(replay.success, false);
    assert.equal(await t.devchain.usdcBalance("solana", payTo), 21_000n, "paid once");
  });
});
