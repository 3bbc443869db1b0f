// RETOUCH_FACILITATOR=cdp against a loopback stand-in for Coinbase's CDP facilitator
// that checks every call's JWT as CDP does (signature of the seller's key, the call's
// method and path in `uris`, a short life) and behind that really settles on the devchain.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFacilitatorConfig } from "@coinbase/x402";
import { generateKeyPairSigner } from "@solana/kit";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startTestDevchain, type TestDevchain } from "../src/chains/devchain/testing.ts";
import { NETWORKS } from "../src/chains/index.ts";
import { ConfigError } from "../src/config.ts";
import { payingFetch } from "./support/buyer.ts";
import { runCli } from "./client/cli.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { startTestFacilitator, verifiedJwt, type RequestGuard, type TestFacilitator } from "./support/facilitator.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { testBuyer } from "./support/test-buyer.ts";

const EDIT = "/api/v1/images/image2image";
const PRICE = 1000n; // local/content-aware-fill: $0.001
const CDP_PATH = "/platform/v2/x402";
const KEY_ID = "organizations/7d3f0c1e-test/apiKeys/1b2c3d4e-test";

/** A CDP secret API key as the portal hands it out: an EC P-256 private key, PKCS#8 PEM. */
function cdpKey(): { secret: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { secret: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), publicKey };
}

/**
 * Set while a test plays the key revoked in CDP's portal (401), or left without the facilitator's
 * permission (403): every call is refused with that status.
 */
let revoked: false | 401 | 403 = false;

/** Set while a test plays a facilitator whose /supported lists other kinds than it really pays. */
let supportedAnswer: object | undefined;

/** What CDP checks on each call; `seen` collects the calls that passed. */
function cdpAuth(publicKey: KeyObject, seen: string[]): RequestGuard {
  return (request) => {
    const call = `${request.method} ${new URL(request.url).pathname}`;
    if (revoked) return Response.json({ errorType: "unauthorized", errorMessage: "the API key was revoked" }, { status: revoked });
    try {
      const { header, claims } = verifiedJwt(request.headers.get("authorization"), publicKey);
      const now = Math.floor(Date.now() / 1000);
      assert.equal(header.kid, KEY_ID, "kid");
      assert.equal(claims.sub, KEY_ID, "sub");
      assert.equal(claims.iss, "cdp", "iss");
      // The host is CDP's own whatever URL the call went to.
      assert.deepEqual(claims.uris, [`${request.method} api.cdp.coinbase.com${new URL(request.url).pathname}`], "uris");
      assert.ok(typeof claims.exp === "number" && typeof claims.nbf === "number", "exp and nbf");
      assert.ok(claims.exp > now && claims.nbf <= now + 5, "expired or not yet valid");
      assert.ok(claims.exp - claims.nbf <= 180, "lives longer than 3 minutes");
    } catch (error) {
      return Response.json({ errorType: "unauthorized", errorMessage: (error as Error).message }, { status: 401 });
    }
    seen.push(call);
    if (supportedAnswer && call === `GET ${CDP_PATH}/supported`) return Response.json(supportedAnswer);
    return undefined;
  };
}

let chain: TestDevchain;
let facilitator: TestFacilitator;
let gw: TestGateway;
const key = cdpKey();
const seen: string[] = [];
let remote: Record<string, string>;

before(async () => {
  chain = await startTestDevchain();
  facilitator = await startTestFacilitator(chain.devchain, { basePath: CDP_PATH, guard: cdpAuth(key.publicKey, seen) });
  const seller = { evm: privateKeyToAccount(generatePrivateKey()).address, solana: (await generateKeyPairSigner()).address };
  await chain.devchain.fundUsdc("solana", seller.solana, 0n);
  remote = {
    RETOUCH_PAYMENTS: "remote",
    RETOUCH_FACILITATOR: "cdp",
    FACILITATOR_URL: facilitator.url,
    RETOUCH_NETWORKS: "base,solana",
    RETOUCH_PAY_TO_EVM: seller.evm,
    RETOUCH_PAY_TO_SOLANA: seller.solana,
  };
  gw = await startTestGateway({ ...remote, CDP_API_KEY_ID: KEY_ID, CDP_API_KEY_SECRET: key.secret });
});
after(async () => {
  await gw?.close();
  await facilitator?.close();
  await chain?.dispose();
});

test("the stand-in refuses (401) a call without CDP's JWT for exactly that call and key", async () => {
  const headers = await createFacilitatorConfig(KEY_ID, key.secret).createAuthHeaders!();
  const other = await createFacilitatorConfig(KEY_ID, cdpKey().secret).createAuthHeaders!();
  const supported = (init: Record<string, string> = {}) => fetch(`${facilitator.url}/supported`, { headers: init });
  assert.equal((await supported()).status, 401, "no token");
  assert.equal((await supported(headers.verify)).status, 401, "the token for POST /verify");
  assert.equal((await supported(other.supported)).status, 401, "signed by another key");
  assert.equal((await supported(headers.supported)).status, 200);
});

