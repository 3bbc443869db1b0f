// The devchain's JSON-RPC against the attack a web page could mount on it (evm_addAccount +
// personal_unlockAccount + eth_sendTransaction moving the dev wallet's USDC), and what clients still get.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createSolanaRpc, lamports } from "@solana/kit";
import { createPublicClient, createWalletClient, encodeFunctionData, http, type Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { USDC_ABI } from "./evm/contracts.ts";
import { ADMIN_RPC_ENV, rpcAccessFrom } from "./rpc-access.ts";
import { startTestDevchain, type TestDevchain } from "./testing.ts";

const PLAYGROUND = "http://127.0.0.1:4021";
const EVIL = "http://evil.example";

let locked: TestDevchain;
let open: TestDevchain;
before(async () => {
  // adminRpc is set explicitly on both, so a developer's RETOUCH_DEVCHAIN_ADMIN_RPC=1 changes nothing here.
  [locked, open] = await Promise.all([
    startTestDevchain({ allowedOrigins: [PLAYGROUND], adminRpc: false }),
    startTestDevchain({ allowedOrigins: [PLAYGROUND], adminRpc: true }),
  ]);
});
after(() => Promise.all([locked?.dispose(), open?.dispose()]));

interface RpcAnswer {
  status: number;
  allowOrigin: string | null;
  body: { result?: unknown; error?: { code: number; message: string } } & Record<number, { result?: unknown; error?: { code: number; message: string } }>;
}

async function post(url: string, body: unknown, origin?: string): Promise<RpcAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (origin !== undefined) headers.origin = origin;
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, allowOrigin: res.headers.get("access-control-allow-origin"), body: (await res.json()) as RpcAnswer["body"] };
}

const rpc = (url: string, method: string, params: unknown[] = [], origin?: string) => post(url, { jsonrpc: "2.0", id: 1, method, params }, origin);

/** The page's attack: make the buyer's address a node account, unlock it, send its USDC away. */
function attackCalls(t: TestDevchain, thief: Address): [string, unknown[]][] {
  const buyer = t.devchain.wallets.buyer.evm.address;
  const data = encodeFunctionData({ abi: USDC_ABI, functionName: "transfer", args: [thief, 1_000_000n] });
  return [
    ["evm_addAccount", [buyer, ""]],
    ["personal_unlockAccount", [buyer, "", 0]],
    ["eth_sendTransaction", [{ from: buyer, to: t.devchain.evm.usdc, data }]],
  ];
}

const randomAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address;

