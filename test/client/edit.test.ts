// `retouch edit` end to end on a devchain gateway over real HTTP: the saved picture,
// the USDC that moved on chain, and every refusal that must move none.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { runEdit, type EditOptions, type EditOutcome } from "../../src/client/edit.ts";
import type { CliError } from "../../src/client/errors.ts";
import { makeScene, redPixelCount, squareMask } from "../support/scene.ts";
import { startHttpGateway, type HttpGateway } from "./http-gateway.ts";

const PRICE = 1000n; // local/content-aware-fill: $0.001
const SIZE = 128;

let dir: string;
let http: HttpGateway;
let photo: string;
let mask: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-edit-"));
  http = await startHttpGateway();
  const scene = makeScene({ width: SIZE, height: SIZE });
  photo = join(dir, "photo.png");
  mask = join(dir, "mask.png");
  await writeFile(photo, await sharp(scene.rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer());
  assert.ok(redPixelCount(scene.rgb) > 100, "the scene has a red ball to remove");
  const maskPixels = squareMask(SIZE, SIZE, scene.disc.cx, scene.disc.cy, scene.disc.r * 2 + 8);
  await writeFile(mask, await sharp(maskPixels, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer());
});
after(async () => {
  await http.close();
  await rm(dir, { recursive: true, force: true });
});

function balance(network: "base" | "solana"): Promise<bigint> {
  const devchain = http.gw.gateway.devchain!;
  const buyer = devchain.wallets.buyer;
  return devchain.usdcBalance(network, network === "base" ? buyer.evm.address : buyer.solana.address);
}

function edit(overrides: Partial<EditOptions>, lines: string[] = []): Promise<EditOutcome> {
  return runEdit({
    image: [photo],
    mask,
    model: "local/content-aware-fill",
    prompt: "remove the red ball",
    gateway: http.url,
    wallet: http.buyerWallet,
    baseRpc: http.baseRpc,
    solanaRpc: http.solanaRpc,
    env: { RETOUCH_HOME: join(dir, "home") },
    print: (line) => lines.push(line),
    ...overrides,
  });
}

const exitCode = (code: number) => (error: CliError) => {
  assert.equal(error.exitCode, code, error.message);
  return true;
};

describe("retouch edit", () => {
  for (const network of ["base", "solana"] as const) {
    test(`pays the quote on ${network}, saves a correct PNG and prints where it is`, async () => {
      const out = join(dir, `out-${network}`);
      const start = await balance(network);
      const lines: string[] = [];
      const outcome = await edit({ network, out }, lines);
      assert.equal(start - (await balance(network)), PRICE, "the wallet paid exactly the quote");
      assert.equal(outcome.files.length, 1);
      assert.match(outcome.files[0], /retouch-content-aware-fill-\d{8}-\d{6}-1\.png$/);
      const { data, info } = await sharp(outcome.files[0]).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height], [SIZE, SIZE]);
      assert.equal(redPixelCount(data), 0, "no red left");
      assert.ok(outcome.payment!.tx_hash.length > 40);
      assert.ok(lines.some((l) => l.includes(outcome.files[0])) && lines.some((l) => l.includes(outcome.payment!.tx_hash)), lines.join("\n"));
    });
  }

  test("without --network it picks a network the wallet can pay on; --json prints one object", async () => {
    const lines: string[] = [];
    const before = (await balance("base")) + (await balance("solana"));
    const outcome = await edit({ out: join(dir, "out-json"), json: true }, lines);
    assert.equal(before - ((await balance("base")) + (await balance("solana"))), PRICE);
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]), { ok: true, ...outcome });
    assert.equal(outcome.price?.amount, "0.001");
    assert.equal(outcome.charged, true);
  });

  test("a quote above --max-price is refused with exit 3, naming the flag, and nothing is paid", async () => {
    const start = [await balance("base"), await balance("solana")];
    await assert.rejects(edit({ maxPrice: "0.0001", out: join(dir, "never") }), (error: CliError) => {
      assert.match(error.message, /above --max-price \$0\.0001.*--max-price 0\.001/);
      return exitCode(3)(error);
    });
    assert.deepEqual([await balance("base"), await balance("solana")], start);
  });

  test("a text file named .png and an 8x8 PNG fail before paying (exit 2), naming the file", async () => {
    const text = join(dir, "notes.png");
    await writeFile(text, "just some words");
    const tiny = join(dir, "tiny.png");
    await writeFile(tiny, await sharp({ create: { width: 8, height: 8, channels: 3, background: "#f00" } }).png().toBuffer());
    const start = [await balance("base"), await balance("solana")];
    await assert.rejects(edit({ image: [text], mask: undefined }), (error: CliError) => {
      assert.match(error.message, /notes\.png is not a PNG, JPEG or WebP/);
      return exitCode(2)(error);
    });
    await assert.rejects(edit({ mask: tiny }), (error: CliError) => {
      assert.match(error.message, /tiny\.png is 8x8; the smallest accepted is 16x16/);
      return exitCode(2)(error);
    });
    assert.deepEqual([await balance("base"), await balance("solana")], start);
  });

  test("an unreachable gateway is exit 5", async () => {
    await assert.rejects(edit({ gateway: "http://127.0.0.1:1" }), exitCode(5));
  });

  test("the command line: prompt from the rest of the line, exit code 3 over --max-price, one line on stderr", async () => {
    const start = await balance("base");
    const args = ["bin/retouch.js", "edit", "--image", photo, "--mask", mask, "--model", "local/content-aware-fill"];
    args.push("--max-price", "0.0001", "--out", join(dir, "cli-out"), "--gateway", http.url, "--wallet", http.buyerWallet, "remove", "the", "ball");
    const child = spawn(process.execPath, args, { cwd: join(import.meta.dirname, "../.."), env: { ...process.env, BASE_RPC_URL: http.baseRpc, SOLANA_RPC_URL: http.solanaRpc, RETOUCH_HOME: join(dir, "home") } });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on("close", resolve));
    assert.equal(code, 3, stderr);
    assert.match(stderr, /^retouch: the gateway quotes \$0\.001, above --max-price/);
    assert.equal(await balance("base"), start);
    await assert.rejects(readdir(join(dir, "cli-out")), /ENOENT/, "nothing saved");
  });
});
