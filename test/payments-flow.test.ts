// The paths around a paid edit: failures are never charged, slow edits go
// through 202 + polling and settle exactly once, a restart keeps replays
// answered, and a remote HTTP facilitator works like the in-process one.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { generateKeyPairSigner } from "@solana/kit";
import { createWalletClient } from "viem";
import { BASE, type DevWallet } from "../src/chains/index.ts";
import { USDC_ABI } from "../src/chains/devchain/index.ts";
import { startTestDevchain } from "../src/chains/devchain/testing.ts";
import { devchainX402Facilitator } from "../src/payments/index.ts";
import { dataUri, solidImage, startTestGateway, type TestGateway } from "./support/gateway.ts";
import { payingFetch, signV2 } from "./support/buyer.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { hang } from "./upstreams/fake-server.ts";
import { startFakeOpenAi } from "./upstreams/fake-openai.ts";

const EDIT = "/api/v1/images/image2image";

async function baseBalance(gw: TestGateway, address: string): Promise<bigint> {
  return gw.gateway.devchain!.usdcBalance("base", address);
}

test("an edit that times out after payment is verified is never charged, and its replay says so again", async () => {
  // The upstream never answers, so the time budget runs out whatever the machine's speed.
  const upstream = await startFakeOpenAi("sk-test-hang", await solidImage(1024, 1024));
  upstream.reply(hang());
  const gw = await startTestGateway({
    RETOUCH_PAYMENTS: "devchain",
    RETOUCH_UPSTREAM_TIMEOUT_MS: "300",
    OPENAI_API_KEY: "sk-test-hang",
    OPENAI_BASE_URL: upstream.baseUrl,
  });
  try {
    const edit = { model: "openai/gpt-image-1", prompt: "p", image: dataUri(await solidImage(64, 64)) };
    const buyer = gw.gateway.devchain!.wallets.buyer.evm.address;
    const seller = gw.gateway.rail!.networks[0].payTo;
    const before = await baseBalance(gw, buyer);
    const { header } = await signV2(gw, "base", EDIT, jsonInit(edit));
    const response = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    assert.equal(response.status, 504);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /nothing was charged/);
    const replay = await gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    assert.equal(replay.status, 504);
    assert.equal(upstream.received.length, 1, "the replay did not run the edit again");
    assert.equal(await baseBalance(gw, buyer), before);
    assert.equal(await baseBalance(gw, seller), 0n);
    const rows = await gw.gateway.ledger!.db.query<{ status: string; tx_hash: string | null }>("SELECT status, tx_hash FROM paid_edits");
    assert.deepEqual(rows.map((r) => ({ ...r })), [{ status: "failed", tx_hash: null }]);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

test("a slow edit answers 202, and the first poll that sees it done settles it, once", async () => {
  const gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_INLINE_WINDOW_MS: "0" });
  try {
    const edit = await sceneEdit();
    const devchain = gw.gateway.devchain!;
    const buyer = devchain.wallets.buyer.evm.address;
    const seller = gw.gateway.rail!.networks[0].payTo;
    const before = await baseBalance(gw, buyer);
    const pay = payingFetch(gw, "base");

    const accepted = await pay(`${gw.config.publicUrl}${EDIT}`, jsonInit(edit));
    const job = (await accepted.json()) as { id: string; status: string; poll_url: string; payment_status: string; price: { amount: string } };
    assert.equal(accepted.status, 202);
    assert.equal(job.payment_status, "verified");
    assert.deepEqual(job.price, { amount: "0.001", currency: "USD" });
    assert.match(job.poll_url, /\/api\/v1\/images\/jobs\/job_/);
    assert.equal(await baseBalance(gw, buyer), before, "nothing moves before the result is delivered");

    const unpaidPoll = await gw.request(new URL(job.poll_url).pathname);
    assert.equal(unpaidPoll.status, 402);

    const stranger = { evm: privateKeyToAccount(generatePrivateKey()), solana: await generateKeyPairSigner() } as unknown as DevWallet;
    await devchain.fundUsdc("base", stranger.evm.address, 1_000_000n);
    const strangerPoll = await payingFetch(gw, "base", stranger)(job.poll_url);
    assert.equal(strangerPoll.status, 403);

    let done: Response | undefined;
    for (let i = 0; i < 100 && !done; i++) {
      const poll = await pay(job.poll_url);
      if (poll.status === 200) done = poll;
      else {
        assert.equal(poll.status, 202);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const body = (await done!.json()) as { payment: { status: string; tx_hash: string }; data: { url: string }[] };
    assert.equal(body.payment.status, "settled");
    assert.equal(done!.headers.get("x-payment-receipt"), body.payment.tx_hash);
    const again = (await (await pay(job.poll_url)).json()) as { payment: { status: string; tx_hash: string } };
    assert.equal(again.payment.status, "already_settled");
    assert.equal(again.payment.tx_hash, body.payment.tx_hash);
    // Polls signed fresh authorizations; only the original payment was settled.
    assert.equal(before - (await baseBalance(gw, buyer)), 1000n);
    assert.equal(await baseBalance(gw, seller), 1000n);
  } finally {
    await gw.close();
  }
});

test("a restarted gateway still answers the replay of a settled payment with the stored result", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-restart-"));
  try {
    const edit = await sceneEdit();
    const first = await startTestGateway({ RETOUCH_PAYMENTS: "devchain" }, dataDir);
    const { header } = await signV2(first, "solana", EDIT, jsonInit(edit));
    const paid = (await (await first.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }))).json()) as {
      data: { url: string }[];
      payment: { status: string; tx_hash: string };
    };
    assert.equal(paid.payment.status, "settled");
    await first.close();

    const second = await startTestGateway({ RETOUCH_PAYMENTS: "devchain" }, dataDir);
    try {
      const buyer = second.gateway.devchain!.wallets.buyer.solana.address;
      const before = await second.gateway.devchain!.usdcBalance("solana", buyer);
      const replay = await second.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
      const body = (await replay.json()) as typeof paid;
      assert.equal(replay.status, 200);
      assert.equal(body.payment.status, "already_settled");
      assert.equal(body.payment.tx_hash, paid.payment.tx_hash);
      assert.deepEqual(body.data, paid.data);
      assert.equal((await second.request(new URL(body.data[0].url).pathname)).status, 200);
      assert.equal(await second.gateway.devchain!.usdcBalance("solana", buyer), before);
    } finally {
      await second.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("RETOUCH_PAYMENTS=remote pays through an HTTP facilitator with auth headers", async () => {
  const chain = await startTestDevchain();
  const facilitator = devchainX402Facilitator(chain.devchain);
  const calls: string[] = [];
  const api = new Hono();
  api.use(async (c, next) => {
    if (c.req.header("authorization") !== "Bearer facilitator-secret") return c.json({ error: "unauthorized" }, 401);
    calls.push(c.req.path);
    await next();
  });
  api.get("/supported", (c) => c.json(facilitator.getSupported()));
  api.post("/verify", async (c) => {
    const { paymentPayload, paymentRequirements } = await c.req.json();
    return c.json(await facilitator.verify(paymentPayload, paymentRequirements));
  });
  api.post("/settle", async (c) => {
    const { paymentPayload, paymentRequirements } = await c.req.json();
    return c.json(await facilitator.settle(paymentPayload, paymentRequirements));
  });
  const server = serve({ fetch: api.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  const port = (server.address() as { port: number }).port;

  const seller = { evm: privateKeyToAccount(generatePrivateKey()).address, solana: (await generateKeyPairSigner()).address };
  await chain.devchain.fundUsdc("solana", seller.solana, 0n);
  const gw = await startTestGateway({
    RETOUCH_PAYMENTS: "remote",
    FACILITATOR_URL: `http://127.0.0.1:${port}`,
    FACILITATOR_HEADERS: JSON.stringify({ Authorization: "Bearer facilitator-secret" }),
    RETOUCH_NETWORKS: "base,solana",
    RETOUCH_PAY_TO_EVM: seller.evm,
    RETOUCH_PAY_TO_SOLANA: seller.solana,
  });
  try {
    const edit = await sceneEdit();
    for (const network of ["base", "solana"] as const) {
      const buyer = network === "base" ? chain.devchain.wallets.buyer.evm.address : chain.devchain.wallets.buyer.solana.address;
      const payee = network === "base" ? seller.evm : seller.solana;
      const before = await chain.devchain.usdcBalance(network, buyer);
      const response = await payingFetch(gw, network, undefined, chain.devchain)(`${gw.config.publicUrl}${EDIT}`, jsonInit(edit));
      const body = (await response.json()) as { payment: { status: string } };
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.payment.status, "settled");
      assert.equal(before - (await chain.devchain.usdcBalance(network, buyer)), 1000n);
      assert.equal(await chain.devchain.usdcBalance(network, payee), 1000n);
    }
    assert.deepEqual([...new Set(calls)].sort(), ["/settle", "/supported", "/verify"]);
  } finally {
    await gw.close();
    server.close();
    await chain.dispose();
  }
});

test("when settlement fails after the edit, the caller gets a 402 with the reason, no result, and nothing moves", async () => {
  const gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_INLINE_WINDOW_MS: "0" });
  try {
    const edit = await sceneEdit();
    const devchain = gw.gateway.devchain!;
    const buyer = devchain.wallets.buyer.evm;
    const seller = gw.gateway.rail!.networks[0].payTo;
    const pay = payingFetch(gw, "base");
    const accepted = await pay(`${gw.config.publicUrl}${EDIT}`, jsonInit(edit));
    assert.equal(accepted.status, 202);
    const job = (await accepted.json()) as { poll_url: string };

    // The buyer cancels the verified authorization (EIP-3009 cancelAuthorization) while the edit runs,
    // so it can no longer settle; the wallet itself keeps its USDC.
    const [row] = await gw.gateway.ledger!.db.query<{ payload: { payload: { authorization: { nonce: `0x${string}` } } } }>(
      "SELECT payload FROM paid_edits",
    );
    const nonce = row.payload.payload.authorization.nonce;
    const signature = await buyer.signTypedData({
      domain: { name: BASE.usdc.name, version: BASE.usdc.version, chainId: BASE.chainId, verifyingContract: BASE.usdc.address },
      types: { CancelAuthorization: [{ name: "authorizer", type: "address" }, { name: "nonce", type: "bytes32" }] },
      primaryType: "CancelAuthorization",
      message: { authorizer: buyer.address, nonce },
    });
    const wallet = createWalletClient({ account: buyer, chain: devchain.evm.chain, transport: devchain.evm.transport });
    await devchain.evm.publicClient.waitForTransactionReceipt({
      hash: await wallet.writeContract({ address: BASE.usdc.address, abi: USDC_ABI, functionName: "cancelAuthorization", args: [buyer.address, nonce, signature] }),
    });
    const before = await baseBalance(gw, buyer.address);

    let refused: Response | undefined;
    for (let i = 0; i < 100 && !refused; i++) {
      const poll = await gw.request(new URL(job.poll_url).pathname, {
        headers: { "PAYMENT-SIGNATURE": (await signPoll(gw, job.poll_url)).header },
      });
      if (poll.status === 202) await new Promise((resolve) => setTimeout(resolve, 100));
      else refused = poll;
    }
    const body = (await refused!.json()) as { error: string; data?: unknown };
    assert.equal(refused!.status, 402, JSON.stringify(body));
    assert.match(body.error, /settlement failed, nothing was charged and the result is withheld/);
    assert.equal(body.data, undefined);
    assert.equal(await baseBalance(gw, seller), 0n);
    assert.equal(await baseBalance(gw, buyer.address), before);
    const rows = await gw.gateway.ledger!.db.query<{ status: string }>("SELECT status FROM paid_edits");
    assert.deepEqual(rows.map((r) => r.status), ["failed"]);
  } finally {
    await gw.close();
  }
});

async function signPoll(gw: TestGateway, pollUrl: string) {
  return signV2(gw, "base", new URL(pollUrl).pathname, {});
}
