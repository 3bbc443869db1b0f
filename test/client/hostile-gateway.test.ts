// The buyer tools against a gateway that turns hostile after the quote: a poll that asks
// 0.99 USDC for another address, a sign-in challenge for another site, a new payment
// labelled `already_settled`, a result on another loopback port. Through `retouch proxy`
// (caps 0.01 per request, 0.05 per day) and `runEdit`: one signature (the quote's), the
// chain moves the quote and nothing more, the spend log holds that one signature, and
// the client is told why.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodePaymentSignatureHeader } from "@x402/core/http";
import { parseSIWxHeader, verifySIWxSignature } from "@x402/extensions/sign-in-with-x";
import sharp from "sharp";
import { runEdit } from "../../src/client/edit.ts";
import type { CliError } from "../../src/client/errors.ts";
import { listPending } from "../../src/client/pending.ts";
import { startProxy, type RunningProxy } from "../../src/client/proxy/index.ts";
import { makeScene, squareMask } from "../support/scene.ts";
import { startHttpGateway, type HttpGateway } from "./http-gateway.ts";
import { startHostileGateway, type HostileGateway, type HostileMode } from "./hostile-server.ts";

const PRICE = 1000n; // local/content-aware-fill: $0.001
const SIZE = 64;
const CAPS = { RETOUCH_MAX_PER_REQUEST: "0.01", RETOUCH_MAX_PER_DAY: "0.05" };

