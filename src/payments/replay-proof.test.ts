// A replayed payment gets a stored result only when it proves the payer the
// ledger holds. Real keys and real signatures; each case is something a person
// who copied a payer and a nonce from the chain could try.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  appendTransactionMessageInstruction,
  compileTransaction,
  createTransactionMessage,
  generateKeyPairSigner,
  getBase64EncodedWireTransaction,
  partiallySignTransaction,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  AccountRole,
  type Blockhash,
  type KeyPairSigner,
} from "@solana/kit";
import { authorizationTypes } from "@x402/evm";
import { getAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { BASE, SOLANA } from "../chains/index.ts";
import type { EvmAuthorization, ExactPayment } from "./exact-payload.ts";
import type { PaymentRequirements, PaymentRequirementsV1 } from "./protocol.ts";
import { replayRefusal } from "./replay-proof.ts";
import { readSolanaPayment } from "./solana-transaction.ts";

const seller = privateKeyToAccount(generatePrivateKey()).address;

const requirementsV2: PaymentRequirements = {
  scheme: "exact",
  network: BASE.caip2,
  asset: BASE.usdc.address,
  amount: "21000",
  payTo: seller,
  maxTimeoutSeconds: 300,
  extra: { name: BASE.usdc.name, version: BASE.usdc.version },
};

async function evmPayment(signer: PrivateKeyAccount, overrides: Partial<EvmAuthorization> = {}): Promise<Extract<ExactPayment, { family: "evm" }>> {
  const authorization: EvmAuthorization = {
    from: signer.address,
    to: seller,
    value: 21_000n,
    validAfter: 0n,
    validBefore: 4_000_000_000n,
    nonce: `0x${"7a".repeat(32)}`,
    ...overrides,
  };
  const signature = await signer.signTypedData({
    domain: { name: BASE.usdc.name, version: BASE.usdc.version, chainId: BASE.chainId, verifyingContract: BASE.usdc.address },
    types: authorizationTypes,
    primaryType: "TransferWithAuthorization",
    message: authorization,
  });
  return { family: "evm", network: BASE, signature, authorization };
}

describe("EVM: the EIP-3009 signature must be the payer's, over this edit's authorization", () => {
  test("the payer's own authorization proves the payer, however the addresses are cased", async () => {
    const buyer = privateKeyToAccount(generatePrivateKey());
    const payment = await evmPayment(buyer);
    assert.equal(await replayRefusal(payment, buyer.address, requirementsV2), undefined);
    assert.equal(await replayRefusal(payment, buyer.address.toLowerCase(), { ...requirementsV2, payTo: seller.toLowerCase() }), undefined);
    const lowerFrom = { ...payment, authorization: { ...payment.authorization, from: buyer.address.toLowerCase() as `0x${string}` } };
    assert.equal(await replayRefusal(lowerFrom, getAddress(buyer.address), requirementsV2), undefined);
  });

  test("v1 requirements (maxAmountRequired) are read the same way", async () => {
    const buyer = privateKeyToAccount(generatePrivateKey());
    const { amount, ...rest } = requirementsV2;
    // v1 names networks ("base") where x402's types expect CAIP-2, as paymentTerms' v1 list does.
    const v1 = { ...rest, network: "base", maxAmountRequired: amount, resource: "http://127.0.0.1/edit", description: "edit", mimeType: "application/json" } as unknown as PaymentRequirementsV1;
    assert.equal(await replayRefusal(await evmPayment(buyer), buyer.address, v1), undefined);
    assert.match(String(await replayRefusal(await evmPayment(buyer, { value: 1n }), buyer.address, v1)), /not the one that paid/);
  });

  test("an authorization to another seller, or for another amount, is not the one that paid", async () => {
    const buyer = privateKeyToAccount(generatePrivateKey());
    const elsewhere = await evmPayment(buyer, { to: privateKeyToAccount(generatePrivateKey()).address });
    assert.equal(await replayRefusal(elsewhere, buyer.address, requirementsV2), "its authorization is not the one that paid for this edit");
    const cheaper = await evmPayment(buyer, { value: 20_999n });
    assert.equal(await replayRefusal(cheaper, buyer.address, requirementsV2), "its authorization is not the one that paid for this edit");
  });

  test("someone else's key signing an authorization in the payer's name is refused", async () => {
    const buyer = privateKeyToAccount(generatePrivateKey());
    const thief = privateKeyToAccount(generatePrivateKey());
    // The thief signs `from: buyer`; recovering the signature gives the thief, not the payer.
    const forged = await evmPayment(thief, { from: buyer.address });
    assert.equal(await replayRefusal(forged, buyer.address, requirementsV2), "its signature was not made by the wallet that paid");
    // Even where the ledger named the signer, an authorization in another wallet's name proves nothing.
    assert.equal(await replayRefusal(forged, thief.address, requirementsV2), "its signature was not made by the wallet that paid");
    // Nor does claiming to be the payer help when the signature names another `from`.
    const own = await evmPayment(thief);
    assert.equal(await replayRefusal(own, buyer.address, requirementsV2), "its signature was not made by the wallet that paid");
  });

  test("a signature over another chain's or token's domain does not recover the payer", async () => {
    const buyer = privateKeyToAccount(generatePrivateKey());
    const payment = await evmPayment(buyer);
    const otherToken = { ...requirementsV2, extra: { name: "Bridged USDC", version: "2" } };
    assert.equal(await replayRefusal(payment, buyer.address, otherToken), "its signature was not made by the wallet that paid");
    const otherChain = { ...payment, network: { ...BASE, chainId: 84532 } };
    assert.equal(await replayRefusal(otherChain, buyer.address, requirementsV2), "its signature was not made by the wallet that paid");
  });

  test("a contract wallet's longer signature is sent to Sign-In-With-X; a malformed one is not a signature", async () => {
    const buyer = privateKeyToAccount(generatePrivateKey());
    const payment = await evmPayment(buyer);
    const longer = { ...payment, signature: `${payment.signature}${"00".repeat(32)}` as `0x${string}` };
    assert.match(String(await replayRefusal(longer, buyer.address, requirementsV2)), /contract wallet's.*Sign-In-With-X/);
    // 65 bytes whose recovery id is neither 27 nor 28 nor 0/1: no public key can be recovered.
    const garbage = { ...payment, signature: `0x${"11".repeat(64)}05` as `0x${string}` };
    assert.equal(await replayRefusal(garbage, buyer.address, requirementsV2), "its signature is not a valid signature");
  });
});

const MEMO = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";

/** A transaction paid by `feePayer` in which `buyer` signs a memo, signed by the buyer only (as an x402 client sends it). */
async function solanaPayment(buyer: KeyPairSigner, feePayer: string, text = "x402"): Promise<Extract<ExactPayment, { family: "svm" }>> {
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(feePayer as never, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi" as Blockhash, lastValidBlockHeight: 100n }, m),
    (m) =>
      appendTransactionMessageInstruction(
        { programAddress: MEMO as never, accounts: [{ address: buyer.address, role: AccountRole.READONLY_SIGNER }], data: new TextEncoder().encode(text) },
        m,
      ),
  );
  const signed = await partiallySignTransaction([buyer.keyPair], compileTransaction(message));
  const transaction = getBase64EncodedWireTransaction(signed);
  return { family: "svm", network: SOLANA, transaction, solana: readSolanaPayment(transaction) };
}

describe("Solana: the payer's own signature over the message", () => {
  test("the buyer's signature proves the buyer", async () => {
    const buyer = await generateKeyPairSigner();
    const payment = await solanaPayment(buyer, (await generateKeyPairSigner()).address);
    assert.equal(await replayRefusal(payment, buyer.address, requirementsV2), undefined);
  });

  test("a wallet that does not sign the transaction is not proven by it", async () => {
    const buyer = await generateKeyPairSigner();
    const feePayer = (await generateKeyPairSigner()).address;
    const payment = await solanaPayment(buyer, feePayer);
    const stranger = (await generateKeyPairSigner()).address;
    assert.equal(await replayRefusal(payment, stranger, requirementsV2), "the wallet that paid does not sign this transaction");
    // The fee payer is not among the signers that pay.
    assert.equal(await replayRefusal(payment, feePayer, requirementsV2), "the wallet that paid does not sign this transaction");
  });

  test("an empty or short signature slot is missing", async () => {
    const buyer = await generateKeyPairSigner();
    const payment = await solanaPayment(buyer, (await generateKeyPairSigner()).address);
    const empty = { ...payment, solana: { ...payment.solana, signatureOf: { ...payment.solana.signatureOf, [buyer.address]: null } } };
    assert.equal(await replayRefusal(empty, buyer.address, requirementsV2), "the paying wallet's signature is missing from the transaction");
    const short = { ...payment, solana: { ...payment.solana, signatureOf: { ...payment.solana.signatureOf, [buyer.address]: payment.solana.signatureOf[buyer.address]!.slice(0, 63) } } };
    assert.equal(await replayRefusal(short, buyer.address, requirementsV2), "the paying wallet's signature is missing from the transaction");
  });

  test("the buyer's signature from another transaction, pasted into this one, does not verify", async () => {
    const buyer = await generateKeyPairSigner();
    const feePayer = (await generateKeyPairSigner()).address;
    const paid = await solanaPayment(buyer, feePayer, "the edit that was paid");
    const other = await solanaPayment(buyer, feePayer, "another edit");
    const pasted = { ...other, solana: { ...other.solana, signatureOf: { ...other.solana.signatureOf, [buyer.address]: paid.solana.signatureOf[buyer.address]! } } };
    assert.equal(await replayRefusal(pasted, buyer.address, requirementsV2), "the paying wallet's signature does not verify");
  });

  test("a payer that is not an ed25519 key cannot have signed", async () => {
    const buyer = await generateKeyPairSigner();
    const payment = await solanaPayment(buyer, (await generateKeyPairSigner()).address);
    // A 32-byte address that is not on the curve (a program-derived address): it is listed as the signer here.
    const offCurve = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";
    const claimed = { ...payment, solana: { ...payment.solana, signers: [offCurve], signatureOf: { [offCurve]: payment.solana.signatureOf[buyer.address]! } } };
    assert.equal(await replayRefusal(claimed, offCurve, requirementsV2), "the paying wallet's signature does not verify");
  });
});
