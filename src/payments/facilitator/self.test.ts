// The operator's own settlement wallet (`retouch facilitator`, RETOUCH_PAYMENTS=self), in this
// process: the key file's checks, the RPC clients of each network, and the gas watch, against the
// devchain's JSON-RPC over HTTP as a real RPC provider would be reached.

import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BASE, generateWalletKeys, SOLANA, type WalletKeys } from "../../chains/index.ts";
import { startTestDevchain, type TestDevchain } from "../../chains/devchain/testing.ts";
import { ConfigError } from "../../config.ts";
import type { ChainAccess } from "./chain.ts";
import { formatGas, gasBalances, LOW_GAS, readFacilitatorKeys, rpcChainAccess, watchGas, type GasWatch } from "./self.ts";

let chain: TestDevchain;
let folder: string;
before(async () => {
  [chain, folder] = await Promise.all([startTestDevchain(), mkdtemp(join(tmpdir(), "retouch-self-"))]);
});
after(async () => {
  await chain?.dispose();
  await rm(folder, { recursive: true, force: true });
});

let files = 0;
/** A key file with `text`, at `mode`. */
async function keyFile(text: string, mode = 0o600): Promise<string> {
  const file = join(folder, `keys-${++files}.json`);
  await writeFile(file, text);
  await chmod(file, mode);
  return file;
}

/** A fresh settlement wallet holding exactly `wei` on Base and `lamports` on Solana, reached over HTTP. */
async function fundedAccess(wei: bigint, lamports: bigint): Promise<{ keys: WalletKeys; access: ChainAccess }> {
  const keys = await generateWalletKeys();
  await chain.devchain.evm.fund(keys.evm.address, { eth: wei });
  if (lamports > 0n) await chain.devchain.solana.fund(keys.solana.address, { sol: lamports });
  const wallet = await readFacilitatorKeys(await keyFile(JSON.stringify(keys)));
  const { evm, solana } = chain.devchain;
  return { keys, access: rpcChainAccess(wallet, ["base", "solana"], { base: evm.rpcUrl, solana: solana.rpcUrl }) };
}

const refusal = (message: string) => (error: unknown) => error instanceof ConfigError && error.message === message;

describe("readFacilitatorKeys", () => {
  test("reads a key file only its owner can read, with addresses that match its keys", async () => {
    const keys = await generateWalletKeys();
    const wallet = await readFacilitatorKeys(await keyFile(JSON.stringify(keys)));
    assert.equal(wallet.evm.address, keys.evm.address);
    assert.equal(wallet.solana.address, keys.solana.address);
  });

  test("refuses, naming the file and the fix: missing, readable by the group or by others, not a key file, keys that do not match", async () => {
    const missing = join(folder, "absent.json");
    await assert.rejects(readFacilitatorKeys(missing), refusal(`RETOUCH_FACILITATOR_KEYS=${missing} cannot be read (ENOENT)`));
    const text = JSON.stringify(await generateWalletKeys());
    for (const mode of [0o640, 0o604, 0o700 | 0o010]) {
      const file = await keyFile(text, mode);
      const shown = mode.toString(8).padStart(4, "0");
      await assert.rejects(
        readFacilitatorKeys(file),
        refusal(`RETOUCH_FACILITATOR_KEYS=${file} is readable by other users (mode ${shown}); it holds the keys that pay gas: chmod 600 ${file}`),
      );
    }
    const notKeys = await keyFile('{"evm": {"address": "0x0"}}');
    await assert.rejects(
      readFacilitatorKeys(notKeys),
      refusal(`RETOUCH_FACILITATOR_KEYS=${notKeys} is not a key file ({ evm: { address, privateKey }, solana: { address, secretKey } })`),
    );
    const other = await generateWalletKeys();
    const mismatched = await keyFile(JSON.stringify({ ...JSON.parse(text), evm: { ...JSON.parse(text).evm, address: other.evm.address } }));
    await assert.rejects(readFacilitatorKeys(mismatched), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, new RegExp(`^RETOUCH_FACILITATOR_KEYS=${mismatched} evm.address ${other.evm.address} does not belong to evm.privateKey`));
      return true;
    });
  });
});

describe("rpcChainAccess", () => {
  test("a client per network through its RPC URL; a network without one names the variable to set", async () => {
    const wallet = await readFacilitatorKeys(await keyFile(JSON.stringify(await generateWalletKeys())));
    const access = rpcChainAccess(wallet, ["base", "solana"], { base: chain.devchain.evm.rpcUrl, solana: chain.devchain.solana.rpcUrl });
    assert.deepEqual(
      access.evm.map(({ network, client }) => [network, client.account.address]),
      [[BASE, wallet.evm.address]],
    );
    assert.deepEqual(
      access.svm.map(({ network }) => network),
      [SOLANA],
    );
    assert.equal(access.svmSigner, wallet.solana);
    assert.throws(
      () => rpcChainAccess(wallet, ["base", "solana"], { base: chain.devchain.evm.rpcUrl }),
      refusal("settling on solana needs its JSON-RPC: set SOLANA_RPC_URL"),
    );
    assert.throws(() => rpcChainAccess(wallet, ["base"], {}), refusal("settling on base needs its JSON-RPC: set BASE_RPC_URL"));
  });
});

