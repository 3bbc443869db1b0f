// An operator's catalog entry for a provider this server does not have: the
// request is refused before any work or quote, naming the model and the provider.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataUri, solidImage, startTestGateway } from "../../test/support/gateway.ts";

test("a model whose provider this server does not have is a 400 model_not_available naming both, with payments on: no 402", async () => {
  const dir = await mkdtemp(join(tmpdir(), "retouch-acme-"));
  const config = join(dir, "retouch.json");
  const acme = { provider: "acme", upstreamModel: "paint-1", sizes: { "1024x1024": "0.01" }, defaultSize: "1024x1024", mask: "optional", maxImages: 1, maxN: 1 };
  await writeFile(config, JSON.stringify({ catalog: { models: { "acme/paint": acme } } }));
  const gw = await startTestGateway({ RETOUCH_CONFIG: config, RETOUCH_PAYMENTS: "devchain" });
  try {
    const response = await gw.postJson({ model: "acme/paint", prompt: "paint it red", image: dataUri(await solidImage(64, 64)) });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get("payment-required"), null);
    assert.deepEqual(await response.json(), {
      error: { message: 'acme/paint names provider "acme", which this server does not have', type: "invalid_request_error", param: "model", code: "model_not_available" },
    });
  } finally {
    await gw.close();
    await rm(dir, { recursive: true, force: true });
  }
});
