// The playground's serving, as an operator and a browser meet it: the page
// with this gateway's limits and payment mode in it, a Content-Security-Policy
// that names only this gateway and its devchain, assets cached for a year
// (gzipped when asked), the example picture, RETOUCH_PLAYGROUND=off, and a
// shipped build (web/dist) that is exactly what the sources in web/ build to.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { build } from "vite";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

const WEB = join(import.meta.dirname, "../web");

async function filesUnder(folder: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...(await filesUnder(join(folder, entry.name), `${prefix}${entry.name}/`)));
    else found.push(`${prefix}${entry.name}`);
  }
  return found.sort();
}

describe("a devchain gateway's playground", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_MAX_IMAGE_SIDE: "2048" });
  });
  after(() => gw?.close());

  test("GET / is the page, with this gateway's limits and payments in it and a strict Content-Security-Policy", async () => {
    const response = await gw.request("/");
    const html = await response.text();
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/html/);
    assert.equal(response.headers.get("cache-control"), "no-cache");
    const config = JSON.parse(/<script type="application\/json" id="retouch-config">([^<]*)<\/script>/.exec(html)![1]!) as Record<string, unknown>;
    const devchain = gw.gateway.devchain!;
    assert.deepEqual(config, {
      payments: "devchain",
      networks: ["eip155:8453", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"],
      maxBodyBytes: 50 * 1024 * 1024,
      maxImageSide: 2048,
      minImageSide: 16,
      solanaRpcUrl: devchain.solana.rpcUrl,
    });
    const csp = response.headers.get("content-security-policy")!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/, "no inline or third-party scripts");
    assert.match(csp, /frame-ancestors 'none'/);
    const connect = /connect-src ([^;]*)/.exec(csp)![1]!.split(" ").sort();
    assert.deepEqual(connect, ["'self'", new URL(devchain.evm.rpcUrl).origin, new URL(devchain.solana.rpcUrl).origin].sort(), "the page talks to this gateway and its chains only");
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.equal(response.headers.get("access-control-allow-origin"), null, "the page is not an API route");
    for (const src of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      const url = src[1]!;
      assert.ok(url.startsWith("/") || url.startsWith("data:") || url.startsWith("#"), `no third-party host: ${url}`);
    }
  });

  test("assets are served with their type, cached for a year, gzipped when asked; anything else is 404", async () => {
    const html = await (await gw.request("/")).text();
    const script = /src="(\/playground\/index-[^"]+\.js)"/.exec(html)![1]!;
    const plain = await gw.request(script);
    const bytes = Buffer.from(await plain.arrayBuffer());
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get("content-type")!, /^text\/javascript/);
    assert.equal(plain.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.deepEqual(bytes, await readFile(join(WEB, "dist", script)));
    const zipped = await gw.request(script, { headers: { "accept-encoding": "gzip, br" } });
    assert.equal(zipped.headers.get("content-encoding"), "gzip");
    const packed = Buffer.from(await zipped.arrayBuffer());
    assert.ok(packed.length < bytes.length / 2);
    assert.deepEqual(gunzipSync(packed), bytes);
    for (const path of ["/playground/nope.js", "/playground/..%2F..%2Fpackage.json", "/playground/../index.html", "/index.html"]) {
      assert.equal((await gw.request(path)).status, 404, path);
    }
  });

  test("the example picture is examples/photo.png", async () => {
    const response = await gw.request("/example.png");
    assert.equal(response.headers.get("content-type"), "image/png");
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), await readFile(join(import.meta.dirname, "../examples/photo.png")));
  });
});

test("RETOUCH_PLAYGROUND=off: no page, no assets; the API is unchanged", async () => {
  const gw = await startTestGateway({ RETOUCH_PLAYGROUND: "off" });
  try {
    for (const path of ["/", "/example.png", "/playground/index.js"]) assert.equal((await gw.request(path)).status, 404, path);
    assert.equal((await gw.request("/api/v1/models")).status, 200);
  } finally {
    await gw.close();
  }
});

test("the shipped build (web/dist) is what web/'s sources build to: npm run build:web after changing them", async () => {
  const outDir = await mkdtemp(join(tmpdir(), "retouch-web-"));
  // npm run build:web runs without NODE_ENV; the tests' "test" would make a development build.
  const nodeEnv = process.env.NODE_ENV;
  delete process.env.NODE_ENV;
  try {
    await build({ configFile: join(WEB, "vite.config.ts"), build: { outDir, emptyOutDir: true } });
    const shipped = await filesUnder(join(WEB, "dist"));
    assert.deepEqual(await filesUnder(outDir), shipped);
    for (const file of shipped) {
      assert.ok((await readFile(join(outDir, file))).equals(await readFile(join(WEB, "dist", file))), `web/dist/${file} is stale: npm run build:web`);
    }
  } finally {
    process.env.NODE_ENV = nodeEnv;
    await rm(outDir, { recursive: true, force: true });
  }
});
