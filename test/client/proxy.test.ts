// `retouch proxy` end to end on a devchain gateway over real HTTP: the OpenAI SDK and
// the seed JSON through the proxy, the USDC that moved on chain, the caps that move none.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import sharp from "sharp";
import { startProxy, type RunningProxy } from "../../src/client/proxy/index.ts";
import { makeScene, redPixelCount, squareMask } from "../support/scene.ts";
import { startHttpGateway, type HttpGateway } from "./http-gateway.ts";

const PRICE = 1000n; // local/content-aware-fill: $0.001
const SIZE = 96;
const MODEL = "local/content-aware-fill";

let dir: string;
let http: HttpGateway;
let photo: string;
let mask: string;
const running: RunningProxy[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-proxy-"));
  http = await startHttpGateway();
  const scene = makeScene({ width: SIZE, height: SIZE });
  photo = join(dir, "photo.png");
  mask = join(dir, "mask.png");
  await writeFile(photo, await sharp(scene.rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer());
  const maskPixels = squareMask(SIZE, SIZE, scene.disc.cx, scene.disc.cy, scene.disc.r * 2 + 8);
  await writeFile(mask, await sharp(maskPixels, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer());
});
after(async () => {
  for (const proxy of running) await proxy.close();
  await http.close();
  await rm(dir, { recursive: true, force: true });
});

async function proxyWith(env: Record<string, string> = {}, gateway = http.url): Promise<RunningProxy> {
  const proxy = await startProxy({
    port: 0,
    gateway,
    wallet: http.buyerWallet,
    baseRpc: http.baseRpc,
    solanaRpc: http.solanaRpc,
    env: { RETOUCH_HOME: join(dir, "home"), RETOUCH_IMAGE_DIR: join(dir, "images"), RETOUCH_SPEND_LOG: join(dir, "spend.jsonl"), ...env },
  });
  running.push(proxy);
  return proxy;
}

async function paidSoFar(): Promise<bigint> {
  const devchain = http.gw.gateway.devchain!;
  const buyer = devchain.wallets.buyer;
  return (await devchain.usdcBalance("base", buyer.evm.address)) + (await devchain.usdcBalance("solana", buyer.solana.address));
}

function seedEdit(proxy: RunningProxy, body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${proxy.url}/v1/images/image2image`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, prompt: "remove the red ball", image: photo, mask, ...body }),
  });
}

async function assertNoRed(url: string, proxy: RunningProxy): Promise<void> {
  assert.ok(url.startsWith(`${proxy.url}/images/retouch-content-aware-fill-`), url);
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "image/png");
  const { data, info } = await sharp(Buffer.from(await response.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [SIZE, SIZE]);
  assert.equal(redPixelCount(data), 0, "no red left");
}

interface ProxyBody {
  data: { url: string }[];
  price: { amount: string };
  payment: { status: string };
  error: { message: string; code: string; param: string | null };
}

const bodyOf = async (response: Response) => (await response.json()) as ProxyBody;

/** A GET whose path is sent exactly as written (fetch would resolve the `..`). */
function rawGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("retouch proxy", () => {
  test("the OpenAI SDK edits through the proxy, gets a local PNG with no red, and pays exactly the quote", async () => {
    const spendLog = join(dir, "spend-sdk.jsonl");
    const proxy = await proxyWith({ RETOUCH_SPEND_LOG: spendLog });
    const start = await paidSoFar();
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "x" });
    const result = await openai.images.edit({
      model: MODEL,
      image: await toFile(await readFile(photo), "photo.png", { type: "image/png" }),
      mask: await toFile(await readFile(mask), "mask.png", { type: "image/png" }),
      prompt: "remove the red ball",
    });
    assert.equal(start - (await paidSoFar()), PRICE, "the wallet paid exactly the quote");
    assert.equal(result.data?.length, 1);
    await assertNoRed(result.data![0].url!, proxy);
    const logged = (await readFile(spendLog, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(logged.length, 1);
    assert.equal(logged[0].price_usd, "0.001");
    assert.equal(logged[0].model, MODEL);
    assert.equal(logged[0].tool, "proxy");
    assert.equal(logged[0].amount, String(PRICE));
  });

  test("seed JSON with local file paths for image and mask; gateway fields are kept", async () => {
    const proxy = await proxyWith();
    const start = await paidSoFar();
    const response = await seedEdit(proxy, { image: [photo] });
    const body = await bodyOf(response);
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(start - (await paidSoFar()), PRICE);
    assert.equal(body.price.amount, "0.001");
    assert.equal(body.payment.status, "settled");
    await assertNoRed(body.data[0].url, proxy);
  });

  test("a quote over RETOUCH_MAX_PER_REQUEST is a 402 naming it, and nothing is paid", async () => {
    const proxy = await proxyWith({ RETOUCH_MAX_PER_REQUEST: "0.0001" });
    const start = await paidSoFar();
    const response = await seedEdit(proxy);
    const body = await bodyOf(response);
    assert.equal(response.status, 402);
    assert.equal(body.error.code, "max_per_request");
    assert.match(body.error.message, /quotes \$0\.001, above the per-request cap of \$0\.0001.*RETOUCH_MAX_PER_REQUEST/);
    assert.equal(await paidSoFar(), start);
  });

  test("the daily cap survives a restart: the spend log counts what an earlier proxy paid", async () => {
    const spendLog = join(dir, "day.jsonl");
    const first = await proxyWith({ RETOUCH_SPEND_LOG: spendLog });
    assert.equal((await seedEdit(first)).status, 200);
    await first.close();
    running.splice(running.indexOf(first), 1);

    const second = await proxyWith({ RETOUCH_SPEND_LOG: spendLog, RETOUCH_MAX_PER_DAY: "0.0015" });
    const start = await paidSoFar();
    const response = await seedEdit(second);
    const body = await bodyOf(response);
    assert.equal(response.status, 402);
    assert.equal(body.error.code, "max_per_day");
    assert.match(body.error.message, /\$0\.001 was spent today.*daily cap of \$0\.0015.*RETOUCH_MAX_PER_DAY/);
    assert.equal(await paidSoFar(), start, "nothing paid");
  });

  test("bad input is a 400 before paying; gateway errors pass through; an unreachable gateway is 502", async () => {
    const proxy = await proxyWith();
    const start = await paidSoFar();
    const text = join(dir, "notes.png");
    await writeFile(text, "just words");
    const badImage = await seedEdit(proxy, { image: text });
    assert.equal(badImage.status, 400);
    const badBody = await bodyOf(badImage);
    assert.equal(badBody.error.param, "image");
    assert.match(badBody.error.message, /notes\.png is not a PNG, JPEG or WebP/);

    const unknown = await seedEdit(proxy, { model: "nobody/no-model" });
    const unknownBody = await bodyOf(unknown);
    assert.equal(unknown.status, 400, JSON.stringify(unknownBody));
    assert.equal(typeof unknownBody.error.message, "string");
    assert.equal(await paidSoFar(), start);

    const offline = await proxyWith({}, "http://127.0.0.1:1");
    const models = await fetch(`${offline.url}/v1/models`);
    assert.equal(models.status, 502);
    assert.match((await bodyOf(models)).error.message, /cannot reach http:\/\/127\.0\.0\.1:1/);
    const passed = await fetch(`${proxy.url}/v1/models`);
    assert.equal(passed.status, 200);
    assert.ok(JSON.stringify(await passed.json()).includes(MODEL));
  });

  test("a body over RETOUCH_PROXY_MAX_BODY_BYTES is a 413; other sites' pages are refused", async () => {
    const proxy = await proxyWith({ RETOUCH_PROXY_MAX_BODY_BYTES: "1000" });
    const big = await fetch(`${proxy.url}/v1/images/image2image`, { method: "POST", body: "x".repeat(5000) });
    assert.equal(big.status, 413);
    assert.match((await bodyOf(big)).error.message, /RETOUCH_PROXY_MAX_BODY_BYTES/);
    // No content-length: the cap is counted while the body streams in.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(500).fill(120));
        controller.close();
      },
    });
    const streamed = await fetch(`${proxy.url}/v1/images/image2image`, { method: "POST", body: chunks, duplex: "half" } as RequestInit);
    assert.equal(streamed.status, 413);
    const foreign = await fetch(`${proxy.url}/v1/models`, { headers: { origin: "https://evil.example" } });
    assert.equal(foreign.status, 403);
    // It spends the user's money: unlike the gateway, no page on another site may even preflight it.
    const preflight = await fetch(`${proxy.url}/v1/images/edits`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
  });

  test("/images serves only names the proxy writes: ../ and other bad names are 404", async () => {
    const proxy = await proxyWith();
    for (const path of ["/images/../x", "/images/..%2fspend.jsonl", "/images/%2e%2e%2fspend.jsonl", "/images/spend.jsonl", "/images/retouch-x.png", "/images/.retouch-x.png"]) {
      assert.equal(await rawGet(proxy.port, path), 404, path);
    }
  });

  test("`retouch spend` prints today's and the total spend from the log", async () => {
    const spendLog = join(dir, "spend-two.jsonl");
    const proxy = await proxyWith({ RETOUCH_SPEND_LOG: spendLog });
    for (let i = 0; i < 2; i++) assert.equal((await seedEdit(proxy, { image: [photo], prompt: `edit ${i}` })).status, 200);
    const child = spawn(process.execPath, ["bin/retouch.js", "spend"], {
      cwd: join(import.meta.dirname, "../.."),
      env: { ...process.env, RETOUCH_SPEND_LOG: spendLog },
    });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    const code = await new Promise((resolve) => child.on("close", resolve));
    assert.equal(code, 0);
    assert.match(stdout, /today \(UTC\): \$0\.002 in 2 edits/);
    assert.match(stdout, /total: +\$0\.002 in 2 edits/);
  });
});
