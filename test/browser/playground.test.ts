// The playground as a person meets it, in Chromium against a `retouch serve`
// process on the devchain: upload examples/photo.png, paint over the ball,
// get the price from the gateway's 402, pay with a dev wallet made in the page
// and funded by the faucet, and see the ball gone from the result's pixels;
// pay again from an injected EIP-1193 wallet and from a Wallet Standard Solana
// wallet (both the test's, over devchain keys; the page's wallet code is the
// real one) and find exactly the quote paid on chain; a request the API
// refuses shows its message; on a phone, touch paints. No console errors
// beyond the API's own 4xx answers. Screenshots go to RETOUCH_SCREENSHOTS
// (the README's come from here).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import sharp from "sharp";
import { BASE, SOLANA, type Wallet } from "../../src/chains/index.ts";
import { readBalance } from "../../src/client/balances.ts";
import { bundleForBrowser, launchChromium } from "../support/browser.ts";
import { readWalletFile, startGatewayProcess, type GatewayProcess } from "../support/processes.ts";
import { redPixelCount } from "../support/scene.ts";

const EXAMPLE = join(import.meta.dirname, "../../examples/photo.png");
const SCREENSHOTS = process.env.RETOUCH_SCREENSHOTS;
/** The API's own refusals, which Chromium logs as failed loads; anything else in the console is a defect. */
const EXPECTED_CONSOLE = /^Failed to load resource: the server responded with a status of (400|402) /;

interface Devchain {
  evm: { rpcUrl: string };
  solana: { rpcUrl: string };
}

let browser: Browser;
let gateway: GatewayProcess;
let devchain: Devchain;
let injectWallets: string;
let maskBox: { x0: number; y0: number; x1: number; y1: number };
const consoleProblems: string[] = [];

before(async () => {
  // First and alone: when Chromium is missing the suite fails at once, with no gateway process
  // left running that would keep this file (and the whole test run) from ever ending.
  browser = await launchChromium();
  [gateway, injectWallets, maskBox] = await Promise.all([
    startGatewayProcess({ RETOUCH_PAYMENTS: "devchain", RETOUCH_DEVCHAIN_EVM_PORT: "0", RETOUCH_DEVCHAIN_SOLANA_PORT: "0" }),
    bundleForBrowser(join(import.meta.dirname, "inject-wallets.ts")),
    ballBox(),
  ]);
  devchain = (await (await fetch(`${gateway.url}/api/v1/devchain`)).json()) as Devchain;
  if (SCREENSHOTS) await mkdir(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await gateway?.close();
});

/** Where the ball is in examples/photo.png: the white box of examples/mask.png. */
async function ballBox(): Promise<typeof maskBox> {
  const { data, info } = await sharp(join(import.meta.dirname, "../../examples/mask.png")).greyscale().raw().toBuffer({ resolveWithObject: true });
  const box = { x0: Infinity, y0: Infinity, x1: -1, y1: -1 };
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (data[y * info.width + x]! < 128) continue;
      box.x0 = Math.min(box.x0, x);
      box.y0 = Math.min(box.y0, y);
      box.x1 = Math.max(box.x1, x);
      box.y1 = Math.max(box.y1, y);
    }
  }
  return box;
}

