// GET /api/v1/devchain: a devchain gateway tells buyer tools where its local
// chains answer (the addresses work: chain ids and balances read through them
// match), and any other gateway answers 404. POST /api/v1/devchain/faucet funds
// a new wallet on either chain within its bounds, also when called at once.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createPublicClient, http } from "viem";
import { BASE, SOLANA } from "../src/chains/index.ts";
import { USDC_ABI } from "../src/chains/devchain/index.ts";
import { generateWalletKeys } from "../src/chains/wallet-keys.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

interface DevchainInfo {
  evm: { rpcUrl: string; chainId: number; network: string };
  solana: { rpcUrl: string; network: string };
}

let devchain: TestGateway;
let off: TestGateway;

before(async () => {
  [devchain, off] = await Promise.all([startTestGateway({ RETOUCH_PAYMENTS: "devchain" }), startTestGateway()]);
});
after(async () => {
  await Promise.all([devchain?.close(), off?.close()]);
});

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return ((await response.json()) as { result: unknown }).result;
}

test("a devchain gateway names its chains' JSON-RPC endpoints, and they are the chains it settles on", async () => {
  const response = await devchain.request("/api/v1/devchain");
  const info = (await response.json()) as DevchainInfo;
  assert.equal(response.status, 200, JSON.stringify(info));
  const chain = devchain.gateway.devchain!;
  assert.deepEqual(info, {
    evm: { rpcUrl: chain.evm.rpcUrl, chainId: 8453, network: BASE.caip2 },
    solana: { rpcUrl: chain.solana.rpcUrl, network: SOLANA.caip2 },
  });

  assert.equal(await rpc(info.evm.rpcUrl, "eth_chainId"), `0x${info.evm.chainId.toString(16)}`);
  const genesis = (await rpc(info.solana.rpcUrl, "getGenesisHash")) as string;
  assert.equal(`solana:${genesis.slice(0, 32)}`, info.solana.network, "CAIP-2 of Solana is the genesis hash's first 32 characters");

  const buyer = chain.wallets.buyer.evm.address;
  const client = createPublicClient({ transport: http(info.evm.rpcUrl) });
  const balance = await client.readContract({ address: BASE.usdc.address, abi: USDC_ABI, functionName: "balanceOf", args: [buyer] });
  assert.equal(balance, await chain.usdcBalance("base", buyer));
});

test("the devchain's JSON-RPC serves pages of the gateway's own origin, refuses other pages, and has no admin methods", async () => {
  const chain = devchain.gateway.devchain!;
  const own = new URL(devchain.config.publicUrl).origin;
  const post = (url: string, method: string, origin: string | undefined) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(origin === undefined ? {} : { origin }) },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
    });
  for (const url of [chain.evm.rpcUrl, chain.solana.rpcUrl]) {
    const method = url === chain.evm.rpcUrl ? "eth_chainId" : "getHealth";
    const page = await post(url, method, own);
    assert.equal(page.status, 200, url);
    assert.equal(page.headers.get("access-control-allow-origin"), own);
    const foreign = await post(url, method, "http://evil.example");
    assert.equal(foreign.status, 403, url);
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);
  }
  const admin = (await (await post(chain.evm.rpcUrl, "evm_addAccount", undefined)).json()) as { error?: { code: number } };
  assert.equal(admin.error?.code, -32601, "evm_addAccount is refused (run this test without RETOUCH_DEVCHAIN_ADMIN_RPC=1)");
});

test("a gateway without a devchain answers 404, and the route is in the OpenAPI document", async () => {
  const response = await off.request("/api/v1/devchain");
  assert.equal(response.status, 404);
  assert.equal(((await response.json()) as { error: { code: string } }).error.code, "not_found");
  const document = (await (await off.request("/openapi.json")).json()) as { paths: Record<string, { get?: unknown }> };
  assert.ok(document.paths["/api/v1/devchain"]?.get, "GET /api/v1/devchain is documented");
  assert.ok(document.paths["/api/v1/images/jobs/{id}"]?.get, "the poll is documented");
});

const faucet = (gw: TestGateway, body: unknown, init: RequestInit = {}) =>
  gw.request("/api/v1/devchain/faucet", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), ...init });

interface Gift {
  network: string;
  address: string;
  usdc: string;
  usdc_total: string;
  gas: string;
}

test("the faucet gives a new Base wallet 10 USDC per call and tops its gas up, 50 USDC in all; then 429", async () => {
  const chain = devchain.gateway.devchain!;
  const { evm } = await generateWalletKeys();
  for (let call = 1; call <= 5; call++) {
    const response = await faucet(devchain, { address: evm.address.toLowerCase() });
    const gift = (await response.json()) as Gift;
    assert.equal(response.status, 200, JSON.stringify(gift));
    const gas = call === 1 ? "1000000000000000" : "0"; // topped up to 0.001 ETH once; nothing was spent since
    assert.deepEqual(gift, { network: "base", address: evm.address, usdc: "10000000", usdc_total: String(call * 10_000_000), gas });
  }
  assert.equal(await chain.usdcBalance("base", evm.address), 50_000_000n);
  assert.equal(await chain.evm.ethBalance(evm.address), 10n ** 15n);
  const refused = await faucet(devchain, { address: evm.address });
  const body = (await refused.json()) as { error: { code: string; message: string } };
  assert.equal(refused.status, 429);
  assert.equal(body.error.code, "faucet_limit");
  assert.match(body.error.message, /has had 50 USDC from the faucet/);
  assert.equal(await chain.usdcBalance("base", evm.address), 50_000_000n, "nothing more was given");
});

test("calls at once for one Solana address never pass its limit", async () => {
  const chain = devchain.gateway.devchain!;
  const { solana } = await generateWalletKeys();
  const answers = await Promise.all(Array.from({ length: 8 }, () => faucet(devchain, { address: solana.address })));
  assert.deepEqual(
    answers.map((answer) => answer.status).sort(),
    [200, 200, 200, 200, 200, 429, 429, 429],
  );
  assert.equal(await chain.usdcBalance("solana", solana.address), 50_000_000n);
  assert.equal(await chain.solana.solBalance(solana.address), 10_000_000n, "gas topped up to 0.01 SOL, not five times");
});

test("the faucet refuses what is not an address, an oversized body, and answers 404 without a devchain", async () => {
  for (const body of [{ address: "0x1234" }, { address: "not-an-address" }, { address: "" }, { wallet: "0x0000000000000000000000000000000000000001" }, "0x00"]) {
    const response = await faucet(devchain, body);
    const answer = (await response.json()) as { error: { param: string; message: string } };
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(answer.error.param, "address", JSON.stringify(answer));
  }
  const huge = await faucet(devchain, { address: "x".repeat(5000) });
  assert.equal(huge.status, 413);
  const off404 = await faucet(off, { address: "0x0000000000000000000000000000000000000001" });
  assert.equal(off404.status, 404);
});
