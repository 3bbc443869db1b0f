// The offline picture of production: `retouch devchain` in one process serving
// its x402 facilitator, gateways in other processes paid through it in remote
// mode, third-party code (x402's HTTPFacilitatorClient) settling through it, and
// `retouch facilitator` on its own with a token and the operator's key file.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmod, copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HTTPFacilitatorClient } from "@x402/core/server";
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { BASE, SOLANA } from "../src/chains/index.ts";
import { decodeHeader } from "./support/buyer.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import {
  freePort,
  liveGatewayEnv,
  payWithExample,
  rpcPayer,
  startDevchainProcess,
  startGatewayProcess,
  startRetouch,
  type DevchainProcess,
} from "./support/processes.ts";

const EDIT = "/api/v1/images/image2image";
let devchain: DevchainProcess;

before(async () => {
  devchain = await startDevchainProcess();
});

after(async () => {
  await devchain?.close();
});

/** Payment terms as a seller would quote them: `amount` atomic USDC to the devchain's seller. */
function requirements(network: "base" | "solana", amount: string): PaymentRequirements {
  return network === "base"
    ? { scheme: "exact", network: BASE.caip2, asset: BASE.usdc.address, amount, payTo: devchain.seller.evm.address, maxTimeoutSeconds: 120, extra: { name: "USD Coin", version: "2" } }
    : {
        scheme: "exact",
        network: SOLANA.caip2,
        asset: SOLANA.usdc.mint,
        amount,
        payTo: devchain.seller.solana.address,
        maxTimeoutSeconds: 120,
        extra: { feePayer: devchain.facilitator.solana.address },
      };
}

async function signedPayment(network: "base" | "solana", amount: string): Promise<{ payload: PaymentPayload; accepted: PaymentRequirements }> {
  const accepted = requirements(network, amount);
  const required: PaymentRequired = { x402Version: 2, resource: { url: "https://seller.example/edit", description: "", mimeType: "" }, accepts: [accepted] };
  return { payload: await rpcPayer(devchain, network).createPaymentPayload(required), accepted };
}

test("two gateways in remote mode on the devchain's facilitator: each 402 names the devchain's payTo and fee payer, and examples/pay.ts moves the money once per edit", async () => {
  // One after the other: started together, one that failed to start left the other running, and
  // this file's process waiting for it for good.
  const gateways = [await startGatewayProcess(liveGatewayEnv(devchain, "remote"))];
  try {
    gateways.push(await startGatewayProcess(liveGatewayEnv(devchain, "remote")));
    const challenge = await fetch(`${gateways[1].url}${EDIT}`, jsonInit(await sceneEdit(64)));
    assert.equal(challenge.status, 402);
    const offers = decodeHeader<PaymentRequired>(challenge.headers.get("payment-required")).accepts;
    const base = offers.find((offer) => offer.network === BASE.caip2)!;
    const solana = offers.find((offer) => offer.network === SOLANA.caip2)!;
    assert.equal(base.payTo, devchain.seller.evm.address);
    assert.equal(solana.payTo, devchain.seller.solana.address);
    assert.equal(solana.extra.feePayer, devchain.facilitator.solana.address);

    for (const network of ["base", "solana"] as const) {
      const price = BigInt((network === "base" ? base : solana).amount);
      const buyerBefore = await devchain.usdc(network, devchain.buyer);
      const sellerBefore = await devchain.usdc(network, devchain.seller);
      for (const gateway of gateways) {
        const run = await payWithExample(devchain, gateway.url, network);
        assert.equal(run.code, 0, run.output);
        assert.match(run.output, /^200 /, run.output);
        assert.match(run.output, /"status": "settled"/);
      }
      assert.equal(buyerBefore - (await devchain.usdc(network, devchain.buyer)), 2n * price, `${network}: the buyer pays once per edit`);
      assert.equal((await devchain.usdc(network, devchain.seller)) - sellerBefore, 2n * price, `${network}: the seller receives it`);
    }
    const settled = devchain.lines.filter((line) => line.includes('"operation":"settle"') && line.includes('"outcome":"settled"'));
    assert.equal(settled.length, 4, "the facilitator settled the four edits, and nothing else");
  } finally {
    await Promise.all(gateways.map((gateway) => gateway.close()));
  }
});

