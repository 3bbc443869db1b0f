// A facilitator that fails (down, erroring, hanging, refusing, settling and then
// losing its answer) and a chain that stalls: what the buyer is told and what the
// ledger records follow what happened on the chain. Balances are read on chain.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  generateKeyPairSigner,
  getBase64EncodedWireTransaction,
  getBase64Encoder,
  getSignatureFromTransaction,
  getTransactionDecoder,
  partiallySignTransaction,
} from "@solana/kit";
import { createWalletClient, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { BASE, type Devchain, type DevWallet } from "../src/chains/index.ts";
import { USDC_ABI } from "../src/chains/devchain/index.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { signV2, type TestNetwork } from "./support/buyer.ts";
import { testBuyer, type LedgerRow } from "./support/test-buyer.ts";
import { REFUSAL, startTestFacilitator, type SettleBehaviour, type TestFacilitator, type VerifyBehaviour } from "./support/facilitator.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";

const EDIT = "/api/v1/images/image2image";
const PRICE = 1000n; // local/content-aware-fill: $0.001

interface ErrorBody {
  error: { message: string; code: string };
}
interface PaidBody {
  data: { url: string }[];
  payment: { status: string; tx_hash: string };
}

/**
 * Shared by every test, each with its own buyer wallet (so its own payments, rows and balances):
 * a devchain-mode gateway (its chain also backs the HTTP facilitator), and three remote-mode gateways
 * paying through that facilitator: one waiting the default 60 s for a settlement, one 2.5 s, and one
 * that can read Base (BASE_RPC_URL: the devchain's JSON-RPC) to learn what happened to a settlement.
 */
let local: TestGateway;
let devchain: Devchain;
let facilitator: TestFacilitator;
let patient: TestGateway;
let impatient: TestGateway;
let probing: TestGateway;

before(async () => {
  local = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_INLINE_WINDOW_MS: "0", RETOUCH_SETTLE_TIMEOUT_MS: "1500" });
  devchain = local.gateway.devchain!;
  facilitator = await startTestFacilitator(devchain);
  const seller = { evm: privateKeyToAccount(generatePrivateKey()).address, solana: (await generateKeyPairSigner()).address };
  await devchain.fundUsdc("solana", seller.solana, 0n);
  const remote = {
    RETOUCH_PAYMENTS: "remote",
    FACILITATOR_URL: facilitator.url,
    RETOUCH_NETWORKS: "base,solana",
    RETOUCH_PAY_TO_EVM: seller.evm,
    RETOUCH_PAY_TO_SOLANA: seller.solana,
  };
  [patient, impatient, probing] = await Promise.all([
    startTestGateway(remote),
    startTestGateway({ ...remote, RETOUCH_SETTLE_TIMEOUT_MS: "2500" }),
    startTestGateway({ ...remote, BASE_RPC_URL: devchain.evm.rpcUrl }),
  ]);
});
after(async () => {
  await Promise.all([patient?.close(), impatient?.close(), probing?.close(), facilitator?.close()]);
  await local?.close();
});

/** One test's payment: its own buyer wallet and edit, on one gateway and network. */
interface Payer {
  gw: TestGateway;
  network: TestNetwork;
  buyer: DevWallet;
  edit: Record<string, unknown>;
  /** What the buyer has paid so far, after checking that the seller received exactly that. */
  paid(): Promise<bigint>;
  /** This buyer's ledger rows. */
  rows(): Promise<LedgerRow[]>;
  /** Settlements the facilitator ran on chain for this buyer, whether or not anyone heard the answer. */
  settlements(): number;
  sign(): Promise<string>;
  send(header: string): Promise<Response>;
}