let dir: string;
let real: HttpGateway;
let hostile: HostileGateway;
let photo: string;
let mask: string;
let cases = 0;
const proxies: RunningProxy[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-hostile-"));
  real = await startHttpGateway();
  hostile = await startHostileGateway(real);
  const scene = makeScene({ width: SIZE, height: SIZE });
  photo = join(dir, "photo.png");
  mask = join(dir, "mask.png");
  await writeFile(photo, await sharp(scene.rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer());
  const maskPixels = squareMask(SIZE, SIZE, scene.disc.cx, scene.disc.cy, scene.disc.r * 2 + 6);
  await writeFile(mask, await sharp(maskPixels, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer());
});
after(async () => {
  for (const proxy of proxies) await proxy.close();
  await hostile.close();
  await real.close();
  await rm(dir, { recursive: true, force: true });
});

/** A fresh state folder (spend log, pending payments, images) for one case. */
function freshHome(): string {
  return join(dir, `home-${++cases}`);
}

async function balances(): Promise<{ buyer: bigint; thief: bigint }> {
  const devchain = real.gw.gateway.devchain!;
  return { buyer: await devchain.usdcBalance("base", devchain.wallets.buyer.evm.address), thief: await devchain.usdcBalance("base", hostile.thief) };
}

async function spendLog(home: string): Promise<Record<string, string>[]> {
  const text = await readFile(join(home, "spend.jsonl"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

async function proxyFor(home: string, env: Record<string, string> = CAPS): Promise<RunningProxy> {
  const proxy = await startProxy({
    port: 0,
    gateway: hostile.url,
    wallet: real.buyerWallet,
    network: "base",
    baseRpc: real.baseRpc,
    env: { RETOUCH_HOME: home, ...env },
    pollIntervalMs: 5,
  });
  proxies.push(proxy);
  return proxy;
}

interface ProxyAnswer {
  error?: { message: string; code: string };
  payment?: { status: string };
  data?: { url: string }[];
}

async function editThroughProxy(proxy: RunningProxy): Promise<{ status: number; body: ProxyAnswer }> {
  const response = await fetch(`${proxy.url}/v1/images/image2image`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "local/content-aware-fill", prompt: "remove the ball", image: photo, mask }),
  });
  return { status: response.status, body: (await response.json()) as ProxyAnswer };
}

function editThroughCli(home: string): Promise<unknown> {
  return runEdit({
    image: [photo],
    mask,
    model: "local/content-aware-fill",
    prompt: "remove the ball",
    network: "base",
    out: join(home, "out"),
    gateway: hostile.url,
    wallet: real.buyerWallet,
    baseRpc: real.baseRpc,
    env: { RETOUCH_HOME: home, ...CAPS },
    print: () => {},
  });
}

/** Exactly one signature, for the quote: one header received, the quote settled once, one spend log line for it. */
async function assertPaidOnlyTheQuote(home: string, start: { buyer: bigint; thief: bigint }, tool: string): Promise<void> {
  const now = await balances();
  assert.equal(now.thief, start.thief, "nothing reached the other address");
  assert.equal(start.buyer - now.buyer, PRICE, "the buyer paid the quote and nothing more");
  assert.equal(hostile.payments.length, 1, "one payment header: the quote's");
  assert.equal(hostile.pollPayments.length, 0, "no payment header on any poll");
  const signed = decodePaymentSignatureHeader(hostile.payments[0]);
  assert.equal(signed.accepted.amount, PRICE.toString());
  assert.notEqual(signed.accepted.payTo.toLowerCase(), hostile.thief.toLowerCase());
  const logged = await spendLog(home);
  assert.equal(logged.length, 1, "the spend log holds the one signature");
  assert.deepEqual([logged[0].tool, logged[0].amount, logged[0].pay_to], [tool, PRICE.toString(), signed.accepted.payTo]);
}

function refused(pattern: RegExp) {
  return (error: CliError) => {
    assert.match(error.message, pattern);
    return true;
  };
}

describe("a gateway that asks for a payment on the poll", () => {
  const askPattern = () =>
    new RegExp(`the gateway ${hostile.url} asks for a payment to poll job job_\\w+ \\(0\\.99 USDC to ${hostile.thief} on base\\); retouch never pays to poll.*retouch edit --resume`);

  test("through retouch proxy: 502 poll_refused naming the gateway and the ask; the payment stays pending", async () => {
    hostile.reset("poll-asks-payment");
    const home = freshHome();
    const proxy = await proxyFor(home);
    const start = await balances();
    const { status, body } = await editThroughProxy(proxy);
    assert.equal(status, 502, JSON.stringify(body));
    assert.equal(body.error?.code, "poll_refused");
    assert.match(body.error!.message, askPattern());
    await assertPaidOnlyTheQuote(home, start, "proxy");
    const pending = await listPending(join(home, "pending"));
    assert.deepEqual(
      pending.map((p) => p.payment),
      hostile.payments,
      "the signed payment is kept for --resume",
    );
  });

  test("through runEdit: refused with the same explanation, nothing signed for the poll", async () => {
    hostile.reset("poll-asks-payment");
    const home = freshHome();
    const start = await balances();
    await assert.rejects(editThroughCli(home), refused(askPattern()));
    await assertPaidOnlyTheQuote(home, start, "edit");
  });

  test("a sign-in that the poll answers with a payment ask: signed in (SIWE, for this gateway and job) twice, paid nothing more", async () => {
    hostile.reset("siwx-then-asks");
    const home = freshHome();
    const start = await balances();
    await assert.rejects(editThroughCli(home), refused(new RegExp(`refused the wallet's sign-in to poll job job_\\w+ twice \\(0\\.99 USDC to ${hostile.thief}`)));
    await assertPaidOnlyTheQuote(home, start, "edit");
    assert.equal(hostile.signIns.length, 2);
    for (const header of hostile.signIns) {
      const proof = parseSIWxHeader(header);
      assert.deepEqual([proof.domain, proof.uri, proof.chainId], [new URL(hostile.url).host, hostile.pollUrl, "eip155:8453"]);
      const verdict = await verifySIWxSignature(proof);
      assert.ok(verdict.isValid && verdict.payer.toLowerCase() === real.gw.gateway.devchain!.wallets.buyer.evm.address.toLowerCase(), "signed by the paying wallet");
    }
  });

  test("a sign-in challenge bound to another site is not signed", async () => {
    hostile.reset("siwx-foreign");
    const home = freshHome();
    const proxy = await proxyFor(home);
    const start = await balances();
    const { status, body } = await editThroughProxy(proxy);
    assert.equal(status, 502, JSON.stringify(body));
    assert.match(body.error!.message, new RegExp(`the gateway ${hostile.url} asked to sign in for job job_\\w+, but its sign-in challenge is for another site`));
    assert.equal(hostile.signIns.length, 0, "nothing signed");
    await assertPaidOnlyTheQuote(home, start, "proxy");
  });
});

describe("a gateway that labels a new payment already_settled", () => {
  test("the signature is counted anyway: the daily cap sees it", async () => {
    hostile.reset("already-settled");
    const home = freshHome();
    const proxy = await proxyFor(home);
    const start = await balances();
    const { status, body } = await editThroughProxy(proxy);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.payment?.status, "already_settled");
    assert.equal((await fetch(body.data![0].url)).status, 200, "the result was fetched from the gateway's own origin");
    await assertPaidOnlyTheQuote(home, start, "proxy");

    const capped = await proxyFor(home, { ...CAPS, RETOUCH_MAX_PER_DAY: "0.0015" });
    const second = await editThroughProxy(capped);
    assert.equal(second.status, 402);
    assert.equal(second.body.error?.code, "max_per_day");
    assert.match(second.body.error!.message, /\$0\.001 was spent today/);
    assert.equal(hostile.payments.length, 1, "nothing signed over the cap");
    assert.equal(start.buyer - (await balances()).buyer, PRICE);
  });
});

describe("a gateway whose result URL points at another loopback port", () => {
  for (const tool of ["proxy", "edit"] as const) {
    test(`${tool}: the URL is never fetched, and the client is told why`, async () => {
      hostile.reset("foreign-result" satisfies HostileMode);
      const home = freshHome();
      const start = await balances();
      const message = new RegExp(`the gateway ${hostile.url} answered with a result on another site \\(${hostile.trapUrl}\\)`);
      if (tool === "proxy") {
        const { status, body } = await editThroughProxy(await proxyFor(home));
        assert.equal(status, 502, JSON.stringify(body));
        assert.match(body.error!.message, message);
      } else {
        await assert.rejects(editThroughCli(home), refused(message));
      }
      assert.equal(hostile.trapHits, 0, "the other port got no request");
      await assertPaidOnlyTheQuote(home, start, tool);
    });
  }
});
