// `retouch edit` against a gateway that answers every paid edit with 202 + poll_url:
// the CLI polls by signing in with the paying wallet (SIWS on Solana), never with a
// payment, and the original payment is settled once and logged once.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { runEdit } from "../../src/client/edit.ts";
import { makeScene, squareMask } from "../support/scene.ts";
import { startHttpGateway, type HttpGateway } from "./http-gateway.ts";

let dir: string;
let http: HttpGateway;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-poll-"));
  http = await startHttpGateway({ RETOUCH_INLINE_WINDOW_MS: "0" });
});
after(async () => {
  await http.close();
  await rm(dir, { recursive: true, force: true });
});

test("a slow edit (202) is polled until done, saved, and paid exactly once", async () => {
  const scene = makeScene({ width: 64, height: 64 });
  const photo = join(dir, "photo.png");
  const mask = join(dir, "mask.png");
  await writeFile(photo, await sharp(scene.rgb, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer());
  const maskPixels = squareMask(64, 64, scene.disc.cx, scene.disc.cy, scene.disc.r * 2 + 6);
  await writeFile(mask, await sharp(maskPixels, { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer());
  const devchain = http.gw.gateway.devchain!;
  const buyer = devchain.wallets.buyer.solana.address;
  const start = await devchain.usdcBalance("solana", buyer);

  const outcome = await runEdit({
    image: [photo],
    mask,
    model: "local/content-aware-fill",
    prompt: "remove the ball",
    network: "solana",
    out: dir,
    gateway: http.url,
    wallet: http.buyerWallet,
    solanaRpc: http.solanaRpc,
    env: { RETOUCH_HOME: join(dir, "home") },
    print: () => {},
  });

  const requests = http.gw.logs.map((line) => JSON.parse(line)).filter((entry) => entry.msg === "request");
  assert.ok(requests.some((r) => r.method === "POST" && r.status === 202), "the paid POST answered 202");
  assert.ok(requests.some((r) => r.method === "GET" && r.status === 200 && String(r.route).includes("jobs")), "a poll answered 200");
  assert.equal(outcome.files.length, 1);
  const info = await sharp(outcome.files[0]).metadata();
  assert.deepEqual([info.format, info.width, info.height], ["png", 64, 64]);
  assert.equal(outcome.payment?.status, "settled");
  assert.equal(start - (await devchain.usdcBalance("solana", buyer)), 1000n);
  const signIns = await http.gw.gateway.ledger!.db.query<{ used_by: string }>("SELECT used_by FROM siwx_nonces WHERE used_at IS NOT NULL");
  assert.ok(signIns.length >= 1, "the poll signed in");
  assert.ok(signIns.every((s) => s.used_by === buyer), "with the wallet that paid");
  const logged = (await readFile(join(dir, "home", "spend.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(logged.map((l) => [l.tool, l.amount]), [["edit", "1000"]], "one signature, logged");
});