async function payer(gw: TestGateway, network: TestNetwork): Promise<Payer> {
  const buyer = await testBuyer(gw, devchain);
  const from = buyer.address(network);
  const edit = await sceneEdit(128, `remove the ball (${from})`);
  return {
    gw,
    network,
    buyer: buyer.wallet,
    edit,
    paid: () => buyer.paid(network),
    rows: () => buyer.rows(),
    settlements: () => facilitator.settlements.filter((s) => s.payer?.toLowerCase() === from.toLowerCase()).length,
    sign: async () => (await signV2(gw, network, EDIT, jsonInit(edit), buyer.wallet, devchain)).header,
    send: (header) => gw.request(EDIT, jsonInit(edit, { "PAYMENT-SIGNATURE": header })),
  };
}

/** Runs `body` with the facilitator behaving as asked, and well again afterwards whatever happens. */
async function misbehaving(behaviour: { verify?: VerifyBehaviour; settle?: SettleBehaviour }, body: () => Promise<void>) {
  try {
    facilitator.verify = behaviour.verify ?? "answer";
    facilitator.settle = behaviour.settle ?? "answer";
    await body();
  } finally {
    facilitator.verify = "answer";
    facilitator.settle = "answer";
    await facilitator.up().catch(() => undefined);
  }
}

async function expectUnconfirmed(response: Response): Promise<void> {
  const body = (await response.json()) as ErrorBody;
  assert.equal(response.status, 503, JSON.stringify(body));
  assert.equal(body.error.code, "settlement_unconfirmed");
  assert.equal(response.headers.get("retry-after"), "30");
  assert.match(body.error.message, /outcome is not known yet/);
  assert.match(body.error.message, /charged at most once/);
  assert.doesNotMatch(body.error.message, /nothing was charged/);
}

async function expectSettled(response: Response, status: "settled" | "already_settled"): Promise<PaidBody> {
  const body = (await response.json()) as PaidBody;
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.payment.status, status);
  assert.ok(body.payment.tx_hash.length > 40, body.payment.tx_hash);
  return body;
}

describe("the facilitator cannot be reached at verify: 502, no ledger row, nothing moves", () => {
  const cases: [string, VerifyBehaviour | "down"][] = [
    ["answers 500", "error"],
    ["drops the connection", "drop"],
    ["is down", "down"],
  ];
  for (const [name, behaviour] of cases) {
    test(`the facilitator ${name}`, async () => {
      const p = await payer(patient, "base");
      const header = await p.sign();
      await misbehaving({ verify: behaviour === "down" ? "answer" : behaviour }, async () => {
        if (behaviour === "down") await facilitator.down();
        const response = await p.send(header);
        const body = (await response.json()) as ErrorBody;
        assert.equal(response.status, 502, JSON.stringify(body));
        assert.equal(body.error.code, "facilitator_unavailable");
        assert.match(body.error.message, /facilitator could not be reached/);
      });
      assert.deepEqual(await p.rows(), []);
      assert.equal(p.settlements(), 0);
      assert.equal(await p.paid(), 0n);
      // Nothing was spent: once the facilitator is back, the same payment buys the edit.
      await expectSettled(await p.send(header), "settled");
      assert.equal(await p.paid(), PRICE);
    });
  }
});

describe("a settlement without an answer and no view of the chain (remote mode): 503 uncertain, then the replay settles once", () => {
  const cases: [string, SettleBehaviour, () => TestGateway][] = [
    ["/settle answers 500 without settling", "error", () => patient],
    ["/settle drops the connection without settling", "drop", () => patient],
    ["/settle hangs past RETOUCH_SETTLE_TIMEOUT_MS", "hang", () => impatient],
  ];
  for (const network of ["base", "solana"] as const) {
    for (const [name, behaviour, gateway] of cases) {
      test(`${network}: ${name}`, async () => {
        const p = await payer(gateway(), network);
        const header = await p.sign();
        await misbehaving({ settle: behaviour }, async () => {
          await expectUnconfirmed(await p.send(header));
        });
        assert.deepEqual(await p.rows(), [{ status: "uncertain", tx_hash: null }]);
        assert.equal(await p.paid(), 0n);
        assert.equal(p.settlements(), 0, "the facilitator never settled");

        const settled = await expectSettled(await p.send(header), "settled");
        assert.equal(await p.paid(), PRICE);
        assert.deepEqual(await p.rows(), [{ status: "settled", tx_hash: settled.payment.tx_hash }]);
        assert.equal((await p.gw.request(new URL(settled.data[0].url).pathname)).status, 200);

        const again = await expectSettled(await p.send(header), "already_settled");
        assert.equal(again.payment.tx_hash, settled.payment.tx_hash);
        assert.deepEqual(again.data, settled.data);
        assert.equal(await p.paid(), PRICE);
        assert.equal(p.settlements(), 1, "one settlement on chain");
      });
    }
  }
});

