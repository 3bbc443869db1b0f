// The edit service: an operator's catalog entry for a provider this server does
// not have is refused before any work or quote; in one process on the real
// engine, what a finished or failed edit reports; and the guard that ends an
// edit at its deadline even when the work does not stop.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCatalog } from "../catalog/index.ts";
import { loadConfig } from "../config.ts";
import { createEnginePool } from "../engine/index.ts";
import { RetouchError } from "../errors.ts";
import { createProviderRegistry } from "../providers/index.ts";
import { createFilesystemBlobStore } from "../storage/index.ts";
import { dataUri, solidImage, squareMaskPng, startTestGateway } from "../../test/support/gateway.ts";
import { createEditService, untilAborted, type EditService } from "./edit-service.ts";

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

describe("in one process, on the real engine", () => {
  const LOCAL = "local/content-aware-fill";
  let dir: string;
  let engine: ReturnType<typeof createEnginePool>;
  let service: EditService;
  const finished: [string, number, string][] = [];
  const modelsFailed: string[] = [];
  let image: Buffer;
  let mask: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "retouch-edit-service-"));
    engine = createEnginePool({ threads: 1 });
    const config = loadConfig({ RETOUCH_DATA_DIR: dir });
    service = createEditService({
      catalog: createCatalog({ margin: "0.05", config: undefined }),
      providers: await createProviderRegistry(config, engine),
      blobs: await createFilesystemBlobStore(join(dir, "files")),
      fileUrl: (key) => `http://127.0.0.1:9/api/v1/files/${key}`,
      timeoutMs: 30_000,
      maxImageSide: 4096,
      onFinished: (model, seconds, outcome) => finished.push([model, seconds, outcome]),
      onModelFailed: (model) => modelsFailed.push(model.id),
    });
    image = await solidImage(96, 64, "png", "#2a7");
    mask = await squareMaskPng(96, 64, 48, 32, 20);
  });
  after(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  const edit = () => service.prepare({ model: LOCAL, prompt: "p", images: [{ bytes: image, param: "image" }], mask: { bytes: mask, param: "mask" }, n: 1 });

  test("a finished edit answers with the size it made and its format, and reports its duration in seconds", async () => {
    finished.length = 0;
    const request = await edit();
    const started = performance.now();
    const { result } = await service.run(request);
    const took = (performance.now() - started) / 1000;
    // No upstream said what it made: the size is the picture's own ("auto"), and nothing is claimed about quality.
    assert.deepEqual(
      { size: result.size, output_format: result.output_format, price: result.price, keys: Object.keys(result).sort() },
      { size: "96x64", output_format: "png", price: { amount: "0.001", currency: "USD" }, keys: ["created", "data", "output_format", "price", "size"] },
    );
    assert.match(result.data[0].url, /^http:\/\/127\.0\.0\.1:9\/api\/v1\/files\/[\w-]+\.png$/);
    assert.equal(finished.length, 1);
    const [model, seconds, outcome] = finished[0];
    assert.deepEqual([model, outcome], [LOCAL, "ok"]);
    assert.ok(seconds > 0 && seconds <= took, `reported ${seconds} s for an edit that took ${took} s`);
  });

  test("an engine failing in a way nobody planned for is that failure, not a timeout, and counts as an error", async () => {
    finished.length = 0;
    modelsFailed.length = 0;
    const request = await edit();
    const closed = createEnginePool({ threads: 1 });
    await closed.close();
    const broken = createEditService({
      catalog: createCatalog({ margin: "0.05", config: undefined }),
      providers: await createProviderRegistry(loadConfig({ RETOUCH_DATA_DIR: dir }), closed),
      blobs: await createFilesystemBlobStore(join(dir, "files")),
      fileUrl: (key) => key,
      timeoutMs: 30_000,
      maxImageSide: 4096,
      onFinished: (model, seconds, outcome) => finished.push([model, seconds, outcome]),
      onModelFailed: (model) => modelsFailed.push(model.id),
    });
    await assert.rejects(broken.run(request), (error: Error) => {
      assert.ok(!(error instanceof RetouchError), `${error.name}: ${error.message}`);
      assert.equal(error.message, "the engine pool is closed");
      return true;
    });
    assert.deepEqual(finished.map(([, , outcome]) => outcome), ["error"]);
    assert.deepEqual(modelsFailed, [], "only known errors are a model's failure");
  });
});

describe("untilAborted", () => {
  const never = () => new Promise<never>(() => {});

  test("rejects with the signal's reason when it aborts, though the work never ends", async () => {
    const controller = new AbortController();
    const waiting = untilAborted(never(), controller.signal);
    const reason = new Error("deadline");
    controller.abort(reason);
    await assert.rejects(waiting, (error) => error === reason);
  });

  test("rejects at once when the signal has already aborted", async () => {
    const reason = new Error("already late");
    await assert.rejects(untilAborted(never(), AbortSignal.abort(reason)), (error) => error === reason);
  });

  test("answers as the work does, and leaves no listener on the signal either way", async () => {
    const signal = new AbortController().signal;
    // The listener goes in the turn after the work settles.
    const settled = () => new Promise((resolve) => setImmediate(resolve));
    assert.equal(await untilAborted(Promise.resolve(7), signal), 7);
    await settled();
    assert.equal(getEventListeners(signal, "abort").length, 0);
    const failure = new Error("work failed");
    await assert.rejects(untilAborted(Promise.reject(failure), signal), (error) => error === failure);
    await settled();
    assert.equal(getEventListeners(signal, "abort").length, 0);
  });
});
