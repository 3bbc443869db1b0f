// A user's edits end to end on the embedded defaults: the masked object is
// removed, the URLs serve the images, prices and errors are what they say.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp, { type OutputInfo } from "sharp";
import { dataUri, solidImage, squareMaskPng, startTestGateway, type TestGateway } from "./support/gateway.ts";
import { makeScene, redPixelCount, squareMask } from "./support/scene.ts";
import { hang } from "./upstreams/fake-server.ts";
import { startFakeOpenAi } from "./upstreams/fake-openai.ts";

const LOCAL = "local/content-aware-fill";
let gw: TestGateway;
let photo: Buffer;
let maskPng: Buffer;
const SIZE = 256;

before(async () => {
  gw = await startTestGateway();
  const scene = makeScene({ width: SIZE, height: SIZE });
  photo = await sharp(scene.rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer();
  const side = scene.disc.r * 2 + 12;
  maskPng = await sharp(squareMask(SIZE, SIZE, scene.disc.cx, scene.disc.cy, side), {
    raw: { width: SIZE, height: SIZE, channels: 1 },
  })
    .png()
    .toBuffer();
});
after(() => gw.close());

interface EditBody {
  created: number;
  data: { url: string; revised_prompt?: string }[];
  price: { amount: string; currency: string };
}

async function fetchImage(url: string): Promise<{ response: Response; raw: Buffer; info: OutputInfo }> {
  assert.ok(url.startsWith(`${gw.config.publicUrl}/api/v1/files/`), url);
  const response = await gw.request(new URL(url).pathname);
  assert.equal(response.status, 200);
  const bytes = Buffer.from(await response.arrayBuffer());
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { response, raw: data, info };
}

describe("local/content-aware-fill", () => {
  test("JSON: removes the masked object, keeps the rest, serves a PNG at the input size", async () => {
    const originalRed = redPixelCount(new Uint8Array(await sharp(photo).raw().toBuffer()));
    assert.ok(originalRed > 1000, "the scene has a red ball to remove");
    const response = await gw.postJson({ model: LOCAL, prompt: "remove the ball", image: dataUri(photo), mask: dataUri(maskPng) });
    const body = (await response.json()) as EditBody;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.data.length, 1);
    assert.deepEqual(body.price, { amount: "0.001", currency: "USD" });
    assert.match(body.data[0].revised_prompt!, /does not read the prompt/);
    assert.ok(Math.abs(body.created - Date.now() / 1000) < 60);

    const { response: file, raw, info } = await fetchImage(body.data[0].url);
    assert.equal(file.headers.get("content-type"), "image/png");
    assert.equal(info.width, SIZE);
    assert.equal(info.height, SIZE);
    assert.equal(redPixelCount(new Uint8Array(raw)), 0, "no red left");
    // Far from the mask the picture is unchanged, byte for byte.
    const original = await sharp(photo).raw().toBuffer();
    for (const [x, y] of [[5, 5], [250, 10], [10, 250], [250, 250]]) {
      const i = (y * SIZE + x) * 3;
      assert.deepEqual([...raw.subarray(i, i + 3)], [...original.subarray(i, i + 3)], `pixel ${x},${y}`);
    }
  });

  test("multipart on the OpenAI-compatible route, JPEG declared as PNG, output scaled to cover the size", async () => {
    const jpeg = await sharp(photo).resize(256, 192, { fit: "fill" }).jpeg().toBuffer();
    const mask = await sharp(maskPng).resize(128, 96, { fit: "fill" }).png().toBuffer();
    const form = new FormData();
    form.append("model", LOCAL);
    form.append("prompt", "remove the ball");
    form.append("size", "512x512");
    form.append("image", new Blob([jpeg], { type: "image/png" }), "photo.png");
    form.append("mask", new Blob([mask], { type: "image/png" }), "mask.png");
    const response = await gw.request("/v1/images/edits", { method: "POST", body: form });
    const body = (await response.json()) as EditBody;
    assert.equal(response.status, 200, JSON.stringify(body));
    const { info } = await fetchImage(body.data[0].url);
    assert.deepEqual([info.width, info.height], [512, 512]);
  });

  test("image[] parts are read as the images", async () => {
    const form = new FormData();
    form.append("model", LOCAL);
    form.append("prompt", "remove the ball");
    form.append("image[]", new Blob([photo], { type: "image/png" }), "photo.png");
    form.append("mask", new Blob([maskPng], { type: "image/png" }), "mask.png");
    const response = await gw.request("/api/v1/images/image2image", { method: "POST", body: form });
    assert.equal(response.status, 200, await response.clone().text());
  });
});