describe("the facilitator refuses to settle: 402 with its reason, row failed, nothing moves", () => {
  for (const network of ["base", "solana"] as const) {
    test(`${network}: /settle answers {success: false}`, async () => {
      const p = await payer(patient, network);
      const header = await p.sign();
      await misbehaving({ settle: "refuse" }, async () => {
        const response = await p.send(header);
        const body = (await response.json()) as { error: string; data?: unknown };
        assert.equal(response.status, 402, JSON.stringify(body));
        assert.match(body.error, /settlement failed, nothing was charged and the result is withheld/);
        assert.ok(body.error.includes(REFUSAL.errorReason), "the facilitator's reason is passed on");
        assert.equal(body.data, undefined);
      });
      assert.deepEqual(await p.rows(), [{ status: "failed", tx_hash: null }]);
      assert.equal(await p.paid(), 0n);

      // The refusal is final: the replay, with the facilitator willing again, is told the same.
      const replay = await p.send(header);
      assert.equal(replay.status, 402);
      assert.match(((await replay.json()) as { error: string }).error, /settlement failed/);
      assert.equal(await p.paid(), 0n);
      assert.equal(p.settlements(), 0);
    });
  }
});

describe("the facilitator settles on chain and then loses its answer (remote mode, no view of the chain)", () => {
  for (const network of ["base", "solana"] as const) {
    for (const behaviour of ["settle-then-error", "settle-then-drop"] as const) {
      test(`${network}: ${behaviour}: 503 uncertain, and the replay too: never "nothing was charged"`, async () => {
        const p = await payer(patient, network);
        const header = await p.sign();
        await misbehaving({ settle: behaviour }, async () => {
          await expectUnconfirmed(await p.send(header));
        });
        assert.equal(p.settlements(), 1);
        assert.equal(await p.paid(), PRICE, "the money moved although the gateway heard nothing");
        assert.deepEqual(await p.rows(), [{ status: "uncertain", tx_hash: null }]);

        // The facilitator now refuses the second settle (the authorization is spent). Without a view of the chain
        // the gateway cannot tell "landed" from "cancelled": it stays uncertain and says so, and never calls a
        // charged payment uncharged. (With BASE_RPC_URL it finds the transfer: see the next tests.)
        await expectUnconfirmed(await p.send(header));
        assert.deepEqual(await p.rows(), [{ status: "uncertain", tx_hash: null }]);
        assert.equal(await p.paid(), PRICE, "never charged twice");
        assert.equal(p.settlements(), 1);
      });
    }
  }
});

