// RETOUCH_FACILITATOR=payai against a loopback stand-in for PayAI's facilitator that
// checks the bearer JWT as PayAI documents it (EdDSA by the merchant's key, kid/sub the
// key id, iss payai-merchant, a short life) and behind that really settles on the devchain.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clearJwtCache, createPayAIAuthHeaders } from "@payai/facilitator";
import { generateKeyPairSigner } from "@solana/kit";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startTestDevchain, type TestDevchain } from "../src/chains/devchain/testing.ts";
import { ConfigError } from "../src/config.ts";
import { payingFetch } from "./support/buyer.ts";
import { runCli } from "./client/cli.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { startTestFacilitator, verifiedJwt, type RequestGuard, type TestFacilitator } from "./support/facilitator.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { testBuyer } from "./support/test-buyer.ts";

const EDIT = "/api/v1/images/image2image";
const PRICE = 1000n; // local/content-aware-fill: $0.001

/** A PayAI API key as the merchant portal shows it: an id and an Ed25519 PKCS#8 DER key, base64, prefixed. */
function payaiKey(id: string): { id: string; secret: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { id, secret: `payai_sk_${privateKey.export({ type: "pkcs8", format: "der" }).toString("base64")}`, publicKey };
}

/** What PayAI checks on each call; `seen` collects the calls that passed. */
function payaiAuth(key: { id: string; publicKey: KeyObject }, seen: string[]): RequestGuard {
  return (request) => {
    try {
      const { header, claims } = verifiedJwt(request.headers.get("authorization"), key.publicKey);
      const now = Math.floor(Date.now() / 1000);
      assert.equal(header.alg, "EdDSA", "alg");
      assert.equal(header.kid, key.id, "kid");
      assert.equal(claims.sub, key.id, "sub");
      assert.equal(claims.iss, "payai-merchant", "iss");
      assert.ok(typeof claims.exp === "number" && typeof claims.iat === "number", "exp and iat");
      assert.ok(claims.exp > now, "expired");
      assert.ok(claims.exp - claims.iat <= 180, "lives longer than 3 minutes");
    } catch (error) {
      return Response.json({ error: "unauthorized", message: (error as Error).message }, { status: 401 });
    }
    seen.push(`${request.method} ${new URL(request.url).pathname}`);
    return undefined;
  };
}

let chain: TestDevchain;
let guarded: TestFacilitator;
let freeTier: TestFacilitator;
let gw: TestGateway;
const key = payaiKey("payai-test-key-1");
const seen: string[] = [];
/** The Authorization header of each call the free-tier stand-in received ("" when there was none). */
const freeTierAuth: string[] = [];
let remote: Record<string, string>;

before(async () => {
  chain = await startTestDevchain();
  guarded = await startTestFacilitator(chain.devchain, { guard: payaiAuth(key, seen) });
  freeTier = await startTestFacilitator(chain.devchain, {
    guard: (request) => void freeTierAuth.push(request.headers.get("authorization") ?? ""),
  });
  const seller = { evm: privateKeyToAccount(generatePrivateKey()).address, solana: (await generateKeyPairSigner()).address };
  await chain.devchain.fundUsdc("solana", seller.solana, 0n);
  remote = {
    RETOUCH_PAYMENTS: "remote",
    RETOUCH_FACILITATOR: "payai",
    RETOUCH_NETWORKS: "base,solana",
    RETOUCH_PAY_TO_EVM: seller.evm,
    RETOUCH_PAY_TO_SOLANA: seller.solana,
  };
  // PAYAI_FACILITATOR_URL, the package's own variable, points it at the stand-in.
  gw = await startTestGateway({ ...remote, PAYAI_FACILITATOR_URL: guarded.url, PAYAI_API_KEY_ID: key.id, PAYAI_API_KEY_SECRET: key.secret });
});
after(async () => {
  await gw?.close();
  await Promise.all([guarded?.close(), freeTier?.close()]);
  await chain?.dispose();
});