describe("result files", () => {
  test("served with a long immutable cache, an ETag, and 304 when unchanged", async () => {
    const response = await gw.postJson({ model: LOCAL, prompt: "p", image: dataUri(photo), mask: dataUri(maskPng) });
    const body = (await response.json()) as EditBody;
    const path = new URL(body.data[0].url).pathname;
    const file = await gw.request(path);
    assert.equal(file.status, 200);
    assert.match(file.headers.get("cache-control")!, /max-age=31536000.*immutable/);
    const etag = file.headers.get("etag")!;
    assert.match(etag, /^"[A-Za-z0-9_-]{22}"$/);
    assert.equal(Number(file.headers.get("content-length")), (await file.arrayBuffer()).byteLength);
    const again = await gw.request(path, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
  });

  test("anything else is a 404, and no path leaves the folder", async () => {
    await writeFile(join(gw.config.dataDir, "secret.png"), "secret");
    for (const path of [
      "/api/v1/files/AAAAAAAAAAAAAAAAAAAAAA.png",
      "/api/v1/files/..%2Fsecret.png",
      "/api/v1/files/%2E%2E%2Fsecret.png",
      "/api/v1/files/../secret.png",
      "/api/v1/files/secret.png",
      "/api/v1/files/",
    ]) {
      const response = await gw.request(path);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(await response.text(), /secret"?$/);
    }
  });
});

describe("failures", () => {
  test("an edit past RETOUCH_UPSTREAM_TIMEOUT_MS is a 504, stores nothing, and the gateway keeps working", async () => {
    // An upstream that never answers: the timeout is the only way out, whatever the machine's speed.
    const upstream = await startFakeOpenAi("sk-test-hang", await solidImage(1024, 1024));
    upstream.reply(hang());
    const slow = await startTestGateway({ RETOUCH_UPSTREAM_TIMEOUT_MS: "300", OPENAI_API_KEY: "sk-test-hang", OPENAI_BASE_URL: upstream.baseUrl });
    try {
      const edit = { model: "openai/gpt-image-1", prompt: "p", image: dataUri(await solidImage(64, 64)) };
      const response = await slow.postJson(edit);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, 504, JSON.stringify(body));
      assert.equal(body.error.code, "edit_timeout");
      assert.match(body.error.message, /300 ms; nothing was charged/);
      assert.deepEqual(await readdir(join(slow.config.dataDir, "files")), []);
      const served = await slow.postJson(edit); // the upstream answers at once this time
      assert.equal(served.status, 200, await served.clone().text());
      assert.equal((await readdir(join(slow.config.dataDir, "files"))).length, 1);
    } finally {
      await slow.close();
      await upstream.close();
    }
  });

  test("a result that cannot be stored is a 503 result_not_stored, without a path or a stack; the log has the cause", async () => {
    const broken = await startTestGateway();
    try {
      // The results folder turns into a file: storing the result fails.
      const files = join(broken.config.dataDir, "files");
      await rm(files, { recursive: true });
      await writeFile(files, "not a folder");
      const response = await broken.postJson({ model: LOCAL, prompt: "p", image: dataUri(photo), mask: dataUri(maskPng) });
      const text = await response.text();
      assert.equal(response.status, 503);
      const requestId = response.headers.get("x-request-id")!;
      assert.ok(requestId);
      const body = JSON.parse(text) as { error: { message: string; type: string; code: string } };
      assert.deepEqual(body.error, {
        message: "the edit ran but its result could not be stored; nothing was charged, try again shortly",
        type: "server_error",
        param: null,
        code: "result_not_stored",
      });
      assert.doesNotMatch(text, /at .*\.ts:\d+|ENOTDIR|\/tmp\//);
      assert.ok(broken.logs.some((line) => line.includes("ENOTDIR")), "the log has the cause");
    } finally {
      await broken.close();
    }
  });
});

describe("catalog and operations", () => {
  test("GET /api/v1/models lists sizes, masks, prices and availability", async () => {
    const response = await gw.request("/api/v1/models");
    assert.equal(response.status, 200);
    const { data } = (await response.json()) as { data: Record<string, unknown>[] };
    const byId = Object.fromEntries(data.map((m) => [m.id, m]));
    assert.deepEqual(byId["openai/gpt-image-1"].prices, { "1024x1024": "0.021", "1536x1024": "0.042", "1024x1536": "0.042" });
    assert.equal(byId["openai/gpt-image-1"].available, false);
    assert.match(String(byId["openai/gpt-image-1"].unavailable_reason), /OPENAI_API_KEY/);
    assert.equal(byId["openai/gpt-image-1"].max_images, 4);
    assert.equal(byId[LOCAL].available, true);
    assert.equal(byId[LOCAL].mask, "required");
    assert.equal(byId[LOCAL].uses_prompt, false);
    assert.equal((byId[LOCAL].prices as Record<string, string>)["1024x1024"], "0.001");
  });

  test("/healthz, /metrics, /openapi.json and /docs answer", async () => {
    const health = await gw.request("/healthz");
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, "ok");

    // An edit of this test's own, so that the edit metrics have something to show whatever ran before.
    const edit = await gw.postJson({ model: LOCAL, prompt: "remove the ball", image: dataUri(photo), mask: dataUri(maskPng) });
    assert.equal(edit.status, 200);
    await edit.body?.cancel();
    const metrics = await (await gw.request("/metrics")).text();
    assert.match(metrics, /retouch_http_requests_total\{method="POST",route="\/api\/v1\/images\/image2image",status="200"\} \d+/);
    assert.match(metrics, /retouch_edit_duration_seconds_count\{model="local\/content-aware-fill",outcome="ok"\} \d+/);

    const openapi = (await (await gw.request("/openapi.json")).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties: Record<string, unknown>; required: string[] }> };
    };
    assert.ok(openapi.paths["/api/v1/images/image2image"]);
    assert.ok(openapi.paths["/v1/images/edits"]);
    assert.ok(openapi.paths["/api/v1/models"]);
    const request = openapi.components.schemas.ImageToImageRequest;
    assert.deepEqual(Object.keys(request.properties).sort(), [
      "background",
      "image",
      "input_fidelity",
      "mask",
      "model",
      "n",
      "output_compression",
      "output_format",
      "partial_images",
      "prompt",
      "quality",
      "response_format",
      "size",
      "stream",
      "user",
    ]);
    assert.deepEqual(request.required.sort(), ["image", "prompt"]);

    const docs = await gw.request("/docs");
    assert.match(docs.headers.get("content-type")!, /text\/html/);
    assert.match(await docs.text(), /\/api\/v1\/images\/image2image/);
  });

  test("logs are JSON lines with a request id and never carry image bytes", async () => {
    assert.equal((await gw.postJson({ model: LOCAL, prompt: "p", image: dataUri(photo), mask: dataUri(maskPng) })).status, 200);
    const lines = gw.logs.map((line) => JSON.parse(line) as { req_id?: string; route?: string; status?: number });
    const edits = lines.filter((line) => line.route === "/api/v1/images/image2image" && line.status === 200);
    assert.ok(edits.length > 0);
    assert.ok(edits.every((line) => typeof line.req_id === "string" && line.req_id.length > 0));
    assert.ok(gw.logs.every((line) => !line.includes("base64") && line.length < 2000));
  });

  test("unknown routes are a JSON 404", async () => {
    const response = await gw.request("/api/v1/nothing");
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, "not_found");
  });
});

test("a small solid picture with a small mask is filled too (no crash on flat input)", async () => {
  const response = await gw.postJson({
    model: LOCAL,
    prompt: "p",
    image: dataUri(await solidImage(32, 32, "webp")),
    mask: dataUri(await squareMaskPng(16, 16, 8, 8, 4)),
  });
  assert.equal(response.status, 200, await response.clone().text());
});
