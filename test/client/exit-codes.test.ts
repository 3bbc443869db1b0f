// Every exit code the README documents, met as a user meets it: the real
// `node bin/retouch.js` process, its stderr, and the buyer's USDC on the devchain.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { bothBalances, freePort, PRICE, runCli, serveGateway, writePhotoAndMask, type ServedGateway } from "./cli.ts";

let dir: string;
let gateway: ServedGateway;
let photo: string;
let mask: string;
/** A port nothing listens on. */
let closed: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-exit-"));
  closed = await freePort();
  // OpenAI's models fail upstream (nothing listens there); the local model works.
  gateway = await serveGateway({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: `http://127.0.0.1:${closed}/v1` });
  ({ photo, mask } = await writePhotoAndMask(dir));
});
after(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

/** `retouch edit` of the photo on the test gateway with the devchain's funded wallet. */
function edit(extra: string[], env: Record<string, string> = {}) {
  const args = ["edit", "--image", photo, "--gateway", gateway.url, "--wallet", gateway.buyerWallet!, "--out", join(dir, "out"), ...extra];
  return runCli(args, { RETOUCH_HOME: join(dir, "home"), ...gateway.rpcEnv, ...env });
}

const NO_STACK = /^\s+at /m;

describe("exit codes", () => {
  test("0: a paid edit is saved and the quote moved on chain", async () => {
    const start = await gateway.usdc("base");
    const run = await edit(["--mask", mask, "--model", "local/content-aware-fill", "--network", "base", "remove", "the", "ball"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^saved .*retouch-content-aware-fill-.*\.png/m);
    assert.match(run.stdout, /^paid \$0\.001 on base, tx 0x[0-9a-f]{64}$/m);
    assert.equal(start - (await gateway.usdc("base")), PRICE);
    assert.equal((await readdir(join(dir, "out"))).length, 1);
  });

  test("0: --help of edit lists the exit codes, the default model and the environment it reads", async () => {
    const run = await runCli(["edit", "--help"], {});
    assert.equal(run.code, 0, run.stderr);
    for (const expected of [/^ {2}2 +bad usage/m, /^ {2}3 +payment refused/m, /^ {2}4 +the edit failed/m, /^ {2}5 +gateway or RPC unreachable/m]) {
      assert.match(run.stdout, expected);
    }
    assert.match(run.stdout, /Default model: the gateway's default, openai\/gpt-image-1/);
    for (const variable of ["RETOUCH_GATEWAY_URL", "RETOUCH_WALLET", "BASE_RPC_URL", "SOLANA_RPC_URL", "RETOUCH_MAX_PER_DAY", "RETOUCH_HOME"]) {
      assert.ok(run.stdout.includes(variable), `edit --help names ${variable}`);
    }
    const wallet = await runCli(["wallet", "balance", "--help"], {});
    assert.equal(wallet.code, 0);
    assert.match(wallet.stdout, /Exit codes:[\s\S]* 5 +gateway or RPC unreachable/);
    assert.match(wallet.stdout, /BASE_RPC_URL/);
    const devchain = await runCli(["devchain", "--help"], {});
    assert.equal(devchain.code, 0);
    assert.match(devchain.stdout, /RETOUCH_DEVCHAIN_EVM_PORT .*default 8545/);
    assert.doesNotMatch(devchain.stdout, /RPC on 127\.0\.0\.1:8545/, "the ports are not fixed");
  });

  test("2: commander's own usage errors (unknown option, missing option value, unknown command)", async () => {
    for (const args of [["edit", "--no-such-flag", "x"], ["edit", "x", "--image"], ["no-such-command"], ["wallet", "show", "--bogus"]]) {
      const run = await runCli(args, {});
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /^error: /, args.join(" "));
    }
  });

  test("2: RETOUCH_GATEWAY_URL that is not a URL is one clear line, no stack", async () => {
    const run = await runCli(["edit", "--image", photo, "x"], { RETOUCH_GATEWAY_URL: "not-a-url", RETOUCH_HOME: join(dir, "home") });
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr, 'retouch: RETOUCH_GATEWAY_URL is "not-a-url", which is not a URL; give the gateway\'s address such as http://127.0.0.1:4021\n');
  });

  test("2: requests the gateway refuses with 400 before any payment (no mask for the local model, unknown model, mask of another shape)", async () => {
    const wide = join(dir, "wide-mask.png");
    await writeFile(wide, await sharp({ create: { width: 128, height: 32, channels: 3, background: "#fff" } }).png().toBuffer());
    const start = await bothBalances(gateway);
    const cases: [string[], RegExp][] = [
      [["--model", "local/content-aware-fill"], /needs a mask/],
      [["--mask", mask, "--model", "no-such/model"], /unknown model "no-such\/model"/],
      [["--mask", wide, "--model", "local/content-aware-fill"], /mask/],
    ];
    for (const [extra, reason] of cases) {
      const run = await edit([...extra, "remove", "it"]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /^retouch: the gateway refused the request \(HTTP 400, nothing was paid\): /);
      assert.match(run.stderr, reason);
      assert.doesNotMatch(run.stderr, NO_STACK);
    }
    assert.deepEqual(await bothBalances(gateway), start);
  });

  test("2: a port already taken, for serve and devchain alike, is one line naming the setting", async () => {
    const taken = createServer();
    taken.listen(0, "127.0.0.1");
    await once(taken, "listening");
    const port = String((taken.address() as { port: number }).port);
    try {
      const data = { RETOUCH_DATA_DIR: join(dir, "data"), RETOUCH_ENGINE_THREADS: "1" };
      const serve = await runCli(["serve"], { ...data, RETOUCH_PAYMENTS: "off", PORT: port });
      assert.equal(serve.code, 2, serve.stderr);
      assert.match(serve.stderr, new RegExp(`^retouch: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE: another process is listening there\\); set PORT \\(or --port\\)`, "m"));
      assert.doesNotMatch(serve.stderr, NO_STACK);
      const devchain = await runCli(["devchain"], { ...data, RETOUCH_DEVCHAIN_EVM_PORT: port, RETOUCH_DEVCHAIN_SOLANA_PORT: "0" });
      assert.equal(devchain.code, 2, devchain.stderr);
      assert.match(devchain.stderr, /^retouch: cannot listen on .*EADDRINUSE.*; set RETOUCH_DEVCHAIN_EVM_PORT/m);
      assert.doesNotMatch(devchain.stderr, NO_STACK);
    } finally {
      taken.close();
    }
  });

  test("3: a quote above --max-price and a wallet that cannot pay; nothing moves", async () => {
    const empty = join(dir, "empty-wallet.json");
    assert.equal((await runCli(["wallet", "new", "--wallet", empty], {})).code, 0);
    const start = await bothBalances(gateway);

    const over = await edit(["--mask", mask, "--model", "local/content-aware-fill", "--max-price", "0.0005", "x"]);
    assert.equal(over.code, 3, over.stderr);
    assert.match(over.stderr, /^retouch: the gateway quotes \$0\.001, above --max-price \$0\.0005; nothing was paid/);

    const args = ["edit", "--image", photo, "--mask", mask, "--model", "local/content-aware-fill", "--gateway", gateway.url, "--wallet", empty, "--out", dir, "x"];
    const unfunded = await runCli(args, { RETOUCH_HOME: join(dir, "home"), ...gateway.rpcEnv });
    assert.equal(unfunded.code, 3, unfunded.stderr);
    assert.match(unfunded.stderr, /cannot pay \$0\.001: it holds 0\.00 USDC on base at 0x[0-9a-fA-F]{40}, 0\.00 USDC on solana at \w+/);
    assert.deepEqual(await bothBalances(gateway), start);
  });

  test("4: the edit failed upstream after the payment was sent: not charged", async () => {
    const start = await bothBalances(gateway);
    const run = await edit(["--model", "openai/gpt-image-1", "--network", "solana", "make", "it", "blue"]);
    assert.equal(run.code, 4, run.stderr);
    assert.match(run.stderr, /^retouch: the edit failed: .*\(HTTP 502, not charged\)\n$/);
    assert.deepEqual(await bothBalances(gateway), start);
  });

  test("5: an unreachable gateway, and an unreachable RPC in `edit` and in `wallet balance` alike, naming what to set", async () => {
    const down = await runCli(["edit", "--image", photo, "--gateway", `http://127.0.0.1:${closed}`, "x"], { RETOUCH_HOME: join(dir, "home") });
    assert.equal(down.code, 5, down.stderr);
    assert.equal(down.stderr, `retouch: cannot reach http://127.0.0.1:${closed}: ECONNREFUSED\n`);

    const start = await bothBalances(gateway);
    const deadRpc = `http://127.0.0.1:${closed}`;
    const inEdit = await edit(["--mask", mask, "--model", "local/content-aware-fill", "--network", "solana", "--solana-rpc", deadRpc, "x"]);
    assert.equal(inEdit.code, 5, inEdit.stderr);
    assert.match(inEdit.stderr, new RegExp(`cannot read balances on solana from ${deadRpc}: ECONNREFUSED; check --solana-rpc; nothing was paid`));
    const inBalance = await runCli(["wallet", "balance", "--gateway", gateway.url, "--wallet", gateway.buyerWallet!, "--network", "solana", "--solana-rpc", deadRpc], {});
    assert.equal(inBalance.code, 5, inBalance.stderr);
    assert.match(inBalance.stderr, new RegExp(`cannot read balances on solana from ${deadRpc}: ECONNREFUSED; check --solana-rpc`));
    assert.deepEqual(await bothBalances(gateway), start);
  });
});