describe("remote mode with BASE_RPC_URL: a settlement without an answer is looked up on chain", () => {
  test("base: /settle answers 500 without settling: the chain says not there (and still valid): 503 uncertain; the replay settles once", async () => {
    const p = await payer(probing, "base");
    const header = await p.sign();
    await misbehaving({ settle: "error" }, async () => {
      await expectUnconfirmed(await p.send(header));
    });
    assert.deepEqual(await p.rows(), [{ status: "uncertain", tx_hash: null }]);
    assert.equal(await p.paid(), 0n);
    const settled = await expectSettled(await p.send(header), "settled");
    assert.deepEqual(await p.rows(), [{ status: "settled", tx_hash: settled.payment.tx_hash }]);
    assert.equal(await p.paid(), PRICE);
    assert.equal(p.settlements(), 1);
  });

  test("base: settled on chain, answer lost (500, then a dropped connection), each seconds after another look-up: found, 200 at once, charged once", async () => {
    // A look-up first (a settlement that did not happen), so the next ones come within seconds of it, as under load.
    const earlier = await payer(probing, "base");
    const earlierHeader = await earlier.sign();
    await misbehaving({ settle: "error" }, async () => {
      await expectUnconfirmed(await earlier.send(earlierHeader));
    });
    for (const behaviour of ["settle-then-error", "settle-then-drop"] as const) {
      const p = await payer(probing, "base");
      const header = await p.sign();
      let settled: PaidBody | undefined;
      await misbehaving({ settle: behaviour }, async () => {
        settled = await expectSettled(await p.send(header), "settled");
      });
      const [landed] = facilitator.settlements.filter((s) => s.payer?.toLowerCase() === p.buyer.evm.address.toLowerCase());
      assert.equal(settled!.payment.tx_hash, landed.transaction, "the transaction the facilitator sent");
      assert.deepEqual(await p.rows(), [{ status: "settled", tx_hash: landed.transaction }]);
      assert.equal(await p.paid(), PRICE);
      const again = await expectSettled(await p.send(header), "already_settled");
      assert.deepEqual(again.data, settled!.data);
      assert.equal(await p.paid(), PRICE);
      assert.equal(p.settlements(), 1);
    }
  });
});

/** Stops or restarts block production on the devchain's Base (ganache's miner_stop / miner_start). */
async function miner(action: "stop" | "start"): Promise<void> {
  await devchain.evm.publicClient.request({ method: `miner_${action}` } as never);
}

/** Calls `check` until it is true, a bounded number of times. */
async function until(what: string, check: () => Promise<boolean>, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`gave up waiting for ${what}`);
}

