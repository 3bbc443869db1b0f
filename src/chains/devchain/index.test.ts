// startDevchain as a whole: what a restart keeps (keys) and what it redoes (funding),
// and that close() really frees its ports.
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { createServer } from "node:net";
import { test } from "node:test";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startTestDevchain } from "./testing.ts";
import { startDevchain } from "./index.ts";

test("a restart reuses dev-wallets.json and funds the buyer again; the facilitator keys live apart", async () => {
  const first = await startTestDevchain();
  const { buyer, facilitator } = first.devchain.wallets;
  assert.equal((await stat(buyer.file)).mode & 0o777, 0o600);
  assert.equal((await stat(facilitator.file)).mode & 0o777, 0o600);
  assert.notEqual(buyer.file, facilitator.file);
  assert.notEqual(buyer.evm.address, facilitator.evm.address);

  // Spend some, so that the second start visibly re-funds from scratch (chain state is in memory).
  await first.devchain.fundUsdc("base", buyer.evm.address, 5n);
  assert.equal(await first.devchain.usdcBalance("base", buyer.evm.address), 1_000_000_005n);
  const { evm, solana } = first.devchain;
  const evmPort = Number(new URL(evm.rpcUrl).port);
  const solanaPort = Number(new URL(solana.rpcUrl).port);
  await first.devchain.close();

  // Same ports again: close() must have released them.
  const second = await startDevchain({ dataDir: first.dataDir, evmPort, solanaPort });
  try {
    assert.deepEqual(second.wallets.buyer.keys, buyer.keys);
    assert.deepEqual(second.wallets.facilitator.keys, facilitator.keys);
    assert.equal(await second.usdcBalance("base", buyer.evm.address), 1_000_000_000n);
    assert.equal(await second.usdcBalance("solana", buyer.solana.address), 1_000_000_000n);
    assert.equal(await second.usdcBalance("base", privateKeyToAccount(generatePrivateKey()).address), 0n);
    assert.ok(second.startupMs < 10_000, `start-up took ${second.startupMs} ms`);
  } finally {
    await second.close();
    await first.dispose();
  }
});

test("a taken port fails the start and leaves the other chain's port free", async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const taken = (blocker.address() as { port: number }).port;
  try {
    await assert.rejects(startTestDevchain({ solanaPort: taken }), /EADDRINUSE/);
  } finally {
    blocker.close();
  }
});

test("`retouch devchain` prints addresses, URLs and key file paths, never a private key, and stops when told", async () => {
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { runDevchainCommand } = await import("../../cli/devchain.ts");
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-cli-"));
  const lines: string[] = [];
  let stop!: () => void;
  const until = new Promise<void>((resolve) => (stop = resolve));
  const run = runDevchainCommand({ dataDir, evmPort: 0, solanaPort: 0, adminRpc: false, print: (line) => lines.push(line), until });
  while (!lines.some((line) => line.includes("Ctrl+C"))) await new Promise((resolve) => setTimeout(resolve, 20));
  stop();
  await run;
  await rm(dataDir, { recursive: true, force: true });
  const out = lines.join("\n");
  for (const expected of ["chain id 8453", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "dev-wallets.json", "dev-facilitator.json", "http://127.0.0.1:", "admin methods are off", "no web page may call them"]) {
    assert.ok(out.includes(expected), `missing ${expected}`);
  }
  assert.doesNotMatch(out, /0x[0-9a-fA-F]{64}/, "no EVM private key");
  assert.doesNotMatch(out, /[1-9A-HJ-NP-Za-km-z]{80,}/, "no base58 Solana secret key");
  assert.equal(lines.at(-1), "stopping devchain…");
});