describe("local Base JSON-RPC", () => {
  test("a page at another origin cannot run the attack: each call is 403 without a CORS header, even with admin methods on", async () => {
    for (const t of [locked, open]) {
      const thief = randomAddress();
      for (const [method, params] of attackCalls(t, thief)) {
        const answer = await rpc(t.devchain.evm.rpcUrl, method, params, EVIL);
        assert.equal(answer.status, 403, method);
        assert.equal(answer.allowOrigin, null, method);
        assert.match(answer.body.error?.message ?? "", /requests from http:\/\/evil\.example are refused/);
      }
      assert.equal(await t.devchain.evm.usdcBalance(thief), 0n);
    }
    assert.equal(await locked.devchain.evm.usdcBalance(locked.devchain.wallets.buyer.evm.address), 1_000_000_000n);
  });

  test("without an Origin header, admin and node-key methods answer -32601 naming RETOUCH_DEVCHAIN_ADMIN_RPC, alone or in a batch", async () => {
    const url = locked.devchain.evm.rpcUrl;
    const thief = randomAddress();
    const refused = [
      ...attackCalls(locked, thief),
      ["eth_sign", [locked.devchain.wallets.buyer.evm.address, "0x00"]],
      ["eth_signTransaction", [{}]],
      ["eth_signTypedData_v4", [locked.devchain.wallets.buyer.evm.address, "{}"]],
      ["personal_sign", ["0x00", locked.devchain.wallets.buyer.evm.address]],
      ["personal_importRawKey", [generatePrivateKey().slice(2), ""]],
      ["evm_setAccountBalance", [thief, "0xffffffffffffffff"]],
      ["evm_setAccountStorageAt", [locked.devchain.evm.usdc, "0x0", "0x1"]],
      ["evm_mine", []],
      ["miner_stop", []],
      ["anvil_setBalance", [thief, "0x1"]],
      ["hardhat_impersonateAccount", [thief]],
      ["ganache_snapshot", []],
      ["debug_traceTransaction", ["0x00"]],
      ["txpool_content", []],
      ["admin_nodeInfo", []],
      ["web3_sha3", ["0x00"]],
    ] as [string, unknown[]][];
    for (const [method, params] of refused) {
      const answer = await rpc(url, method, params);
      assert.equal(answer.status, 200, method);
      assert.deepEqual(answer.body.error, {
        code: -32601,
        message: `method ${method} is not available on this devchain RPC (admin methods are off; ${ADMIN_RPC_ENV}=1 turns them on for tests)`,
      });
    }
    const batch = await post(url, [
      { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
      { jsonrpc: "2.0", id: 2, method: "evm_addAccount", params: [locked.devchain.wallets.buyer.evm.address, ""] },
      { jsonrpc: "2.0", id: 3, method: "personal_unlockAccount", params: [locked.devchain.wallets.buyer.evm.address, "", 0] },
    ]);
    assert.equal(batch.body[0]?.result, "0x2105");
    assert.equal(batch.body[1]?.error?.code, -32601);
    assert.equal(batch.body[2]?.error?.code, -32601);
    // ganache had no account to unlock: the node still holds none.
    assert.deepEqual((await rpc(url, "eth_accounts")).body.result, []);
    assert.equal(await locked.devchain.evm.usdcBalance(thief), 0n);
    assert.equal(await locked.devchain.evm.ethBalance(thief), 0n);
  });

  test("with admin methods on, the same calls from an allowed page move the buyer's USDC: the lock is what stops the attack", async () => {
    const thief = randomAddress();
    const buyer = open.devchain.wallets.buyer.evm.address;
    const before = await open.devchain.evm.usdcBalance(buyer);
    for (const [method, params] of attackCalls(open, thief)) {
      const answer = await rpc(open.devchain.evm.rpcUrl, method, params, PLAYGROUND);
      assert.equal(answer.status, 200, method);
      assert.equal(answer.body.error, undefined, `${method}: ${JSON.stringify(answer.body.error)}`);
      assert.equal(answer.allowOrigin, PLAYGROUND);
    }
    assert.equal(await open.devchain.evm.usdcBalance(thief), 1_000_000n);
    assert.equal(await open.devchain.evm.usdcBalance(buyer), before - 1_000_000n);
  });

  test("the allowed page gets its own origin back (not *), preflight included; a foreign preflight is refused", async () => {
    const url = locked.devchain.evm.rpcUrl;
    const answer = await rpc(url, "eth_chainId", [], PLAYGROUND);
    assert.equal(answer.allowOrigin, PLAYGROUND);
    assert.equal(answer.body.result, "0x2105");
    const preflight = (origin: string) =>
      fetch(url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    const allowed = await preflight(PLAYGROUND);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get("access-control-allow-origin"), PLAYGROUND);
    assert.match(allowed.headers.get("vary") ?? "", /Origin/);
    const foreign = await preflight(EVIL);
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);
  });

  test("viem over HTTP still reads and pays: eth_chainId, eth_getBalance, a locally signed eth_sendRawTransaction; net_version and web3_clientVersion answer", async () => {
    const { evm, wallets } = locked.devchain;
    const transport = http(evm.rpcUrl, { retryCount: 0 });
    const client = createPublicClient({ chain: evm.chain, transport });
    assert.equal(await client.getChainId(), 8453);
    assert.equal(await client.getBalance({ address: wallets.buyer.evm.address }), await evm.ethBalance(wallets.buyer.evm.address));

    const payee = randomAddress();
    const wallet = createWalletClient({ account: wallets.buyer.evm, chain: evm.chain, transport });
    const hash = await wallet.writeContract({ address: evm.usdc, abi: USDC_ABI, functionName: "transfer", args: [payee, 4_321n] });
    assert.equal((await client.waitForTransactionReceipt({ hash })).status, "success");
    assert.equal(await evm.usdcBalance(payee), 4_321n);

    assert.equal((await rpc(evm.rpcUrl, "net_version")).body.result, "8453");
    assert.equal((await rpc(evm.rpcUrl, "net_listening")).body.result, true);
    assert.equal(typeof (await rpc(evm.rpcUrl, "web3_clientVersion")).body.result, "string");
  });
});

