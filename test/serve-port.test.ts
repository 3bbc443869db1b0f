// `retouch serve` on PORT=0: the system picks the port, and the gateway's public URL (the base of
// its result and poll URLs) names the port it got, not 0.

import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { startGatewayProcess } from "./support/processes.ts";

test("PORT=0: the gateway listens where the system put it, and its result URLs point there", { timeout: 120_000 }, async () => {
  const gateway = await startGatewayProcess({ RETOUCH_PAYMENTS: "off", PORT: "0" });
  try {
    assert.notEqual(gateway.port, 0);
    const listening = JSON.parse(gateway.lines.find((line) => line.includes('"msg":"retouch listening'))!) as { public_url: string };
    assert.equal(listening.public_url, `http://127.0.0.1:${gateway.port}`);
    const response = await fetch(`${gateway.url}/api/v1/images/image2image`, jsonInit(await sceneEdit(64)));
    const body = (await response.json()) as { data: { url: string }[] };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.ok(body.data[0].url.startsWith(`http://127.0.0.1:${gateway.port}/`), body.data[0].url);
    const result = await fetch(body.data[0].url);
    assert.equal(result.status, 200);
    assert.deepEqual(await sharp(Buffer.from(await result.arrayBuffer())).metadata().then((m) => [m.format, m.width, m.height]), ["png", 64, 64]);
  } finally {
    await gateway.close();
  }
});