/** Replays the payment until the edit is no longer in progress (202), a bounded number of times. */
async function finished(p: Payer, header: string): Promise<Response> {
  for (let i = 0; i < 200; i++) {
    const response = await p.send(header);
    if (response.status !== 202) return response;
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return assert.fail("the edit never finished");
}

describe("devchain mode, where the gateway can ask the chain: the ledger follows what landed", () => {
  /** A paid edit on Base, completed and not yet settled (202 with RETOUCH_INLINE_WINDOW_MS=0). */
  async function completedEdit(): Promise<{ p: Payer; header: string }> {
    const p = await payer(local, "base");
    const header = await p.sign();
    const accepted = await p.send(header);
    assert.equal(accepted.status, 202, await accepted.text());
    await until("the edit to complete", async () => (await p.rows())[0]?.status === "completed");
    return { p, header };
  }

  /** After the stalled chain mined again: the replay finds the transfer that landed, and it is the only one. */
  async function expectLandedOnce(p: Payer, header: string): Promise<void> {
    await until("the pending transfer to be mined", async () => (await p.paid()) === PRICE);
    const settled = await expectSettled(await p.send(header), "settled");
    const receipt = await devchain.evm.publicClient.getTransactionReceipt({ hash: settled.payment.tx_hash as Hex });
    assert.equal(receipt.status, "success", "the tx hash is the transfer that landed");
    assert.deepEqual(await p.rows(), [{ status: "settled", tx_hash: settled.payment.tx_hash }]);
    assert.equal((await local.request(new URL(settled.data[0].url).pathname)).status, 200);
    const again = await expectSettled(await p.send(header), "already_settled");
    assert.equal(again.payment.tx_hash, settled.payment.tx_hash);
    assert.equal(await p.paid(), PRICE);
  }

  test("base: the chain stalls during settlement: 503 uncertain and nothing moved; once it mines, the replay is 200 with that transfer, charged once", async () => {
    const { p, header } = await completedEdit();
    await miner("stop");
    try {
      // The settlement is broadcast but not mined; the settle timeout (1.5 s) passes; the chain says
      // "not there, may still land": uncertain, and the answer says so.
      await expectUnconfirmed(await p.send(header));
      assert.deepEqual(await p.rows(), [{ status: "uncertain", tx_hash: null }]);
      assert.equal(await p.paid(), 0n);
    } finally {
      await miner("start");
    }
    await expectLandedOnce(p, header);
  });

  test(
    "base: a second try while the first broadcast is still pending is not told \"nothing was charged\"",
    async () => {
      const { p, header } = await completedEdit();
      await miner("stop");
      try {
        await expectUnconfirmed(await p.send(header));
        await expectUnconfirmed(await p.send(header));
        assert.deepEqual(await p.rows(), [{ status: "uncertain", tx_hash: null }]);
        assert.equal(await p.paid(), 0n);
      } finally {
        await miner("start");
      }
      await expectLandedOnce(p, header);
    },
  );

  test("base: the transfer landed but the gateway never heard (relayed by someone else): the facilitator refuses, the chain says landed: 200, charged once", async () => {
    const p = await payer(local, "base");
    const { header, payload } = await signV2(local, "base", EDIT, jsonInit(p.edit), p.buyer, devchain);
    const accepted = await p.send(header);
    assert.equal(accepted.status, 202, await accepted.text());

    // Anyone holding a signed EIP-3009 authorization can submit it; here the devchain's own buyer pays the gas.
    const { authorization, signature } = payload.payload as { authorization: Record<string, string>; signature: Hex };
    const relayer = createWalletClient({ account: devchain.wallets.buyer.evm, chain: devchain.evm.chain, transport: devchain.evm.transport });
    const hash = await relayer.writeContract({
      address: BASE.usdc.address,
      abi: USDC_ABI,
      functionName: "transferWithAuthorization",
      args: [
        authorization.from as Hex,
        authorization.to as Hex,
        BigInt(authorization.value),
        BigInt(authorization.validAfter),
        BigInt(authorization.validBefore),
        authorization.nonce as Hex,
        signature,
      ],
    });
    assert.equal((await devchain.evm.publicClient.waitForTransactionReceipt({ hash })).status, "success");
    assert.equal(await p.paid(), PRICE);

    const settled = await expectSettled(await finished(p, header), "settled");
    assert.equal(settled.payment.tx_hash, hash, "the transfer found on chain");
    assert.deepEqual(await p.rows(), [{ status: "settled", tx_hash: hash }]);
    assert.equal(await p.paid(), PRICE);
  });

  test("solana: the transfer landed but the gateway never heard (sent with the fee payer's signature): the chain says landed: 200, charged once", async () => {
    const p = await payer(local, "solana");
    const { header, payload } = await signV2(local, "solana", EDIT, jsonInit(p.edit), p.buyer, devchain);
    const accepted = await p.send(header);
    assert.equal(accepted.status, 202, await accepted.text());

    // What a facilitator does when it settles: co-sign as fee payer and send. Then its answer is lost.
    const wire = getBase64Encoder().encode(String((payload.payload as { transaction: string }).transaction));
    const transaction = await partiallySignTransaction([devchain.solana.facilitator.signer.keyPair], getTransactionDecoder().decode(wire));
    await devchain.solana.rpc.sendTransaction(getBase64EncodedWireTransaction(transaction), { encoding: "base64" }).send();
    const signature = getSignatureFromTransaction(transaction);
    assert.equal(await p.paid(), PRICE);

    const settled = await expectSettled(await finished(p, header), "settled");
    assert.equal(settled.payment.tx_hash, signature, "the transaction found on chain");
    assert.deepEqual(await p.rows(), [{ status: "settled", tx_hash: signature }]);
    assert.equal(await p.paid(), PRICE);
  });
});
