// A web app on another site pays for an edit in Chromium: its page (another
// loopback port, so another origin) runs x402's own browser client against a
// `retouch serve` process in devchain mode, reads the 402's offer, pays, reads
// PAYMENT-RESPONSE and the result image; USDC moves on the devchain. A gateway
// whose RETOUCH_CORS_ORIGINS names another origin is refused by the browser
// before anything is sent, and serves the origin it names.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { BASE, type Wallet } from "../../src/chains/index.ts";
import { readBalance } from "../../src/client/balances.ts";
import { bundleForBrowser, launchChromium, servePage, type PageSite } from "../support/browser.ts";
import { sceneEdit } from "../support/edit-input.ts";
import { readWalletFile, startGatewayProcess, type GatewayProcess } from "../support/processes.ts";
import type { PageRun } from "./pay-page.ts";

interface Devchain {
  evm: { rpcUrl: string; chainId: number };
}

let browser: Browser;
let site: PageSite;
let script: string;

before(async () => {
  [browser, script] = await Promise.all([launchChromium(), bundleForBrowser(join(import.meta.dirname, "pay-page.ts"))]);
  site = await servePage(script);
});
after(async () => {
  await browser?.close();
  await site?.close();
});

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => "retouchPage" in globalThis);
  return page;
}

function runInPage(page: Page, options: { gateway: string; key: string; chainId: number; edit: unknown; pay: boolean }): Promise<PageRun> {
  return page.evaluate((args) => (globalThis as unknown as { retouchPage: { payForEdit(a: typeof args): Promise<PageRun> } }).retouchPage.payForEdit(args), options);
}

describe("a page on another origin pays a gateway open to any origin (RETOUCH_CORS_ORIGINS unset)", () => {
  let gateway: GatewayProcess;
  let devchain: Devchain;
  before(async () => {
    gateway = await startGatewayProcess({ RETOUCH_PAYMENTS: "devchain", RETOUCH_DEVCHAIN_EVM_PORT: "0", RETOUCH_DEVCHAIN_SOLANA_PORT: "0" });
    devchain = (await (await fetch(`${gateway.url}/api/v1/devchain`)).json()) as Devchain;
  });
  after(() => gateway?.close());

  test("x402's fetch in Chromium reads the 402, pays from the wallet, gets the image and reads PAYMENT-RESPONSE; USDC moves once", async () => {
    const [buyer, seller] = await Promise.all([readWalletFile(join(gateway.dataDir, "dev-wallets.json")), readWalletFile(join(gateway.dataDir, "dev-seller.json"))]);
    const usdc = async (wallet: Wallet) => (await readBalance({ network: BASE, wallet, rpcUrl: devchain.evm.rpcUrl })).usdc;
    const [buyerBefore, sellerBefore] = [await usdc(buyer), await usdc(seller)];
    const page = await openPage(site.url);
    const run = await runInPage(page, {
      gateway: gateway.url,
      key: buyer.keys.evm.privateKey,
      chainId: devchain.evm.chainId,
      edit: await sceneEdit(128, "remove the ball (from another site)"),
      pay: true,
    });
    assert.equal(run.error, undefined, JSON.stringify(run));
    assert.deepEqual(
      run.answers.map((answer) => answer.status),
      [402, 200],
      "one quote, one paid edit",
    );
    const offer = JSON.parse(Buffer.from(run.answers[0]!.paymentRequired!, "base64").toString()) as { accepts: { network: string; amount: string }[] };
    const price = BigInt(offer.accepts.find((accept) => accept.network === BASE.caip2)!.amount);
    assert.ok(run.answers.every((answer) => answer.requestId), "the page reads X-Request-Id on each answer");
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.equal(run.settlement?.success, true, "the page read PAYMENT-RESPONSE");
    assert.equal(run.settlement?.network, BASE.caip2);
    assert.match(run.settlement!.transaction, /^0x[0-9a-f]{64}$/);
    assert.deepEqual(run.image?.head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "the page fetched the PNG result");
    assert.ok(run.image!.bytes > 1000);
    assert.equal(buyerBefore - (await usdc(buyer)), price, "the buyer paid the quoted price once");
    assert.equal((await usdc(seller)) - sellerBefore, price, "the seller received it");
    await page.close();
  });
});

describe("a gateway whose RETOUCH_CORS_ORIGINS names another origin", () => {
  let gateway: GatewayProcess;
  before(async () => {
    // The listed origin is the same page server under the name localhost: another origin to the browser.
    gateway = await startGatewayProcess({ RETOUCH_PAYMENTS: "off", RETOUCH_CORS_ORIGINS: `http://localhost:${site.port}` });
  });
  after(() => gateway?.close());

  test("is refused by the browser before the edit is sent; the listed origin is served", async () => {
    const edit = await sceneEdit(64, "remove the ball (refused)");
    const messages: string[] = [];
    const page = await openPage(site.url);
    page.on("console", (message) => messages.push(message.text()));
    const refused = await runInPage(page, { gateway: gateway.url, key: `0x${"11".repeat(32)}`, chainId: 8453, edit, pay: false });
    assert.match(refused.error ?? "", /^TypeError: Failed to fetch/, JSON.stringify(refused));
    assert.deepEqual(refused.answers, [], "the page saw no answer");
    assert.ok(messages.some((text) => /blocked by CORS policy/.test(text)), messages.join("\n"));
    assert.deepEqual(await readdir(join(gateway.dataDir, "files")).catch(() => []), [], "the preflight failed, so no edit ran");
    await page.close();

    const listed = await openPage(`http://localhost:${site.port}/`);
    const served = await runInPage(listed, { gateway: gateway.url, key: `0x${"11".repeat(32)}`, chainId: 8453, edit, pay: false });
    assert.equal(served.error, undefined, JSON.stringify(served));
    assert.equal(served.status, 200, JSON.stringify(served.body));
    assert.deepEqual(served.image?.head.slice(1, 4), [0x50, 0x4e, 0x47]);
    await listed.close();
  });
});
