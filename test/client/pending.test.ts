// Pending payments, the buyer's state for "never lose a paid result": recorded (0600)
// before a payment is sent, listed, replayed against the real gateway after the answer
// was lost (the result comes back, nothing more is charged), refused ones and expired
// ones dropped; the state folder and its files are private.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import sharp from "sharp";
import { signTransferAuthorization } from "../../src/chains/devchain/testing.ts";
import { runEdit } from "../../src/client/edit.ts";
import type { CliError } from "../../src/client/errors.ts";
import { dropExpired, listPending, recordPending, resumePending, type NewPendingPayment } from "../../src/client/pending.ts";
import { startProxy } from "../../src/client/proxy/index.ts";
import { loadWalletFile } from "../../src/client/wallet-file.ts";
import { dataUri } from "../support/gateway.ts";
import { makeScene, squareMask } from "../support/scene.ts";
import { startHttpGateway, type HttpGateway } from "./http-gateway.ts";

const PRICE = 1000n;
const SIZE = 64;

let dir: string;
let http: HttpGateway;
let relay: Relay;
let photo: string;
let mask: string;
let homes = 0;

/**
 * The gateway as the buyer reaches it, through a relay that can lose the answer: with
 * `cutNextPayment`, the next request carrying a payment is delivered whole to the
 * gateway, then both connections are closed before any answer (a network cut, a Ctrl-C).
 */
interface Relay {
  url: string;
  cutNextPayment: boolean;
  cut: number;
  close(): Promise<void>;
}