async function openPlayground(options: { wallets?: { evmKey?: string; solanaSecretKey?: string }; phone?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(
    options.phone ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } : { viewport: { width: 1280, height: 900 } },
  );
  if (options.wallets) {
    await context.addInitScript({ content: `globalThis.__testWallets = ${JSON.stringify(options.wallets)};\n${injectWallets}` });
  }
  const page = await context.newPage();
  page.on("console", (message) => {
    if ((message.type() === "error" || message.type() === "warning") && !EXPECTED_CONSOLE.test(message.text())) consoleProblems.push(`${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => consoleProblems.push(`page error: ${error.message}`));
  await page.goto(`${gateway.url}/`);
  await page.waitForSelector("#model option:not([disabled])", { state: "attached" });
  return { context, page };
}

/** Uploads examples/photo.png through the file picker and paints over the ball with the mouse. */
async function uploadAndPaint(page: Page): Promise<void> {
  await page.setInputFiles("#file", EXAMPLE);
  await page.waitForSelector("#editor:not([hidden])");
  await page.locator("#brush-size").fill("60");
  const canvas = (await page.locator("#mask").boundingBox())!;
  const scale = canvas.width / 512;
  const at = (x: number, y: number) => ({ x: canvas.x + x * scale, y: canvas.y + y * scale });
  for (let y = maskBox.y0 - 4; y <= maskBox.y1 + 4; y += 12) {
    const from = at(maskBox.x0 - 10, y);
    const to = at(maskBox.x1 + 10, y);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 8 });
    await page.mouse.up();
  }
}

/** Picks the model, types the prompt, asks for the price; answers the quoted amount (atomic USDC) on `network`. */
async function quote(page: Page, network: "Base" | "Solana"): Promise<bigint> {
  await page.selectOption("#model", "local/content-aware-fill");
  await page.fill("#prompt", "remove the red ball");
  await page.getByRole("button", { name: "Get the price" }).click();
  await page.waitForSelector("#offer:not([hidden])");
  const shown = (await page.textContent("#price"))!;
  const match = new RegExp(`([\\d.]+) USDC on ${network}`).exec(shown);
  assert.ok(match, `the price names ${network}: ${shown}`);
  return BigInt(Math.round(Number(match[1]) * 1e6));
}

/** The result shown, once the page has it: its URL and the receipt's fields. */
async function result(page: Page): Promise<{ url: string; receipt: Record<string, string> }> {
  await page.waitForSelector("#result:not([hidden])", { timeout: 60_000 });
  const receipt = Object.fromEntries(
    await page.locator("#receipt code").evaluateAll((codes) => codes.map((code) => [(code as unknown as { dataset: { field: string } }).dataset.field, code.textContent ?? ""])),
  ) as Record<string, string>;
  return { url: receipt.url!, receipt };
}

async function redInBall(url: string): Promise<number> {
  const { data } = await sharp(Buffer.from(await (await fetch(url)).arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { data: mask } = await sharp(join(import.meta.dirname, "../../examples/mask.png")).greyscale().raw().toBuffer({ resolveWithObject: true });
  return redPixelCount(new Uint8Array(data), new Uint8Array(mask));
}

const walletIn = (file: string) => readWalletFile(join(gateway.dataDir, file));

const usdcOn = async (network: "base" | "solana", wallet: Wallet) =>
  (await readBalance({ network: network === "base" ? BASE : SOLANA, wallet, rpcUrl: network === "base" ? devchain.evm.rpcUrl : devchain.solana.rpcUrl })).usdc;

describe("the playground on a devchain gateway", () => {
  test("upload, paint over the ball, see the price, pay with a new dev wallet from the faucet: the ball is gone", async () => {
    const { context, page } = await openPlayground();
    const redBefore = await sharp(EXAMPLE).removeAlpha().raw().toBuffer().then(async (rgb) => {
      const { data: mask } = await sharp(join(import.meta.dirname, "../../examples/mask.png")).greyscale().raw().toBuffer({ resolveWithObject: true });
      return redPixelCount(new Uint8Array(rgb), new Uint8Array(mask));
    });
    await uploadAndPaint(page);
    const price = await quote(page, "Base");
    assert.equal(price, 1000n, "local/content-aware-fill costs $0.001");

    await page.getByRole("button", { name: "Create a dev wallet" }).click();
    await page.getByRole("button", { name: "Get 10 test USDC" }).click();
    const balance = page.locator("[data-role=dev-balance]");
    await balance.filter({ hasText: "Balance: 10 USDC" }).waitFor();
    const address = (await page.locator(".wallet code").first().textContent())!;
    await page.getByRole("button", { name: `Pay 0.001 USDC with the dev wallet` }).click();
    const { url, receipt } = await result(page);

    assert.ok(redBefore > 3000, `the ball is there before (${redBefore} red pixels)`);
    const redAfter = await redInBall(url);
    assert.ok(redAfter < redBefore * 0.02, `the ball is gone: ${redAfter} red pixels left of ${redBefore}`);
    assert.equal(receipt.payer?.toLowerCase(), address.toLowerCase());
    assert.match(receipt.transaction ?? "", /^0x[0-9a-f]{64}$/);
    assert.equal(await usdcOn("base", { evm: { address } } as Wallet), 10_000_000n - price, "the dev wallet paid the quote once");
    assert.equal(await page.locator("#history li").count(), 1, "the edit is in this browser's history");
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, "playground-desktop.jpg"), fullPage: true, type: "jpeg", quality: 70, scale: "css" });
    await context.close();
  });

  test("an injected EIP-1193 wallet (switched to Base by the page) pays exactly the quote", async () => {
    const wallet = await walletIn("dev-wallets.json");
    const seller = await walletIn("dev-seller.json");
    const [buyerBefore, sellerBefore] = [await usdcOn("base", wallet), await usdcOn("base", seller)];
    const { context, page } = await openPlayground({ wallets: { evmKey: wallet.keys.evm.privateKey } });
    await uploadAndPaint(page);
    const price = await quote(page, "Base");
    await page.getByRole("button", { name: `Pay 0.001 USDC with your browser wallet` }).click();
    const { url, receipt } = await result(page);
    assert.equal(receipt.payer?.toLowerCase(), wallet.evm.address.toLowerCase());
    assert.equal(buyerBefore - (await usdcOn("base", wallet)), price, "the buyer paid exactly the quote");
    assert.equal((await usdcOn("base", seller)) - sellerBefore, price, "the seller received it");
    assert.ok((await redInBall(url)) < 200);
    await context.close();
  });

  test("a Wallet Standard Solana wallet pays exactly the quote on Solana", async () => {
    const wallet = await walletIn("dev-wallets.json");
    const before = await usdcOn("solana", wallet);
    const { context, page } = await openPlayground({ wallets: { solanaSecretKey: wallet.keys.solana.secretKey } });
    await uploadAndPaint(page);
    const price = await quote(page, "Solana");
    await page.getByRole("button", { name: "Pay 0.001 USDC with Test Solana Wallet" }).click();
    const { receipt } = await result(page);
    assert.equal(receipt.payer, wallet.solana.address);
    assert.match(receipt.paid ?? "", /on Solana$/);
    assert.equal(before - (await usdcOn("solana", wallet)), price, "the Solana wallet paid exactly the quote");
    await context.close();
  });

  test("on a phone: touch paints, and a request the API refuses shows its message and the field", async () => {
    const { context, page } = await openPlayground({ phone: true });
    await page.getByRole("button", { name: "Use the example picture" }).tap();
    await page.waitForSelector("#editor:not([hidden])");
    await page.fill("#prompt", "remove the red ball");
    // No mask painted: the gateway refuses, and the page says why, naming the field.
    await page.getByRole("button", { name: "Get the price" }).tap();
    const error = page.locator("#error");
    await error.waitFor();
    assert.match((await error.textContent())!, /^mask: .*mask/i);
    assert.equal(await page.locator("#offer").isHidden(), true, "no price for a request that cannot run");

    await page.locator("#mask").scrollIntoViewIfNeeded();
    const canvas = (await page.locator("#mask").boundingBox())!;
    const scale = canvas.width / 512;
    await page.touchscreen.tap(canvas.x + ((maskBox.x0 + maskBox.x1) / 2) * scale, canvas.y + ((maskBox.y0 + maskBox.y1) / 2) * scale);
    await page.getByRole("button", { name: "Get the price" }).tap();
    await page.waitForSelector("#offer:not([hidden])");
    assert.equal(await error.isHidden(), true);
    const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
    assert.ok(width <= 390, `nothing overflows a phone's width (${width} px)`);
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, "playground-phone.jpg"), fullPage: true, type: "jpeg", quality: 70, scale: "css" });
    await context.close();
  });

  test("every control has a name a screen reader can say, and the keyboard reaches the file picker", async () => {
    const { context, page } = await openPlayground();
    for (let i = 0; i < 3; i++) await page.keyboard.press("Tab"); // the two header links, then the picker
    assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id), "file", "Tab reaches the file picker");
    await page.getByRole("button", { name: "Use the example picture" }).click();
    await page.waitForSelector("#editor:not([hidden])");
    const unnamed = await page.locator("input, select, textarea, button, canvas").evaluateAll((elements) =>
      elements
        .filter((element) => !(element as unknown as { closest(s: string): unknown }).closest("[hidden]"))
        .filter((element) => {
          const control = element as unknown as { labels?: { length: number } | null; getAttribute(n: string): string | null; textContent: string | null; title: string };
          return !((control.labels?.length ?? 0) > 0 || control.getAttribute("aria-label") || control.textContent?.trim() || control.title);
        })
        .map((element) => (element as unknown as { outerHTML: string }).outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);
    await context.close();
  });

  test("the page logged no errors", () => {
    assert.deepEqual(consoleProblems, []);
  });
});

describe("the playground with RETOUCH_PAYMENTS=off", () => {
  let free: GatewayProcess;
  before(async () => {
    free = await startGatewayProcess({ RETOUCH_PAYMENTS: "off" });
  });
  after(() => free?.close());

  test("has no wallet step: Edit runs it and shows the result", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${free.url}/`);
    await page.waitForSelector("#model option:not([disabled])", { state: "attached" });
    await uploadAndPaint(page);
    await page.selectOption("#model", "local/content-aware-fill");
    await page.fill("#prompt", "remove the red ball");
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    const { url, receipt } = await result(page);
    assert.equal(receipt.payer, undefined, "nothing was paid");
    assert.ok((await redInBall(url)) < 200);
    await context.close();
  });
});