describe("local Solana JSON-RPC", () => {
  test("a page at another origin is refused; @solana/kit reads getBalance; requestAirdrop and unlisted methods answer -32601", async () => {
    const { solana, wallets } = locked.devchain;
    const buyer = wallets.buyer.solana.address;
    const foreign = await rpc(solana.rpcUrl, "getBalance", [buyer], EVIL);
    assert.equal(foreign.status, 403);
    assert.equal(foreign.allowOrigin, null);

    const { value } = await createSolanaRpc(solana.rpcUrl).getBalance(wallets.buyer.solana.address).send();
    assert.equal(value, await solana.solBalance(buyer));
    assert.equal((await rpc(solana.rpcUrl, "getHealth", [], PLAYGROUND)).allowOrigin, PLAYGROUND);

    const before = await solana.solBalance(buyer);
    for (const method of ["requestAirdrop", "getTransaction", "toString", "evm_addAccount"]) {
      const answer = await rpc(solana.rpcUrl, method, [buyer, 1_000_000_000]);
      assert.equal(answer.body.error?.code, -32601, method);
      assert.match(answer.body.error?.message ?? "", new RegExp(`method ${method} is not available on this devchain RPC .*${ADMIN_RPC_ENV}=1`));
    }
    assert.equal(await solana.solBalance(buyer), before, "no airdrop landed");
  });

  test("with admin methods on, requestAirdrop credits the lamports; names the devchain lacks still answer -32601", async () => {
    const { solana, wallets } = open.devchain;
    const buyer = wallets.buyer.solana.address;
    const before = await solana.solBalance(buyer);
    const answer = await rpc(solana.rpcUrl, "requestAirdrop", [buyer, 1_000_000_000]);
    assert.equal(answer.body.error, undefined, JSON.stringify(answer.body.error));
    assert.equal(await solana.solBalance(buyer), lamports(before + 1_000_000_000n));
    // Not Object.prototype's: "toString" once ran and answered "[object Undefined]".
    for (const method of ["getTransaction", "toString", "constructor"]) {
      assert.equal((await rpc(solana.rpcUrl, method, [])).body.error?.code, -32601, method);
    }
  });
});

test("admin methods follow RETOUCH_DEVCHAIN_ADMIN_RPC=1 unless told otherwise; allowed origins are stored as browsers send them", () => {
  assert.equal(rpcAccessFrom({}, {}).adminRpc, false);
  assert.equal(rpcAccessFrom({}, { [ADMIN_RPC_ENV]: "true" }).adminRpc, false, "only 1 turns them on");
  assert.equal(rpcAccessFrom({}, { [ADMIN_RPC_ENV]: "1" }).adminRpc, true);
  assert.equal(rpcAccessFrom({ adminRpc: false }, { [ADMIN_RPC_ENV]: "1" }).adminRpc, false);
  assert.deepEqual(rpcAccessFrom({}, {}).allowedOrigins, []);
  assert.deepEqual(rpcAccessFrom({ allowedOrigins: ["http://127.0.0.1:4021/"] }, {}).allowedOrigins, [PLAYGROUND]);
  assert.throws(() => rpcAccessFrom({ allowedOrigins: ["127.0.0.1:4021"] }, {}), RangeError);
});
