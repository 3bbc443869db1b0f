// `retouch wallet` end to end: key files on disk, and balances read from the devchain
// over JSON-RPC for the networks a real HTTP gateway quotes.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError } from "../../src/client/errors.ts";
import { walletBalance, walletNew, walletShow } from "../../src/client/wallet-commands.ts";
import { startHttpGateway, type HttpGateway } from "./http-gateway.ts";

let dir: string;
let http: HttpGateway;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-wallet-"));
  http = await startHttpGateway();
});
after(async () => {
  await http.close();
  await rm(dir, { recursive: true, force: true });
});

function capture(): { lines: string[]; print: (line: string) => void } {
  const lines: string[] = [];
  return { lines, print: (line) => lines.push(line) };
}

describe("retouch wallet", () => {
  test("new writes a 0600 key file in a 0700 folder, in the dev-wallets.json format, and refuses to overwrite it", async () => {
    const file = join(dir, "keys", "wallet.json");
    const { lines, print } = capture();
    const created = await walletNew({ wallet: file, print });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "keys"))).mode & 0o777, 0o700);
    const keys = JSON.parse(await readFile(file, "utf8"));
    assert.equal(keys.evm.address, created.evm);
    assert.match(keys.evm.privateKey, /^0x[0-9a-f]{64}$/);
    assert.equal(keys.solana.address, created.solana);
    assert.ok(keys.solana.secretKey.length >= 85, "base58 of 64 bytes");
    assert.ok(!lines.join("\n").includes(keys.evm.privateKey.slice(2)));
    assert.ok(!lines.join("\n").includes(keys.solana.secretKey));

    const before = await readFile(file, "utf8");
    await assert.rejects(walletNew({ wallet: file, print }), (error: CliError) => error.exitCode === 2 && /already exists/.test(error.message));
    assert.equal(await readFile(file, "utf8"), before);
  });

  test("show prints both addresses and no key material", async () => {
    const file = join(dir, "show.json");
    await walletNew({ wallet: file, print: () => {} });
    const keys = JSON.parse(await readFile(file, "utf8"));
    const { lines, print } = capture();
    await walletShow({ wallet: file, print });
    const out = lines.join("\n");
    assert.ok(out.includes(keys.evm.address) && out.includes(keys.solana.address));
    assert.ok(!out.includes(keys.evm.privateKey.slice(2)), "no EVM private key");
    assert.ok(!out.includes(keys.solana.secretKey), "no Solana secret key");
  });

  test("show of a missing file is exit 2 and says how to create one", async () => {
    await assert.rejects(walletShow({ wallet: join(dir, "nope.json"), print: () => {} }), (error: CliError) =>
      error.exitCode === 2 && /retouch wallet new/.test(error.message),
    );
  });

  test("balance with dev-wallets.json shows 1000 USDC on every network the gateway quotes", async () => {
    const { lines, print } = capture();
    const balances = await walletBalance({
      wallet: http.buyerWallet,
      gateway: http.url,
      baseRpc: http.baseRpc,
      solanaRpc: http.solanaRpc,
      print,
      note: print,
      env: {},
    });
    assert.deepEqual(balances.map((b) => [b.network.name, b.usdc]), [["base", 1_000_000_000n], ["solana", 1_000_000_000n]]);
    assert.ok(balances.every((b) => b.gas > 0n), "gas for both chains");
    assert.equal(lines.filter((line) => / 1000\.00 USDC /.test(line)).length, 2, lines.join("\n"));
    assert.ok(!lines.some((line) => /did not quote/.test(line)), "networks came from the gateway's 402");
  });

  test("balance of a fresh wallet is zero, and an unreachable RPC is exit 5", async () => {
    const file = join(dir, "empty.json");
    await walletNew({ wallet: file, print: () => {} });
    const [base] = await walletBalance({ wallet: file, network: "base", gateway: http.url, baseRpc: http.baseRpc, print: () => {}, env: {} });
    assert.equal(base.usdc, 0n);
    await assert.rejects(
      walletBalance({ wallet: file, network: "solana", gateway: http.url, solanaRpc: "http://127.0.0.1:1", print: () => {}, env: {} }),
      (error: CliError) => error.exitCode === 5,
    );
  });
});
