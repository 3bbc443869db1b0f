// `retouch proxy` against a gateway that answers every paid edit with 202 + poll_url:
// the proxy follows the job itself, signing in with the paying wallet (SIWE on Base),
// so an OpenAI SDK caller still gets one 200.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import sharp from "sharp";
import { startProxy, type RunningProxy } from "../../src/client/proxy/index.ts";
import { makeScene, squareMask } from "../support/scene.ts";
import { startHttpGateway, type HttpGateway } from "./http-gateway.ts";

let dir: string;
let http: HttpGateway;
let proxy: RunningProxy;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-proxy-poll-"));
  http = await startHttpGateway({ RETOUCH_INLINE_WINDOW_MS: "0" });
  proxy = await startProxy({
    port: 0,
    gateway: http.url,
    wallet: http.buyerWallet,
    network: "base",
    baseRpc: http.baseRpc,
    env: { RETOUCH_HOME: join(dir, "home") },
  });
});
after(async () => {
  await proxy.close();
  await http.close();
  await rm(dir, { recursive: true, force: true });
});

test("a slow edit (202) is polled by the proxy; the SDK gets the synchronous shape and pays once", async () => {
  const scene = makeScene({ width: 64, height: 64 });
  const photo = await sharp(scene.rgb, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
  const maskPixels = squareMask(64, 64, scene.disc.cx, scene.disc.cy, scene.disc.r * 2 + 6);
  const mask = await sharp(maskPixels, { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer();
  const devchain = http.gw.gateway.devchain!;
  const buyer = devchain.wallets.buyer.evm.address;
  const start = await devchain.usdcBalance("base", buyer);

  const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "x" });
  const result = (await openai.images.edit({
    model: "local/content-aware-fill",
    image: await toFile(photo, "photo.png", { type: "image/png" }),
    mask: await toFile(mask, "mask.png", { type: "image/png" }),
    prompt: "remove the ball",
  })) as OpenAI.ImagesResponse & { payment?: { status: string } };

  assert.ok(result.created > 0);
  assert.equal(result.payment?.status, "settled");
  const image = await fetch(result.data![0].url!);
  assert.equal(image.status, 200);
  assert.equal(image.headers.get("content-type"), "image/png");
  assert.equal(start - (await devchain.usdcBalance("base", buyer)), 1000n, "settled exactly once");
  assert.equal((await readFile(join(dir, "home", "spend.jsonl"), "utf8")).trim().split("\n").length, 1);
  const signIns = await http.gw.gateway.ledger!.db.query<{ used_by: string }>("SELECT used_by FROM siwx_nonces WHERE used_at IS NOT NULL");
  assert.ok(signIns.length >= 1 && signIns.every((s) => s.used_by.toLowerCase() === buyer.toLowerCase()), "polled by signing in with the wallet that paid");
});