/** The relay on a port of its own, listening before the gateway it forwards to exists (its URL is the gateway's public URL). */
async function startRelay(upstreamPort: () => number): Promise<Relay> {
  const relay: Relay = { url: "", cutNextPayment: false, cut: 0, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const cut = relay.cutNextPayment && req.headers["payment-signature"] !== undefined;
    if (cut) relay.cutNextPayment = false;
    const upstream = httpRequest({ host: "127.0.0.1", port: upstreamPort(), path: req.url, method: req.method, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
    if (cut) {
      upstream.on("finish", () => {
        relay.cut++;
        upstream.destroy();
        res.socket?.destroy();
      });
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  relay.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return relay;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-pending-"));
  // The gateway's public URL is the relay's, so its result URLs are on the origin the buyer pays.
  relay = await startRelay(() => Number(new URL(http.url).port));
  http = await startHttpGateway({ RETOUCH_PUBLIC_URL: relay.url });
  const scene = makeScene({ width: SIZE, height: SIZE });
  photo = join(dir, "photo.png");
  mask = join(dir, "mask.png");
  await writeFile(photo, await sharp(scene.rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer());
  const maskPixels = squareMask(SIZE, SIZE, scene.disc.cx, scene.disc.cy, scene.disc.r * 2 + 6);
  await writeFile(mask, await sharp(maskPixels, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer());
});
after(async () => {
  await relay.close();
  await http.close();
  await rm(dir, { recursive: true, force: true });
});

function freshHome(): string {
  return join(dir, `home-${++homes}`);
}

function balance(): Promise<bigint> {
  const devchain = http.gw.gateway.devchain!;
  return devchain.usdcBalance("base", devchain.wallets.buyer.evm.address);
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** The gateway's row for the job, once the edit has finished (its note says why it was not settled). */
async function finishedRow(): Promise<{ status: string; note: string | null }> {
  const db = http.gw.gateway.ledger!.db;
  for (;;) {
    const [row] = await db.query<{ status: string; note: string | null }>("SELECT status, note FROM paid_edits ORDER BY created_at DESC LIMIT 1");
    if (row && row.status !== "verified" && row.status !== "running") return row;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function editVia(home: string, out: string): Promise<unknown> {
  return runEdit({
    image: [photo],
    mask,
    model: "local/content-aware-fill",
    prompt: "remove the ball",
    network: "base",
    out,
    gateway: relay.url,
    wallet: http.buyerWallet,
    baseRpc: http.baseRpc,
    env: { RETOUCH_HOME: home },
    print: () => {},
  });
}

describe("pending payments", () => {
  test("an answer lost after the payment was sent: kept pending, replayed for the result, charged once", async () => {
    const home = freshHome();
    const out = join(dir, "out-lost");
    const start = await balance();
    relay.cutNextPayment = true;
    await assert.rejects(editVia(home, out), (error: CliError) => {
      assert.match(error.message, /cannot reach .*; the signed payment is kept: run `retouch edit --resume` later/);
      return true;
    });
    assert.equal(relay.cut, 1, "the paid request reached the gateway and its answer was lost");
    const pending = await listPending(join(home, "pending"));
    assert.equal(pending.length, 1);
    assert.deepEqual([pending[0].tool, pending[0].offer.amount, pending[0].url], ["edit", PRICE.toString(), `${relay.url}/api/v1/images/image2image`]);
    const row = await finishedRow();
    assert.match(String(row.note), /client disconnected/);
    assert.equal(await balance(), start, "not charged while the answer could not be delivered");

    const wallet = await loadWalletFile(http.buyerWallet);
    const [resumed, ...rest] = await resumePending({ wallet, env: { RETOUCH_HOME: home } });
    assert.equal(rest.length, 0);
    assert.equal(resumed.outcome, "saved", resumed.message);
    assert.equal(resumed.receipt?.status, "settled");
    assert.equal(resumed.files.length, 1);
    assert.ok(resumed.files[0].startsWith(out), "saved where the edit would have saved it");
    const info = await sharp(resumed.files[0]).metadata();
    assert.deepEqual([info.format, info.width, info.height], ["png", SIZE, SIZE]);
    assert.equal(start - (await balance()), PRICE, "charged exactly once");
    assert.deepEqual(await listPending(join(home, "pending")), [], "forgotten once saved");

    const again = await resumePending({ wallet, env: { RETOUCH_HOME: home } });
    assert.deepEqual(again, [], "nothing left to replay");
    assert.equal(start - (await balance()), PRICE);
    // The state folder is private, and so is everything the buyer tools wrote in it.
    assert.equal(await mode(home), 0o700);
    assert.equal(await mode(join(home, "pending")), 0o700);
    assert.equal(await mode(join(home, "spend.jsonl")), 0o600);
  });

  test("a settled result the proxy could not save stays pending; the replay gets it as already_settled and charges nothing more", async () => {
    const home = freshHome();
    const images = join(dir, "images-blocked");
    const proxy = await startProxy({ port: 0, gateway: relay.url, wallet: http.buyerWallet, network: "base", baseRpc: http.baseRpc, env: { RETOUCH_HOME: home, RETOUCH_IMAGE_DIR: images } });
    try {
      await rm(images, { recursive: true });
      await writeFile(images, "a file where the image folder was");
      const start = await balance();
      const response = await fetch(`${proxy.url}/v1/images/image2image`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "local/content-aware-fill", prompt: "remove the ball", image: photo, mask }),
      });
      const body = (await response.json()) as { error: { message: string } };
      assert.equal(response.status, 502);
      assert.match(body.error.message, /paid but its results could not be saved in .*images-blocked .*; the payment is kept: run `retouch edit --resume`/);
      assert.equal(start - (await balance()), PRICE);
      const [kept, ...others] = await listPending(join(home, "pending"));
      assert.equal(others.length, 0);
      assert.deepEqual([kept.tool, kept.outDir], ["proxy", images]);

      await rm(images);
      const [resumed] = await resumePending({ wallet: await loadWalletFile(http.buyerWallet), env: { RETOUCH_HOME: home } });
      assert.equal(resumed.outcome, "saved", resumed.message);
      assert.equal(resumed.receipt?.status, "already_settled");
      assert.ok(resumed.files[0].startsWith(images));
      assert.equal(await mode(resumed.files[0]), 0o600, "the proxy's images are private");
      assert.equal(await mode(images), 0o700);
      assert.equal(start - (await balance()), PRICE, "nothing more was charged");
      assert.deepEqual(await listPending(join(home, "pending")), []);
    } finally {
      await proxy.close();
    }
  });

  test("a pending payment that expired unused is refused by the gateway on replay, and dropped: not charged", async () => {
    const home = freshHome();
    const body = JSON.stringify({ model: "local/content-aware-fill", prompt: "remove the ball", image: dataUri(await readFile(photo)), mask: dataUri(await readFile(mask)) });
    const url = `${relay.url}/api/v1/images/image2image`;
    const quote = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    const required = decodePaymentRequiredHeader(quote.headers.get("payment-required")!);
    const accepted = required.accepts.find((a) => a.network === "eip155:8453")!;
    const wallet = await loadWalletFile(http.buyerWallet);
    const now = BigInt(Math.floor(Date.now() / 1000));
    const authorization = {
      from: wallet.evm.address,
      to: accepted.payTo as `0x${string}`,
      value: BigInt(accepted.amount),
      validAfter: now - 600n,
      validBefore: now - 60n,
      nonce: `0x${randomBytes(32).toString("hex")}` as `0x${string}`,
    };
    const signature = await signTransferAuthorization(wallet.evm, authorization);
    const stringified = Object.fromEntries(Object.entries(authorization).map(([k, v]) => [k, String(v)]));
    const payment = encodePaymentSignatureHeader({ x402Version: 2, resource: required.resource, accepted, payload: { signature, authorization: stringified } });
    await recordPending(join(home, "pending"), {
      created: new Date(Number(now - 600n) * 1000).toISOString(),
      expires: new Date(Number(authorization.validBefore) * 1000).toISOString(),
      tool: "edit",
      gateway: relay.url,
      url,
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      fingerprint: "f".repeat(64),
      payment,
      offer: { network: accepted.network, amount: accepted.amount, payTo: accepted.payTo, asset: accepted.asset, maxTimeoutSeconds: accepted.maxTimeoutSeconds },
      outDir: join(dir, "never"),
    });
    const start = await balance();
    const [resumed] = await resumePending({ wallet, env: { RETOUCH_HOME: home } });
    assert.equal(resumed.outcome, "not_charged", resumed.message);
    assert.match(resumed.message, /was not charged \(the gateway answered HTTP 402.*(expired|valid_before|validBefore)/i);
    assert.deepEqual(await listPending(join(home, "pending")), []);
    assert.equal(await balance(), start);
    await assert.rejects(stat(join(dir, "never")), /ENOENT/);
  });

  test("record and list: one 0600 file per payment, oldest first; expired ones dropped without asking", async () => {
    const pendingDir = join(freshHome(), "pending");
    const now = Date.now();
    const record = (payment: string, created: number, expires: number): NewPendingPayment => ({
      created: new Date(created).toISOString(),
      expires: new Date(expires).toISOString(),
      tool: "proxy",
      gateway: "http://127.0.0.1:4021",
      url: "http://127.0.0.1:4021/api/v1/images/image2image",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      fingerprint: "f".repeat(64),
      payment,
      offer: { network: "eip155:8453", amount: "1000", payTo: "0xabc", asset: "0xusdc", maxTimeoutSeconds: 300 },
    });
    const live = await recordPending(pendingDir, record("live", now - 1000, now + 300_000));
    const old = await recordPending(pendingDir, record("old", now - 900_000, now - 600_000));
    assert.deepEqual((await listPending(pendingDir)).map((p) => p.payment), ["old", "live"]);
    assert.equal(await mode(join(pendingDir, `${live.id}.json`)), 0o600);
    assert.equal(await mode(pendingDir), 0o700);

    const dropped = await dropExpired(pendingDir, new Date(now));
    assert.deepEqual(dropped.map((p) => p.id), [old.id]);
    assert.deepEqual((await listPending(pendingDir)).map((p) => p.payment), ["live"]);
  });
});