for (const network of ["base", "solana"] as const) {
  test(`${network}: x402's own HTTPFacilitatorClient verifies and settles through the devchain's facilitator, once`, async () => {
    const client = new HTTPFacilitatorClient({ url: devchain.facilitatorUrl });
    const supported = await client.getSupported();
    assert.ok(supported.kinds.some((kind) => kind.x402Version === 2 && kind.network === (network === "base" ? BASE.caip2 : SOLANA.caip2)));

    const { payload, accepted } = await signedPayment(network, "1234");
    const sellerBefore = await devchain.usdc(network, devchain.seller);
    const verified = await client.verify(payload, accepted);
    assert.equal(verified.isValid, true, verified.invalidReason);
    assert.equal(await devchain.usdc(network, devchain.seller), sellerBefore, "verify moves no money");

    const settled = await client.settle(payload, accepted);
    assert.equal(settled.success, true, settled.errorReason);
    assert.ok(settled.transaction.length > 40);
    assert.equal((await devchain.usdc(network, devchain.seller)) - sellerBefore, 1234n);

    // The same payment again is refused, by an answer and not by a crash; no money moves.
    const again = await client.settle(payload, accepted).catch((error: unknown) => error as { errorReason?: string });
    assert.notEqual((again as { success?: boolean }).success, true);
    assert.equal((await devchain.usdc(network, devchain.seller)) - sellerBefore, 1234n);
  });
}

test("the facilitator refuses what it does not settle and what is not a call, with a status and not a crash", async () => {
  const post = (path: string, body: string) => fetch(`${devchain.facilitatorUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const { payload, accepted } = await signedPayment("base", "1000");
  const elsewhere = { ...accepted, network: "eip155:1" };
  const unsupported = await post("/verify", JSON.stringify({ x402Version: 2, paymentPayload: payload, paymentRequirements: elsewhere }));
  assert.equal(unsupported.status, 400);
  const refusal = (await unsupported.json()) as { isValid: boolean; invalidReason: string; invalidMessage: string };
  assert.equal(refusal.isValid, false);
  assert.equal(refusal.invalidReason, "unsupported_scheme");
  assert.match(refusal.invalidMessage, /does not settle x402 v2 exact payments on eip155:1/);
  assert.equal((await post("/settle", "{not json")).status, 400);
  assert.equal((await post("/settle", JSON.stringify({ paymentPayload: payload }))).status, 400);
  assert.equal((await post("/verify", JSON.stringify({ pad: "x".repeat(70_000) }))).status, 413);
  assert.equal((await fetch(`${devchain.facilitatorUrl}/healthz`)).status, 200);
});

test("retouch facilitator: needs a token off loopback, refuses a key file others can read, and settles for callers with the token", async () => {
  const folder = await mkdtemp(join(tmpdir(), "retouch-facilitator-"));
  const keys = join(folder, "keys.json");
  await copyFile(devchain.facilitator.file, keys);
  const env = { RETOUCH_FACILITATOR_KEYS: keys, BASE_RPC_URL: devchain.evmRpc, SOLANA_RPC_URL: devchain.solanaRpc };
  const token = "t0ken-for-this-test-only-0123456789";
  try {
    const open = startRetouch(["facilitator", "--host", "0.0.0.0", "--port", "0"], env);
    assert.equal(await open.exited, 2);
    assert.match(open.lines.join("\n"), /RETOUCH_FACILITATOR_TOKEN/);

    await chmod(keys, 0o644);
    const readable = startRetouch(["facilitator", "--port", "0"], env);
    assert.equal(await readable.exited, 2);
    assert.match(readable.lines.join("\n"), /readable by other users \(mode 0644\).*chmod 600/);
    await chmod(keys, 0o600);

    const port = await freePort();
    const service = startRetouch(["facilitator", "--port", String(port)], { ...env, RETOUCH_FACILITATOR_TOKEN: token });
    try {
      await service.waitFor((line) => line.includes("retouch facilitator listening"));
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${url}/supported`)).status, 401);
      assert.equal((await fetch(`${url}/supported`, { headers: { authorization: "Bearer wrong-token-of-the-same-size!!!!!!" } })).status, 401);
      assert.equal((await fetch(`${url}/healthz`)).status, 200);

      const client = new HTTPFacilitatorClient({
        url,
        createAuthHeaders: async () => {
          const headers = { Authorization: `Bearer ${token}` };
          return { verify: headers, settle: headers, supported: headers };
        },
      });
      const { payload, accepted } = await signedPayment("base", "777");
      const sellerBefore = await devchain.usdc("base", devchain.seller);
      const settled = await client.settle(payload, accepted);
      assert.equal(settled.success, true, settled.errorReason);
      assert.equal((await devchain.usdc("base", devchain.seller)) - sellerBefore, 777n);

      const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      assert.match(metrics, /retouch_facilitator_call_seconds_count\{operation="settle",network="eip155:8453",outcome="settled"\} 1\n/);
      assert.match(metrics, new RegExp(`retouch_facilitator_gas_balance\\{network="base",address="${devchain.facilitator.evm.address}"\\} \\d`));
      const log = service.lines.join("\n");
      assert.match(log, /"operation":"settle".*"req_id":|"req_id":.*"operation":"settle"/);
      assert.doesNotMatch(log, new RegExp(`${token}|${devchain.facilitator.keys.evm.privateKey.slice(2)}|${devchain.facilitator.keys.solana.secretKey}`));
    } finally {
      await service.stop();
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
