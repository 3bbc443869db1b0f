// The CLI follows the gateway it talks to: a local devchain gateway on ports of its
// own is found through GET /api/v1/devchain (no RPC variable set), and a gateway
// with payments off is free: no wallet, "free" printed, nothing signed.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { access, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProxy } from "../../src/client/proxy/index.ts";
import { freePort, onlyJson, PRICE, runCli, serveGateway, writePhotoAndMask, type ServedGateway } from "./cli.ts";

let dir: string;
let devchain: ServedGateway;
let free: ServedGateway;
let ports: { evm: number; solana: number };
let photo: string;
let mask: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-modes-"));
  // Ports the system picks (never the defaults 8545 / 8899), read back from the chains that started.
  devchain = await serveGateway({ RETOUCH_DEVCHAIN_EVM_PORT: "0", RETOUCH_DEVCHAIN_SOLANA_PORT: "0" });
  ports = { evm: Number(new URL(devchain.rpcEnv.BASE_RPC_URL).port), solana: Number(new URL(devchain.rpcEnv.SOLANA_RPC_URL).port) };
  free = await serveGateway({ RETOUCH_PAYMENTS: "off" });
  ({ photo, mask } = await writePhotoAndMask(dir));
});
after(async () => {
  await Promise.all([devchain.close(), free.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe("a devchain gateway on other ports", () => {
  test("wallet balance reads the chains the gateway advertises, with no RPC variable set", async () => {
    const run = await runCli(["wallet", "balance", "--json", "--gateway", devchain.url, "--wallet", devchain.buyerWallet!], {});
    assert.equal(run.code, 0, run.stderr);
    const { balances } = onlyJson(run) as unknown as { balances: { network: string; usdc: string; rpc_url: string }[] };
    assert.deepEqual(
      balances.map((b) => [b.network, b.rpc_url, b.usdc]),
      [
        ["base", `http://127.0.0.1:${ports.evm}`, "1000.00"],
        ["solana", `http://127.0.0.1:${ports.solana}`, "1000.00"],
      ],
    );
  });

  test("edit pays on that devchain, and a BASE_RPC_URL pointing elsewhere does not divert it", async () => {
    const start = await devchain.usdc("base");
    const args = ["edit", "--image", photo, "--mask", mask, "--model", "local/content-aware-fill", "--network", "base"];
    args.push("--gateway", devchain.url, "--wallet", devchain.buyerWallet!, "--out", join(dir, "out-devchain"), "remove", "it");
    const run = await runCli(args, { RETOUCH_HOME: join(dir, "home-devchain"), BASE_RPC_URL: "http://127.0.0.1:1" });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^paid \$0\.001 on base, tx 0x[0-9a-f]{64}$/m);
    assert.equal(start - (await devchain.usdc("base")), PRICE);
  });

  test("the proxy pays on that devchain too, with no RPC variable set and a BASE_RPC_URL pointing elsewhere", async () => {
    const proxy = await startProxy({
      port: 0,
      gateway: devchain.url,
      wallet: devchain.buyerWallet!,
      env: { RETOUCH_HOME: join(dir, "home-proxy"), BASE_RPC_URL: "http://127.0.0.1:1" },
    });
    try {
      const start = await devchain.usdc("base");
      const response = await fetch(`${proxy.url}/v1/images/image2image`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "local/content-aware-fill", prompt: "remove it", image: photo, mask }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(start - (await devchain.usdc("base")), PRICE);
    } finally {
      await proxy.close();
    }
  });
});

describe("a gateway with payments off", () => {
  test("edit is free: no wallet file, says free, signs nothing", async () => {
    const home = join(dir, "home-free");
    const out = join(dir, "out-free");
    const args = ["edit", "--image", photo, "--mask", mask, "--model", "local/content-aware-fill"];
    args.push("--gateway", free.url, "--wallet", join(dir, "no-such-wallet.json"), "--out", out, "remove", "it");
    const run = await runCli(args, { RETOUCH_HOME: home });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^saved .*\.png/m);
    assert.match(run.stdout, /^free: the gateway http:\/\/127\.0\.0\.1:\d+ did not ask for payment; nothing was signed$/m);
    assert.doesNotMatch(run.stdout, /paid/);
    assert.equal((await readdir(out)).length, 1);
    await assert.rejects(access(join(home, "spend.jsonl")), /ENOENT/, "nothing signed, nothing logged");

    const json = onlyJson(await runCli(["edit", "--json", ...args.slice(1)], { RETOUCH_HOME: home }));
    assert.equal(json.ok, true);
    assert.equal(json.charged, false);
    assert.equal(json.price, null);
    assert.equal(json.payment, null);
  });

  test("an RPC that does not answer names the variable to set (this gateway advertises no devchain)", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const run = await runCli(["wallet", "balance", "--gateway", free.url, "--wallet", devchain.buyerWallet!, "--network", "solana"], { SOLANA_RPC_URL: dead });
    assert.equal(run.code, 5, run.stderr);
    assert.equal(run.stderr, `retouch: cannot read balances on solana from ${dead}: ECONNREFUSED; check SOLANA_RPC_URL, or pass --solana-rpc\n`);
  });
});
