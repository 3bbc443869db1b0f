// Dev wallet files: the documented format, private (0600), reused across starts,
// never silently replaced, and one set of keys even when two processes create them at once.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createKeyPairSignerFromBytes, getBase58Encoder } from "@solana/kit";
import { privateKeyToAccount } from "viem/accounts";
import { BUYER_WALLET_FILE, loadOrCreateWallet } from "./wallets.ts";

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "retouch-wallets-"));
  dirs.push(dir);
  return dir;
};
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

test("creates dev-wallets.json in the documented format with mode 0600", async () => {
  const dir = await tempDir();
  const wallet = await loadOrCreateWallet(join(dir, "nested"), BUYER_WALLET_FILE);
  const file = join(dir, "nested", BUYER_WALLET_FILE);
  assert.equal(wallet.file, file);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const json = JSON.parse(await readFile(file, "utf8")) as { evm: Record<string, string>; solana: Record<string, string> };
  assert.deepEqual(Object.keys(json).sort(), ["evm", "solana"]);
  assert.deepEqual(Object.keys(json.evm).sort(), ["address", "privateKey"]);
  assert.deepEqual(Object.keys(json.solana).sort(), ["address", "secretKey"]);
  assert.equal(privateKeyToAccount(json.evm.privateKey as `0x${string}`).address, json.evm.address);
  const secret = getBase58Encoder().encode(json.solana.secretKey!);
  assert.equal(secret.length, 64);
  assert.equal((await createKeyPairSignerFromBytes(secret)).address, json.solana.address);
  assert.equal(wallet.evm.address, json.evm.address);
  assert.equal(wallet.solana.address, json.solana.address);
  assert.deepEqual((await readdir(join(dir, "nested"))).filter((f) => f.endsWith(".tmp")), [], "no temp file left behind");
});

test("reuses the keys of an existing file", async () => {
  const dir = await tempDir();
  const first = await loadOrCreateWallet(dir, BUYER_WALLET_FILE);
  const second = await loadOrCreateWallet(dir, BUYER_WALLET_FILE);
  assert.deepEqual(second.keys, first.keys);
});

test("two creators racing end up with the same keys", async () => {
  const dir = await tempDir();
  const wallets = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateWallet(dir, BUYER_WALLET_FILE)));
  for (const wallet of wallets) assert.deepEqual(wallet.keys, wallets[0]!.keys);
});

test("refuses a damaged file instead of overwriting it", async () => {
  const dir = await tempDir();
  const file = join(dir, BUYER_WALLET_FILE);
  await writeFile(file, '{"evm":{"address":"0x0000000000000000000000000000000000000001","privateKey":"0x01"}}');
  await assert.rejects(loadOrCreateWallet(dir, BUYER_WALLET_FILE), /fix or delete it/);
  assert.match(await readFile(file, "utf8"), /"privateKey":"0x01"/, "file untouched");
});
