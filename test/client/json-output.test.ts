// --json: exactly one JSON object on stdout for every outcome of the buyer commands,
// success or failure, its exit_code the process's own; money checked on the devchain.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { bothBalances, freePort, onlyJson, PRICE, runCli, serveGateway, writePhotoAndMask, type CliRun, type ServedGateway } from "./cli.ts";

let dir: string;
let gateway: ServedGateway;
let photo: string;
let mask: string;
let closed: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-json-"));
  closed = await freePort();
  gateway = await serveGateway();
  ({ photo, mask } = await writePhotoAndMask(dir));
});
after(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

function editJson(args: string[], wallet = gateway.buyerWallet!): Promise<CliRun> {
  const all = ["edit", "--json", "--gateway", gateway.url, "--wallet", wallet, "--out", join(dir, "out"), ...args];
  return runCli(all, { RETOUCH_HOME: join(dir, "home"), ...gateway.rpcEnv });
}

/** The failure object, checked against the process: same exit code, a code and a message, no stack anywhere. */
function failure(run: CliRun, exitCode: number, code: string | RegExp, message: RegExp): void {
  const json = onlyJson(run) as { ok: boolean; error: { code: string; message: string; exit_code: number } };
  assert.equal(run.code, exitCode, `${run.stdout}${run.stderr}`);
  assert.equal(json.ok, false);
  assert.deepEqual(Object.keys(json).sort(), ["error", "ok"]);
  assert.deepEqual(Object.keys(json.error).sort(), ["code", "exit_code", "message"]);
  assert.equal(json.error.exit_code, exitCode);
  assert.match(json.error.code, code instanceof RegExp ? code : new RegExp(`^${code}$`));
  assert.match(json.error.message, message);
  assert.doesNotMatch(run.stdout + run.stderr, /^\s+at /m, "no stack trace");
}

describe("--json", () => {
  test("a paid edit: ok, the files, the price and the payment", async () => {
    const start = await gateway.usdc("base");
    const run = await editJson(["--image", photo, "--mask", mask, "--model", "local/content-aware-fill", "--network", "base", "remove", "it"]);
    assert.equal(run.code, 0, run.stderr);
    const json = onlyJson(run) as { ok: boolean; files: string[]; charged: boolean; price: { amount: string }; payment: { tx_hash: string; network: string } };
    assert.equal(json.ok, true);
    assert.equal(json.charged, true);
    assert.equal(json.price.amount, "0.001");
    assert.equal(json.payment.network, "eip155:8453");
    assert.equal(json.files.length, 1);
    assert.ok((await stat(json.files[0])).size > 0);
    assert.equal(start - (await gateway.usdc("base")), PRICE);
  });

  test("--payment-id: the same id run again gets the first result and pays once; a malformed id stops before paying", async () => {
    const id = `pay_${Date.now()}_retry_test`;
    const args = ["--image", photo, "--mask", mask, "--model", "local/content-aware-fill", "--network", "base", "--payment-id", id, "remove", "it"];
    const start = await gateway.usdc("base");
    type Paid = { ok: boolean; files: string[]; urls: string[]; payment: { tx_hash: string; status: string }; payment_id: string };
    const first = await editJson(args);
    assert.equal(first.code, 0, first.stderr);
    const firstJson = onlyJson(first) as Paid;
    assert.equal(firstJson.payment_id, id);
    assert.equal(firstJson.payment.status, "settled");
    // As after a lost answer: a new process signs a new payment with the same id.
    const again = await editJson(args);
    assert.equal(again.code, 0, again.stderr);
    const againJson = onlyJson(again) as Paid;
    assert.equal(againJson.payment.status, "already_settled");
    assert.equal(againJson.payment.tx_hash, firstJson.payment.tx_hash);
    assert.deepEqual(againJson.urls, firstJson.urls);
    assert.equal(start - (await gateway.usdc("base")), PRICE, "charged once for two runs");

    const other = await editJson(["--image", photo, "--mask", mask, "--model", "local/content-aware-fill", "--network", "base", "--payment-id", id, "something", "else"]);
    failure(other, 4, "payment_identifier_conflict", new RegExp(`payment identifier ${id} was already used for a different request`));
    failure(await editJson([...args.slice(0, -3), "--payment-id", "short", "remove", "it"]), 2, "invalid_payment_id", /--payment-id must be 16 to 128/);
    assert.equal(start - (await gateway.usdc("base")), PRICE, "nothing more moved");
  });

  test("every failure before paying is one object with its exit code, and nothing moves", async () => {
    const text = join(dir, "notes.png");
    await writeFile(text, "just words");
    const folder = join(dir, "a-folder.png");
    await mkdir(folder, { recursive: true });
    const wide = join(dir, "wide.png");
    await writeFile(wide, await sharp({ create: { width: 128, height: 32, channels: 3, background: "#fff" } }).png().toBuffer());
    const empty = join(dir, "empty.json");
    assert.equal((await runCli(["wallet", "new", "--wallet", empty], {})).code, 0);
    const local = ["--model", "local/content-aware-fill"];
    const start = await bothBalances(gateway);

    failure(await editJson(["remove", "it"]), 2, "missing_image", /--image is required/);
    failure(await editJson(["--image", join(dir, "missing.png"), "x"]), 2, "invalid_input", /missing\.png does not exist/);
    failure(await editJson(["--image", folder, "x"]), 2, "invalid_input", /a-folder\.png is a folder/);
    failure(await editJson(["--image", text, "x"]), 2, "invalid_input", /notes\.png is not a PNG, JPEG or WebP/);
    failure(await editJson(["--image", photo, "--mask", text, ...local, "x"]), 2, "invalid_input", /notes\.png is not a PNG/);
    failure(await editJson(["--image", photo, "--mask", wide, ...local, "x"]), 2, /./, /^the gateway refused the request \(HTTP 400, nothing was paid\): .*mask/);
    failure(await editJson(["--image", photo, "--mask", mask, "--model", "no-such/model", "x"]), 2, /./, /unknown model "no-such\/model"/);
    failure(await editJson(["--image", photo, "--mask", mask, ...local, "x"], join(dir, "no-wallet.json")), 2, /./, /no wallet at .*no-wallet\.json/);
    failure(await editJson(["--image", photo, "--mask", mask, ...local, "--max-price", "0.0001", "x"]), 3, "over_max_price", /above --max-price/);
    failure(await editJson(["--image", photo, "--mask", mask, ...local, "x"], empty), 3, "insufficient_funds", /cannot pay \$0\.001/);
    failure(await editJson(["--bogus", "x"]), 2, "invalid_usage", /unknown option '--bogus'/);
    const down = ["edit", "--json", "--image", photo, "--gateway", `http://127.0.0.1:${closed}`, "x"];
    failure(await runCli(down, { RETOUCH_HOME: join(dir, "home") }), 5, "gateway_unreachable", /cannot reach/);

    assert.deepEqual(await bothBalances(gateway), start);
  });

  test("wallet show and wallet balance: one object, success or failure", async () => {
    const wallet = gateway.buyerWallet!;
    const show = onlyJson(await runCli(["wallet", "show", "--json", "--wallet", wallet], {}));
    assert.equal(show.ok, true);
    assert.match(String(show.evm), /^0x[0-9a-fA-F]{40}$/);
    failure(await runCli(["wallet", "show", "--json", "--wallet", join(dir, "none.json")], {}), 2, /./, /no wallet at/);

    const balance = onlyJson(await runCli(["wallet", "balance", "--json", "--gateway", gateway.url, "--wallet", wallet], gateway.rpcEnv)) as {
      ok: boolean;
      balances: { network: string; usdc: string }[];
    };
    assert.equal(balance.ok, true);
    assert.deepEqual(balance.balances.map((b) => b.network), ["base", "solana"]);
    const deadRpc = ["wallet", "balance", "--json", "--gateway", gateway.url, "--wallet", wallet, "--network", "base", "--base-rpc", `http://127.0.0.1:${closed}`];
    failure(await runCli(deadRpc, {}), 5, "rpc_unreachable", /cannot read balances on base/);
  });

  for (const args of [["spend", "--json"], ["proxy", "--stats", "--json"]]) {
    test(`${args.join(" ")} is one object`, async () => {
      const run = await runCli(args, { RETOUCH_HOME: join(dir, `home-${args[0]}`) });
      assert.equal(run.code, 0, run.stderr);
      const json = onlyJson(run) as { ok: boolean; total?: { count: number } };
      assert.equal(json.ok, true);
      assert.equal(json.total?.count, 0, run.stdout);
    });
  }
});