describe("gas", () => {
  test("balances as the chains hold them, low strictly below the threshold on each family", async () => {
    const below = await fundedAccess(LOW_GAS.evm - 1n, LOW_GAS.svm - 1n);
    assert.deepEqual(
      (await gasBalances(below.access)).map(({ network, address, balance, low }) => [network.name, address, balance, low]),
      [
        ["base", below.keys.evm.address, LOW_GAS.evm - 1n, true],
        ["solana", below.keys.solana.address, LOW_GAS.svm - 1n, true],
      ],
    );
    const at = await fundedAccess(LOW_GAS.evm, LOW_GAS.svm);
    assert.deepEqual(
      (await gasBalances(at.access)).map(({ balance, low }) => [balance, low]),
      [
        [LOW_GAS.evm, false],
        [LOW_GAS.svm, false],
      ],
    );
  });

  test("formatGas writes a balance as a person reads it", () => {
    const cases: [typeof BASE | typeof SOLANA, bigint, string][] = [
      [BASE, 0n, "0 ETH"],
      [BASE, LOW_GAS.evm, "0.0005 ETH"],
      [BASE, 3n * 10n ** 18n / 2n, "1.5 ETH"],
      [BASE, 1n, "0.000000000000000001 ETH"],
      [BASE, 12n * 10n ** 18n, "12 ETH"],
      [SOLANA, LOW_GAS.svm, "0.01 SOL"],
      [SOLANA, 2_000_000_000n, "2 SOL"],
      [SOLANA, 2_000_000_001n, "2.000000001 SOL"],
    ];
    for (const [network, balance, shown] of cases) assert.equal(formatGas({ network, balance }), shown);
  });
});

describe("watchGas", () => {
  /** A watch that records what it is told. */
  function recorder() {
    const gauge: [string, string, number][] = [];
    const warnings: [Record<string, unknown>, string][] = [];
    const watch: GasWatch = {
      gauge: { set: ({ network, address }, value) => void gauge.push([network, address, value]) },
      warn: (facts, message) => void warnings.push([facts as Record<string, unknown>, message]),
    };
    return { watch, gauge, warnings };
  }

  test("the first reading is done when it resolves: the gauge in ETH and SOL, a warning with the figures and the address for a low wallet only", async () => {
    const { keys, access } = await fundedAccess(400_000_000_000_000n, 2_000_000_000n);
    const { watch, gauge, warnings } = recorder();
    const stop = await watchGas(access, watch);
    stop();
    assert.deepEqual(gauge, [
      ["base", keys.evm.address, 0.0004],
      ["solana", keys.solana.address, 2],
    ]);
    assert.deepEqual(warnings, [
      [
        { network: "base", address: keys.evm.address, balance: "0.0004 ETH", low_below: "0.0005 ETH" },
        `the settlement wallet is low on gas on base: 0.0004 ETH at ${keys.evm.address}; settlements fail once it is empty`,
      ],
    ]);
  });

  test("reads again every interval until stopped", async (t) => {
    const { access } = await fundedAccess(10n ** 18n, 10n ** 9n);
    // Counts the reads where they start: the first balance call of each is made synchronously.
    let reads = 0;
    const client = access.evm[0].client;
    const getBalance = client.getBalance.bind(client);
    access.evm[0].client = Object.assign(Object.create(client), { getBalance: (...args: Parameters<typeof getBalance>) => (reads++, getBalance(...args)) });
    t.mock.timers.enable({ apis: ["setInterval"] });
    const { watch } = recorder();
    const stop = await watchGas(access, watch, 60_000);
    assert.equal(reads, 1);
    t.mock.timers.tick(59_999);
    assert.equal(reads, 1);
    t.mock.timers.tick(1);
    assert.equal(reads, 2);
    t.mock.timers.tick(120_000);
    assert.equal(reads, 4);
    stop();
    t.mock.timers.tick(600_000);
    assert.equal(reads, 4);
  });

  test("an RPC that cannot be reached is a one-line warning, not a failure", async () => {
    const wallet = await readFacilitatorKeys(await keyFile(JSON.stringify(await generateWalletKeys())));
    const access = rpcChainAccess(wallet, ["base"], { base: "http://127.0.0.1:9/rpc-key-in-path" });
    const { watch, gauge, warnings } = recorder();
    const stop = await watchGas(access, watch);
    stop();
    assert.equal(gauge.length, 0);
    assert.equal(warnings.length, 1);
    const [facts, message] = warnings[0];
    assert.equal(message, "could not read the settlement wallet's gas balance");
    const said = facts.err_message as string;
    assert.ok(said.length > 0 && said.length <= 200, said);
    assert.doesNotMatch(said, /\n|rpc-key-in-path/);
  });
});
