// RETOUCH_PAYMENTS=self: the gateway verifies and settles with the operator's own
// gas wallet through the chains' RPCs, tested against a devchain in another
// process exactly as if it were mainnet (it poses as Base and Solana).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateWalletKeys } from "../src/chains/index.ts";
import { liveGatewayEnv, payWithExample, startDevchainProcess, startGatewayProcess, startRetouch, type DevchainProcess } from "./support/processes.ts";

let devchain: DevchainProcess;
let folder: string;

before(async () => {
  devchain = await startDevchainProcess();
  folder = await mkdtemp(join(tmpdir(), "retouch-self-"));
});

after(async () => {
  await devchain?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

test("self mode: examples/pay.ts pays on base and solana, the gateway's own wallet settles, and /metrics shows its gas", async () => {
  const gateway = await startGatewayProcess(liveGatewayEnv(devchain, "self"));
  try {
    for (const network of ["base", "solana"] as const) {
      const buyerBefore = await devchain.usdc(network, devchain.buyer);
      const sellerBefore = await devchain.usdc(network, devchain.seller);
      const run = await payWithExample(devchain, gateway.url, network);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, /^200 /, run.output);
      assert.match(run.output, /"status": "settled"/);
      const paid = buyerBefore - (await devchain.usdc(network, devchain.buyer));
      assert.ok(paid > 0n, `${network}: the buyer paid`);
      assert.equal((await devchain.usdc(network, devchain.seller)) - sellerBefore, paid, `${network}: the seller received exactly that`);
    }
    // The devchain's own facilitator service was not involved: the gateway settled by itself.
    assert.equal(devchain.lines.filter((line) => line.includes('"operation":"settle"')).length, 0);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`retouch_facilitator_gas_balance\\{network="base",address="${devchain.facilitator.evm.address}"\\} \\d`));
    assert.match(metrics, new RegExp(`retouch_facilitator_gas_balance\\{network="solana",address="${devchain.facilitator.solana.address}"\\} \\d`));
    assert.doesNotMatch(gateway.lines.join("\n"), /low on gas/);
  } finally {
    await gateway.close();
  }
});

test("self mode warns at start-up when the settlement wallet is low on gas, with the balance and the address to top up", async () => {
  const keys = await generateWalletKeys();
  const file = join(folder, "empty-wallet.json");
  await writeFile(file, JSON.stringify(keys), { mode: 0o600 });
  const gateway = await startGatewayProcess({ ...liveGatewayEnv(devchain, "self"), RETOUCH_FACILITATOR_KEYS: file });
  try {
    const warnings = gateway.lines.filter((line) => line.includes("low on gas"));
    assert.equal(warnings.length, 2, gateway.lines.join("\n"));
    assert.ok(warnings.some((line) => line.includes(`0 ETH at ${keys.evm.address}`)));
    assert.ok(warnings.some((line) => line.includes(`0 SOL at ${keys.solana.address}`)));
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`retouch_facilitator_gas_balance\\{network="base",address="${keys.evm.address}"\\} 0\\n`));
  } finally {
    await gateway.close();
  }
});

test("self mode refuses to start on a key file other users can read, or without the networks' RPCs", async () => {
  const file = join(folder, "shared-wallet.json");
  await writeFile(file, JSON.stringify(await generateWalletKeys()), { mode: 0o644 });
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-self-refused-"));
  try {
    const readable = startRetouch(["serve"], { ...liveGatewayEnv(devchain, "self"), RETOUCH_FACILITATOR_KEYS: file, RETOUCH_DATA_DIR: dataDir, PORT: "0" });
    assert.equal(await readable.exited, 2);
    assert.match(readable.lines.join("\n"), /RETOUCH_FACILITATOR_KEYS=.*readable by other users \(mode 0644\).*chmod 600/);

    const { SOLANA_RPC_URL: _, ...withoutSolana } = liveGatewayEnv(devchain, "self");
    const noRpc = startRetouch(["serve"], { ...withoutSolana, SOLANA_RPC_URL: "", RETOUCH_DATA_DIR: dataDir, PORT: "0" });
    assert.equal(await noRpc.exited, 2);
    assert.match(noRpc.lines.join("\n"), /settles on solana through its RPC: set SOLANA_RPC_URL/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