for (const network of ["base", "solana"] as const) {
  test(`${network}: a gateway with RETOUCH_FACILITATOR=cdp is paid end to end, each call signed for itself`, async () => {
    const buyer = await testBuyer(gw, chain.devchain);
    seen.length = 0;
    const edit = await sceneEdit(128, `remove the ball (${buyer.address(network)})`);
    const response = await payingFetch(gw, network, buyer.wallet, chain.devchain)(`${gw.config.publicUrl}${EDIT}`, jsonInit(edit));
    const body = (await response.json()) as { payment: { status: string } };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.payment.status, "settled");
    assert.equal(await buyer.paid(network), PRICE);
    assert.deepEqual(seen, [`POST ${CDP_PATH}/verify`, `POST ${CDP_PATH}/settle`]);
    assert.equal(facilitator.settlements.at(-1)?.payer?.toLowerCase(), buyer.address(network).toLowerCase());
  });
}

for (const status of [401, 403] as const) {
  test(`a key revoked while the gateway runs (${status}): the paid edit is a 502 and charges nothing; the log names the variables to check`, async () => {
    const buyer = await testBuyer(gw, chain.devchain);
    const edit = await sceneEdit(128, `remove the ball (${buyer.address("base")}, revoked ${status})`);
    revoked = status;
    try {
      const response = await payingFetch(gw, "base", buyer.wallet, chain.devchain)(`${gw.config.publicUrl}${EDIT}`, jsonInit(edit));
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, 502, JSON.stringify(body));
      assert.equal(body.error.code, "facilitator_unavailable");
      assert.doesNotMatch(body.error.message, /CDP_API_KEY/, "the buyer is not told about the seller's keys");
    } finally {
      revoked = false;
    }
    assert.equal(await buyer.paid("base"), 0n);
    assert.match(gw.logs.join(""), new RegExp(`the CDP facilitator refused the API key \\(${status}\\): check CDP_API_KEY_ID and CDP_API_KEY_SECRET`));
  });
}

test("the key is nowhere in the gateway's log", () => {
  const log = gw.logs.join("");
  assert.ok(log.length > 0);
  for (const line of key.secret.split("\n").filter((l) => l.length > 20)) assert.ok(!log.includes(line));
});

test("start-up refuses in one line a network the facilitator does not pay on, and a key the SDK cannot sign with", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-cdp-"));
  const keys = { CDP_API_KEY_ID: KEY_ID, CDP_API_KEY_SECRET: key.secret };
  const refusal = (message: string) => (error: unknown) => error instanceof ConfigError && error.message === message;
  try {
    await assert.rejects(
      startTestGateway({ ...remote, ...keys, RETOUCH_NETWORKS: "base,base-sepolia" }, dataDir),
      refusal(
        `the CDP facilitator at ${facilitator.url} does not support exact payments on base-sepolia (eip155:84532): check RETOUCH_NETWORKS and RETOUCH_FACILITATOR`,
      ),
    );
    await assert.rejects(
      startTestGateway({ ...remote, ...keys, CDP_API_KEY_SECRET: "not-a-key" }, dataDir),
      refusal("CDP_API_KEY_SECRET is not a key the CDP SDK can sign with: it takes the EC P-256 PEM or the base64 Ed25519 key of a CDP secret API key"),
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("start-up refuses a network the facilitator lists only for x402 v1, or only for another scheme than exact", async () => {
  const headers = await createFacilitatorConfig(KEY_ID, key.secret).createAuthHeaders!();
  type Kind = { x402Version: number; scheme: string; network: string };
  const real = (await (await fetch(`${facilitator.url}/supported`, { headers: headers.supported })).json()) as { kinds: Kind[] };
  const base = NETWORKS.base.caip2;
  assert.ok(real.kinds.some((kind) => kind.x402Version === 2 && kind.scheme === "exact" && kind.network === base));
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-cdp-"));
  const keys = { CDP_API_KEY_ID: KEY_ID, CDP_API_KEY_SECRET: key.secret };
  try {
    for (const change of [{ x402Version: 1 }, { scheme: "upto" }]) {
      supportedAnswer = { ...real, kinds: real.kinds.map((kind) => (kind.network === base ? { ...kind, ...change } : kind)) };
      await assert.rejects(
        startTestGateway({ ...remote, ...keys, RETOUCH_NETWORKS: "base" }, dataDir),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message === `the CDP facilitator at ${facilitator.url} does not support exact payments on base (${base}): check RETOUCH_NETWORKS and RETOUCH_FACILITATOR`,
        JSON.stringify(change),
      );
    }
  } finally {
    supportedAnswer = undefined;
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("wrong keys: `retouch serve` stops at start-up with one line naming the variables (exit 2), the key nowhere", { timeout: 120_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-cdp-"));
  try {
    const wrong = cdpKey().secret;
    const run = await runCli(["serve"], { ...remote, PORT: "0", RETOUCH_DATA_DIR: dataDir, RETOUCH_ENGINE_THREADS: "1", CDP_API_KEY_ID: KEY_ID, CDP_API_KEY_SECRET: wrong });
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr, "retouch: configuration error: the CDP facilitator refused the API key (401): check CDP_API_KEY_ID and CDP_API_KEY_SECRET\n");
    for (const line of wrong.split("\n").filter((l) => l.length > 20)) assert.ok(!`${run.stdout}${run.stderr}`.includes(line));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