test("the stand-in refuses (401) a call without PayAI's JWT for that key", async () => {
  const supported = (init: Record<string, string> = {}) => fetch(`${guarded.url}/supported`, { headers: init });
  // The package caches one token per key id: cleared so that each token here is signed by the key named.
  const token = async (secret: string) => {
    clearJwtCache(key.id);
    return (await createPayAIAuthHeaders(key.id, secret)()).supported;
  };
  assert.equal((await supported()).status, 401, "no token");
  assert.equal((await supported(await token(payaiKey(key.id).secret))).status, 401, "signed by another key");
  assert.equal((await supported(await token(key.secret))).status, 200);
});

for (const network of ["base", "solana"] as const) {
  test(`${network}: a gateway with RETOUCH_FACILITATOR=payai is paid end to end with its API key`, async () => {
    const buyer = await testBuyer(gw, chain.devchain);
    seen.length = 0;
    const edit = await sceneEdit(128, `remove the ball (${buyer.address(network)})`);
    const response = await payingFetch(gw, network, buyer.wallet, chain.devchain)(`${gw.config.publicUrl}${EDIT}`, jsonInit(edit));
    const body = (await response.json()) as { payment: { status: string } };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.payment.status, "settled");
    assert.equal(await buyer.paid(network), PRICE);
    assert.deepEqual(seen, ["POST /verify", "POST /settle"]);
  });
}

test("the key is nowhere in the gateway's log, and a keyed gateway says nothing of the free tier", () => {
  const log = gw.logs.join("");
  assert.ok(log.length > 0);
  assert.ok(!log.includes(key.secret.slice("payai_sk_".length)));
  assert.doesNotMatch(log, /free tier/);
});

test("without keys: PayAI's free tier, said once at start-up; a facilitator that wants a key stops start-up saying which", async () => {
  const free = await startTestGateway({ ...remote, FACILITATOR_URL: freeTier.url });
  try {
    const notices = free.logs.filter((line) => line.includes("free tier"));
    assert.equal(notices.length, 1, free.logs.join(""));
    assert.match(notices[0], /"level":40/);
    assert.equal(free.gateway.rail?.networks.length, 2);
    // The start-up's /supported went out with no credentials at all (not an empty or made-up token).
    assert.ok(freeTierAuth.length > 0);
    assert.deepEqual(new Set(freeTierAuth), new Set([""]));
  } finally {
    await free.close();
  }
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-payai-"));
  try {
    await assert.rejects(
      startTestGateway({ ...remote, FACILITATOR_URL: guarded.url }, dataDir),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message === "the PayAI facilitator refused a request without an API key (401): set PAYAI_API_KEY_ID and PAYAI_API_KEY_SECRET",
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("a secret that is not a PayAI key stops start-up saying what PAYAI_API_KEY_SECRET takes", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-payai-"));
  const secret = "payai_sk_bm90LWEta2V5LWF0LWFsbA";
  try {
    // Another key id: the package caches one token per id, and this process already holds one for key.id.
    await assert.rejects(
      startTestGateway({ ...remote, PAYAI_FACILITATOR_URL: guarded.url, PAYAI_API_KEY_ID: "payai-test-key-2", PAYAI_API_KEY_SECRET: secret }, dataDir),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message ===
          "PAYAI_API_KEY_SECRET is not a key PayAI can sign with: it takes the base64 Ed25519 PKCS#8 key (payai_sk_...) of a PayAI API key",
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("wrong keys: `retouch serve` stops at start-up with one line naming the variables (exit 2), the key nowhere", { timeout: 120_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-payai-"));
  try {
    const wrong = payaiKey(key.id);
    const run = await runCli(["serve"], {
      ...remote,
      PORT: "0",
      RETOUCH_DATA_DIR: dataDir,
      RETOUCH_ENGINE_THREADS: "1",
      PAYAI_FACILITATOR_URL: guarded.url,
      PAYAI_API_KEY_ID: wrong.id,
      PAYAI_API_KEY_SECRET: wrong.secret,
    });
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr, "retouch: configuration error: the PayAI facilitator refused the API key (401): check PAYAI_API_KEY_ID and PAYAI_API_KEY_SECRET\n");
    assert.ok(!`${run.stdout}${run.stderr}`.includes(wrong.secret.slice("payai_sk_".length)));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
