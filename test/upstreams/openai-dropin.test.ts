// Code written from OpenAI's documentation for gpt-image edits, pointed at
// retouch by changing only `baseURL`: the stock openai SDK, model "gpt-image-1",
// the answer's b64_json written to a file, OpenAI's own mask (transparent =
// edit). Against the gateway over HTTP (payments off) with a stand-in for
// OpenAI's API, and paid through `retouch proxy` on a devchain gateway. Then the
// whole request surface of the SDK's images.edit: every field is honoured or
// refused by name before anything is paid, none is dropped.

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import sharp from "sharp";
import { startProxy, type RunningProxy } from "../../src/client/proxy/index.ts";
import { startHttpGateway, type HttpGateway } from "../client/http-gateway.ts";
import { signV2 } from "../support/buyer.ts";
import { jsonInit } from "../support/edit-input.ts";
import { testBuyer } from "../support/test-buyer.ts";
import { dataUri, solidImage } from "../support/gateway.ts";
import { makeScene, redPixelCount, squareMask } from "../support/scene.ts";
import { createWalletClient } from "viem";
import { BASE } from "../../src/chains/index.ts";
import { USDC_ABI } from "../../src/chains/devchain/index.ts";
import { failure, heldSuccess, sizedSuccess, startFakeOpenAi, USAGE, type FakeOpenAi } from "./fake-openai.ts";

const KEY = "sk-test-dropin-5b6c7d8e";

let fake: FakeOpenAi;
let http: HttpGateway;
let dir: string;
let result: Buffer;
let photo: string;
let openai: OpenAI;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-dropin-"));
  result = await solidImage(1024, 1024, "png", "#1e6");
  fake = await startFakeOpenAi(KEY, result);
  http = await startHttpGateway({ RETOUCH_PAYMENTS: "off", OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseUrl });
  photo = join(dir, "photo.png");
  await writeFile(photo, await solidImage(96, 64, "png", "#a52"));
  openai = new OpenAI({ baseURL: `${http.url}/v1`, apiKey: "any key: retouch is paid per edit, not by key", maxRetries: 0 });
});
after(async () => {
  await http?.close();
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

/** Waits until `check` holds (checked every 25 ms, for up to 20 s). */
async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`gave up waiting for ${what}`);
}

/** An OpenAI-style mask: a copy of the picture, fully transparent where it is to be edited. */
async function openAiMask(width: number, height: number, hole: { left: number; top: number; size: number }): Promise<Buffer> {
  const rgba = Buffer.alloc(width * height * 4, 0xff);
  for (let y = hole.top; y < hole.top + hole.size; y++) {
    for (let x = hole.left; x < hole.left + hole.size; x++) rgba[(y * width + x) * 4 + 3] = 0;
  }
  return sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
}

/** The alpha channel OpenAI received in the mask: 0 where it is to edit. */
async function sentAlpha(): Promise<Buffer> {
  const mask = fake.received.at(-1)!.body.files.find((file) => file.field === "mask");
  assert.ok(mask, "a mask reached OpenAI");
  return sharp(mask.bytes).extractChannel(3).raw().toBuffer();
}

function transparentAt(alpha: Buffer, width: number): { x: number; y: number }[] {
  const found: { x: number; y: number }[] = [];
  for (let i = 0; i < alpha.length; i++) if (alpha[i] === 0) found.push({ x: i % width, y: Math.floor(i / width) });
  return found;
}

describe("OpenAI's documentation, with only baseURL changed", () => {
  test('images.edit({ model: "gpt-image-1" }): data[0].b64_json written to a file is the edited picture; the answer echoes size, quality, format, background and usage', async () => {
    const response = await openai.images.edit({
      model: "gpt-image-1",
      image: await toFile(createReadStream(photo), null, { type: "image/png" }),
      prompt: "Make the wall sky blue",
    });
    const out = join(dir, "edited.png");
    await writeFile(out, Buffer.from(response.data![0].b64_json!, "base64"));
    assert.deepEqual(await readFile(out), result, "the file holds the upstream's picture, byte for byte");
    assert.equal(response.data![0].url, undefined, "b64_json only, as OpenAI answers");
    assert.equal(response.size, "1024x1024", "no size: the model's default size");
    assert.equal(response.output_format, "png");
    assert.equal(response.quality, "medium");
    assert.equal(response.background, "opaque");
    assert.deepEqual(response.usage, USAGE);
    assert.equal(fake.received.length, 1);
    assert.equal(fake.received[0].body.fields.model, "gpt-image-1", "OpenAI's own name reaches OpenAI");
  });

  test('size "auto" makes the offered size nearest the picture\'s shape, and is priced at it', async () => {
    fake.reply(sizedSuccess());
    const response = await openai.images.edit({
      model: "gpt-image-1",
      image: await toFile(await readFile(photo), "photo.png", { type: "image/png" }),
      prompt: "x",
      size: "auto",
    });
    assert.equal(response.size, "1536x1024", "a landscape picture: the landscape size");
    assert.equal(fake.received[0].body.fields.size, "1536x1024");
    assert.equal((response as unknown as { price: { amount: string } }).price.amount, "0.042");
  });

  test("an OpenAI mask (transparent = edit) edits exactly where it is transparent, as OpenAI would", async () => {
    const hole = { left: 30, top: 20, size: 16 };
    await openai.images.edit({
      model: "gpt-image-1",
      image: await toFile(await readFile(photo), "photo.png", { type: "image/png" }),
      mask: await toFile(await openAiMask(96, 64, hole), "mask.png", { type: "image/png" }),
      prompt: "a window",
      size: "1024x1024",
    });
    const transparent = transparentAt(await sentAlpha(), 96);
    assert.equal(transparent.length, hole.size * hole.size, "the hole and nothing else");
    assert.ok(transparent.every(({ x, y }) => x >= hole.left && x < hole.left + hole.size && y >= hole.top && y < hole.top + hole.size));
  });

  test("retouch's own mask (white = edit, opaque) still works on OpenAI's route", async () => {
    const grey = Buffer.alloc(96 * 64);
    for (let y = 10; y < 20; y++) for (let x = 50; x < 60; x++) grey[y * 96 + x] = 255;
    await openai.images.edit({
      model: "gpt-image-1",
      image: await toFile(await readFile(photo), "photo.png", { type: "image/png" }),
      mask: await toFile(await sharp(grey, { raw: { width: 96, height: 64, channels: 1 } }).png().toBuffer(), "mask.png", { type: "image/png" }),
      prompt: "a window",
    });
    const transparent = transparentAt(await sentAlpha(), 96);
    assert.equal(transparent.length, 100);
    assert.ok(transparent.every(({ x, y }) => x >= 50 && x < 60 && y >= 10 && y < 20));
  });

  test('response_format "url" answers a link to the stored result instead', async () => {
    const response = await openai.images.edit({
      model: "gpt-image-1-mini",
      image: await toFile(await readFile(photo), "photo.png", { type: "image/png" }),
      prompt: "Make the wall sky blue",
      response_format: "url",
    });
    assert.equal(response.data![0].b64_json, undefined);
    const served = await fetch(response.data![0].url!);
    assert.equal(served.status, 200);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), result);
    assert.equal(fake.received[0].body.fields.model, "gpt-image-1-mini");
  });

  test("several OpenAI names resolve to their models, listed as aliases; unknown names are refused with the list", async () => {
    for (const name of ["gpt-image-1.5", "openai/gpt-image-1.5"]) {
      const response = await openai.images.edit({ model: name, image: await toFile(await readFile(photo), "p.png", { type: "image/png" }), prompt: "x", size: "1024x1024" });
      assert.ok(response.data![0].b64_json);
    }
    assert.deepEqual(fake.received.map((call) => call.body.fields.model), ["gpt-image-1.5", "gpt-image-1.5"]);
    const models = (await (await fetch(`${http.url}/api/v1/models`)).json()) as { data: { id: string; aliases: string[] }[] };
    assert.deepEqual(models.data.find((model) => model.id === "openai/gpt-image-1")?.aliases, ["gpt-image-1"]);
    await assert.rejects(
      openai.images.edit({ model: "dall-e-2", image: await toFile(await readFile(photo), "p.png", { type: "image/png" }), prompt: "x" }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === "model" && /gpt-image-1/.test(error.message),
    );
  });

  test("the seed route answers url by default and b64_json when asked", async () => {
    const edit = { model: "gpt-image-1", prompt: "x", image: dataUri(await readFile(photo)), size: "1024x1024" };
    const byDefault = (await (await http.gw.postJson(edit)).json()) as { data: { url?: string; b64_json?: string }[] };
    assert.ok(byDefault.data[0].url && !byDefault.data[0].b64_json);
    const inline = (await (await http.gw.postJson({ ...edit, response_format: "b64_json" })).json()) as { data: { url?: string; b64_json?: string }[]; price: { amount: string } };
    assert.deepEqual(Buffer.from(inline.data[0].b64_json!, "base64"), result);
    assert.equal(inline.data[0].url, undefined);
    assert.equal(inline.price.amount, "0.021", "priced the same");
  });
});

describe("the SDK's whole images.edit request surface", () => {
  /** A value the SDK would send for each documented field (image and prompt are always sent). */
  const SAMPLES: Record<string, unknown> = {
    background: "opaque",
    input_fidelity: "high",
    mask: "(file)",
    model: "gpt-image-1",
    n: 2,
    output_compression: 80,
    output_format: "webp",
    partial_images: 2,
    quality: "high",
    response_format: "b64_json",
    size: "1024x1536",
    stream: true,
    user: "end-user-42",
  };
  /** Fields that only make sense beside another. */
  const COMPANIONS: Record<string, Record<string, unknown>> = { output_compression: { output_format: "webp" }, partial_images: { stream: true } };

  /** The fields of ImageEditParamsBase in the openai package retouch ships. */
  async function sdkEditFields(): Promise<string[]> {
    const require = createRequire(import.meta.url);
    const types = await readFile(join(require.resolve("openai").replace(/index\.js$/, ""), "resources", "images.d.ts"), "utf8");
    const body = types.slice(types.indexOf("export interface ImageEditParamsBase {"));
    const block = body.slice(0, body.indexOf("\n}"));
    return [...block.matchAll(/^ {4}([a-z_]+)\??:/gm)].map((match) => match[1]);
  }

  test("every field is honoured (it reaches OpenAI or shapes the answer) or refused with a 400 naming it, before OpenAI is called", async () => {
    const fields = (await sdkEditFields()).filter((field) => field !== "image" && field !== "prompt");
    assert.ok(fields.length >= 13, `found ${fields.join(", ")}`);
    const unsampled = fields.filter((field) => !(field in SAMPLES));
    assert.deepEqual(unsampled, [], "a field the SDK added: give it a sample here and decide whether retouch honours it");
    const outcome: Record<string, string> = {};
    for (const field of fields) {
      fake.reset();
      fake.reply(sizedSuccess());
      const value = field === "mask" ? await toFile(await openAiMask(96, 64, { left: 0, top: 0, size: 8 }), "mask.png", { type: "image/png" }) : SAMPLES[field];
      const params = { model: "gpt-image-1", prompt: "x", image: await toFile(await readFile(photo), "p.png", { type: "image/png" }), ...COMPANIONS[field], [field]: value } as OpenAI.ImageEditParamsNonStreaming;
      try {
        const answer = (await openai.images.edit(params)) as OpenAI.ImagesResponse | AsyncIterable<OpenAI.ImageEditStreamEvent>;
        const events: OpenAI.ImageEditStreamEvent[] = [];
        if (Symbol.asyncIterator in answer) for await (const event of answer) events.push(event);
        assert.equal(fake.received.length, 1, field);
        const sent = fake.received[0].body;
        const reached = field === "mask" ? sent.files.some((file) => file.field === "mask") : sent.fields[field] === String(value);
        const data = "data" in answer ? answer.data! : [];
        const shaped = field === "response_format" ? data[0].b64_json !== undefined : field === "n" ? data.length === 2 : false;
        if (field === "stream" || field === "partial_images") assert.equal(events.at(-1)?.type, "image_edit.completed", field);
        assert.ok(reached || shaped, `${field} was accepted, so it must reach OpenAI or shape the answer`);
        outcome[field] = "honoured";
      } catch (error) {
        assert.ok(error instanceof OpenAI.BadRequestError, `${field}: ${String(error)}`);
        assert.equal(error.param, field, `the 400 names ${field}: ${error.message}`);
        assert.equal(fake.received.length, 0, `${field} refused before OpenAI was called`);
        outcome[field] = "refused";
      }
    }
    // Every field of the SDK is honoured.
    assert.deepEqual(Object.entries(outcome).filter(([, what]) => what === "refused").map(([field]) => field), []);
  });

  test('quality "auto" sends nothing and is priced at the size table; "standard" (dall-e-2 only) is refused naming quality', async () => {
    const edit = { model: "gpt-image-1", prompt: "x", image: dataUri(await readFile(photo)), size: "1024x1024" };
    const auto = await http.gw.postJson({ ...edit, quality: "auto" });
    assert.equal(auto.status, 200);
    assert.equal(((await auto.json()) as { price: { amount: string } }).price.amount, "0.021");
    assert.equal(fake.received[0].body.fields.quality, undefined);
    const standard = await http.gw.postJson({ ...edit, quality: "standard" });
    assert.equal(standard.status, 400);
    assert.equal(((await standard.json()) as { error: { param: string } }).error.param, "quality");
  });

  test("a field no edit takes is refused by name, in JSON and in a form", async () => {
    const json = await http.gw.postJson({ prompt: "x", image: dataUri(await readFile(photo)), moderation: "low" });
    assert.equal(json.status, 400);
    const jsonError = ((await json.json()) as { error: { param: string; message: string; code: string } }).error;
    assert.deepEqual([jsonError.param, jsonError.code], ["moderation", "unknown_parameter"]);
    assert.match(jsonError.message, /unknown field "moderation"/);

    const form = new FormData();
    form.append("prompt", "x");
    form.append("image", new Blob([await readFile(photo)], { type: "image/png" }), "p.png");
    form.append("style", "vivid");
    const multipart = await fetch(`${http.url}/v1/images/edits`, { method: "POST", body: form });
    assert.equal(multipart.status, 400);
    assert.equal(((await multipart.json()) as { error: { param: string } }).error.param, "style");
    assert.equal(fake.received.length, 0);
  });
});

describe("streaming, as OpenAI's docs write it (payments off)", () => {
  test("for await over images.edit({ stream: true, partial_images: 2 }): two previews in order, then the completed image, written to a file", async () => {
    const stream = await openai.images.edit({
      model: "gpt-image-1",
      image: await toFile(createReadStream(photo), null, { type: "image/png" }),
      prompt: "Make the wall sky blue",
      stream: true,
      partial_images: 2,
    });
    const seen: string[] = [];
    let finished: OpenAI.ImageEditCompletedEvent | undefined;
    for await (const event of stream) {
      seen.push(`${event.type}${event.type === "image_edit.partial_image" ? `#${event.partial_image_index}` : ""}`);
      if (event.type === "image_edit.partial_image") {
        assert.equal((await sharp(Buffer.from(event.b64_json, "base64")).metadata()).width, 256, "a preview, relayed as OpenAI sent it");
      } else {
        finished = event;
      }
    }
    assert.deepEqual(seen, ["image_edit.partial_image#0", "image_edit.partial_image#1", "image_edit.completed"]);
    const out = join(dir, "streamed.png");
    await writeFile(out, Buffer.from(finished!.b64_json, "base64"));
    assert.deepEqual(await readFile(out), result);
    assert.deepEqual(finished!.usage, USAGE);
    assert.equal(finished!.size, "1024x1024");
    assert.deepEqual([fake.received[0].body.fields.stream, fake.received[0].body.fields.partial_images], ["true", "2"]);
  });

  test("an edit that fails once the stream is open ends with an error event: the SDK throws OpenAI's error", async () => {
    fake.reply(failure(400, { message: "Your request was rejected by the safety system.", type: "image_generation_user_error", code: "moderation_blocked" }));
    const stream = await openai.images.edit({ model: "gpt-image-1", image: await toFile(await readFile(photo), "p.png", { type: "image/png" }), prompt: "x", stream: true });
    await assert.rejects(
      (async () => {
        for await (const _event of stream) assert.fail("no image event before the error");
      })(),
      (error: unknown) => error instanceof OpenAI.APIError && error.code === "content_policy_violation",
    );
  });

  test("the embedded engine streams previews from its coarse levels (scaled up), then the completed image", async () => {
    const scene = makeScene({ width: 256, height: 256 });
    const picture = await sharp(scene.rgb, { raw: { width: 256, height: 256, channels: 3 } }).png().toBuffer();
    const mask = await sharp(squareMask(256, 256, scene.disc.cx, scene.disc.cy, 120), { raw: { width: 256, height: 256, channels: 1 } }).png().toBuffer();
    const stream = await openai.images.edit({
      model: "local/content-aware-fill",
      image: await toFile(picture, "scene.png", { type: "image/png" }),
      mask: await toFile(mask, "mask.png", { type: "image/png" }),
      prompt: "remove the ball",
      stream: true,
      partial_images: 2,
    });
    const events: OpenAI.ImageEditStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(events.map((event) => event.type), ["image_edit.partial_image", "image_edit.partial_image", "image_edit.completed"]);
    assert.deepEqual(events.slice(0, 2).map((event) => (event as OpenAI.ImageEditPartialImageEvent).partial_image_index), [0, 1]);
    for (const event of events) {
      const { data, info } = await sharp(Buffer.from(event.b64_json, "base64")).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height], [256, 256], `${event.type}: full size`);
      if (event.type === "image_edit.completed") assert.equal(redPixelCount(data), 0, "the ball is gone");
    }
  });
});

describe("paid through retouch proxy, with the same code", () => {
  let paid: HttpGateway;
  let proxy: RunningProxy;
  before(async () => {
    paid = await startHttpGateway({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.baseUrl });
    proxy = await startProxy({
      port: 0,
      gateway: paid.url,
      wallet: paid.buyerWallet,
      baseRpc: paid.baseRpc,
      solanaRpc: paid.solanaRpc,
      env: { RETOUCH_HOME: join(dir, "home"), RETOUCH_IMAGE_DIR: join(dir, "images"), RETOUCH_SPEND_LOG: join(dir, "spend.jsonl") },
    });
  });
  after(async () => {
    await proxy?.close();
    await paid?.close();
  });

  test('model "gpt-image-1": b64_json written to a file, the OpenAI mask honoured, the buyer charged the quote once', async () => {
    const devchain = paid.gw.gateway.devchain!;
    const buyer = devchain.wallets.buyer.evm.address;
    const before = await devchain.usdcBalance("base", buyer);
    const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "x", maxRetries: 0 });
    const hole = { left: 40, top: 8, size: 12 };
    const response = await client.images.edit({
      model: "gpt-image-1",
      image: await toFile(createReadStream(photo), null, { type: "image/png" }),
      mask: await toFile(await openAiMask(96, 64, hole), "mask.png", { type: "image/png" }),
      prompt: "a round window",
      size: "1024x1024",
      quality: "low",
    });
    const out = join(dir, "paid.png");
    await writeFile(out, Buffer.from(response.data![0].b64_json!, "base64"));
    assert.deepEqual(await readFile(out), result);
    assert.equal(fake.received.at(-1)!.body.fields.quality, "low", "quality went through the proxy");
    assert.equal(transparentAt(await sentAlpha(), 96).length, hole.size * hole.size);
    // gpt-image-1 low at 1024x1024: $0.011 + 5% = $0.01155.
    assert.equal(before - (await devchain.usdcBalance("base", buyer)), 11_550n);
  });

  /** The events of a server-sent-events body, in order. */
  async function events(response: Response): Promise<{ event: string; data: Record<string, unknown> }[]> {
    assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
    return (await response.text())
      .split("\n\n")
      .filter((block) => block.trim())
      .map((block) => {
        const lines = block.split("\n");
        const event = lines.find((line) => line.startsWith("event:"))!.slice(6).trim();
        return { event, data: JSON.parse(lines.filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()).join("\n")) };
      });
  }

  test("a paid stream: the quote is a plain 402; paid, the previews stream, then the completed event carrying the settled payment; charged once", async () => {
    const buyer = await testBuyer(paid.gw);
    const edit = { model: "gpt-image-1", prompt: "paid stream", image: dataUri(await readFile(photo)), size: "1024x1024", stream: true, partial_images: 2 };
    const { header, required } = await signV2(paid.gw, "base", "/api/v1/images/image2image", jsonInit(edit), buyer.wallet);
    const response = await paid.gw.request("/api/v1/images/image2image", jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    assert.equal(response.status, 200);
    const seen = await events(response);
    assert.deepEqual(seen.map((e) => e.event), ["image_edit.partial_image", "image_edit.partial_image", "image_edit.completed"]);
    const completed = seen[2].data as { b64_json: string; payment: { status: string; tx_hash: string } };
    assert.deepEqual(Buffer.from(completed.b64_json, "base64"), result);
    assert.equal(completed.payment.status, "settled");
    const price = BigInt(required.accepts[0].amount);
    assert.equal(await buyer.paid("base"), price, "charged exactly the quote");
    assert.deepEqual(await buyer.rows(), [{ status: "settled", tx_hash: completed.payment.tx_hash }]);
  });

  test("a paid stream whose edit fails ends with an error event, and nothing is charged", async () => {
    const buyer = await testBuyer(paid.gw);
    const edit = { model: "gpt-image-1", prompt: "paid stream, refused", image: dataUri(await readFile(photo)), size: "1024x1024", stream: true };
    const { header } = await signV2(paid.gw, "base", "/api/v1/images/image2image", jsonInit(edit), buyer.wallet);
    fake.reply(failure(400, { message: "Your request was rejected by the safety system.", type: "image_generation_user_error", code: "moderation_blocked" }));
    const response = await paid.gw.request("/api/v1/images/image2image", jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const seen = await events(response);
    assert.deepEqual(seen.map((e) => e.event), ["error"]);
    assert.equal((seen[0].data.error as { code: string }).code, "content_policy_violation");
    assert.equal(await buyer.paid("base"), 0n);
    assert.deepEqual((await buyer.rows()).map((row) => row.status), ["failed"]);
  });

  test("a paid stream whose settlement fails (the buyer cancelled the authorization mid-edit) ends with an error event and no image; nothing moves", async () => {
    const buyer = await testBuyer(paid.gw);
    const devchain = paid.gw.gateway.devchain!;
    const edit = { model: "gpt-image-1", prompt: "paid stream, cancelled", image: dataUri(await readFile(photo)), size: "1024x1024", stream: true, partial_images: 1 };
    const { header, payload } = await signV2(paid.gw, "base", "/api/v1/images/image2image", jsonInit(edit), buyer.wallet);
    const { reply, arrived, letGo } = heldSuccess([result]);
    fake.reply(reply);
    const answer = paid.gw.request("/api/v1/images/image2image", jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    await arrived;
    const account = buyer.wallet.evm;
    const nonce = (payload.payload as { authorization: { nonce: `0x${string}` } }).authorization.nonce;
    const signature = await account.signTypedData({
      domain: { name: BASE.usdc.name, version: BASE.usdc.version, chainId: BASE.chainId, verifyingContract: BASE.usdc.address },
      types: { CancelAuthorization: [{ name: "authorizer", type: "address" }, { name: "nonce", type: "bytes32" }] },
      primaryType: "CancelAuthorization",
      message: { authorizer: account.address, nonce },
    });
    // Anyone may send the buyer's signed cancellation; the devchain's own buyer has the gas.
    const wallet = createWalletClient({ account: devchain.wallets.buyer.evm, chain: devchain.evm.chain, transport: devchain.evm.transport });
    await devchain.evm.publicClient.waitForTransactionReceipt({
      hash: await wallet.writeContract({ address: BASE.usdc.address, abi: USDC_ABI, functionName: "cancelAuthorization", args: [account.address, nonce, signature] }),
    });
    letGo();
    const seen = await events(await answer);
    assert.deepEqual(seen.map((e) => e.event), ["image_edit.partial_image", "error"], "the preview, then the refusal: never the image");
    assert.equal((seen[1].data.error as { code: string }).code, "settlement_failed");
    assert.equal(await buyer.paid("base"), 0n);
    assert.deepEqual((await buyer.rows()).map((row) => row.status), ["failed"]);
  });

  test("a client that leaves a paid stream before the end is not charged; the same payment sent again gets the result, charged once", async () => {
    const buyer = await testBuyer(paid.gw);
    const edit = { model: "gpt-image-1", prompt: "paid stream, abandoned", image: dataUri(await readFile(photo)), size: "1024x1024", stream: true };
    const { header, required } = await signV2(paid.gw, "base", "/api/v1/images/image2image", jsonInit(edit), buyer.wallet);
    const { reply, arrived, letGo } = heldSuccess([result]);
    fake.reply(reply);
    const leaving = new AbortController();
    const answer = await paid.gw.request("/api/v1/images/image2image", { ...jsonInit(edit, { "PAYMENT-SIGNATURE": header }), signal: leaving.signal });
    assert.equal(answer.status, 200);
    await arrived;
    leaving.abort();
    letGo();
    await waitFor(async () => (await buyer.rows())[0]?.status === "completed", "the edit to complete, unsettled");
    assert.equal(await buyer.paid("base"), 0n, "not charged while nobody received the image");
    const again = await paid.gw.request("/api/v1/images/image2image", jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const seen = await events(again);
    assert.deepEqual(seen.map((e) => e.event), ["image_edit.completed"]);
    assert.equal((seen[0].data.payment as { status: string }).status, "settled");
    assert.equal(await buyer.paid("base"), BigInt(required.accepts[0].amount), "charged once, on the replay");
  });

  test("the SDK's streaming loop through the proxy: previews, then the completed image (saved by the proxy too); the buyer charged the quote once", async () => {
    const devchain = paid.gw.gateway.devchain!;
    const buyer = devchain.wallets.buyer.evm.address;
    const before = await devchain.usdcBalance("base", buyer);
    const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "x", maxRetries: 0 });
    const stream = await client.images.edit({
      model: "gpt-image-1",
      image: await toFile(createReadStream(photo), null, { type: "image/png" }),
      prompt: "a round window, streamed",
      size: "1024x1024",
      stream: true,
      partial_images: 1,
    });
    const seen: OpenAI.ImageEditStreamEvent[] = [];
    for await (const event of stream) seen.push(event);
    assert.deepEqual(seen.map((event) => event.type), ["image_edit.partial_image", "image_edit.completed"]);
    const completed = seen[1] as OpenAI.ImageEditCompletedEvent & { url: string };
    await writeFile(join(dir, "proxied.png"), Buffer.from(completed.b64_json, "base64"));
    assert.deepEqual(await readFile(join(dir, "proxied.png")), result);
    const saved = await fetch(completed.url);
    assert.equal(saved.status, 200, "the proxy kept the image and serves it");
    assert.deepEqual(Buffer.from(await saved.arrayBuffer()), result);
    assert.equal(before - (await devchain.usdcBalance("base", buyer)), 21_000n, "gpt-image-1 at 1024x1024: $0.021, once");
    assert.deepEqual(await readdir(join(dir, "home", "pending")), [], "the payment was recorded as pending while it ran, and dropped once the image was saved");
  });

  test("a field the gateway refuses is refused through the proxy too, naming it, and nothing is paid", async () => {
    const devchain = paid.gw.gateway.devchain!;
    const buyer = devchain.wallets.buyer.evm.address;
    const before = await devchain.usdcBalance("base", buyer);
    const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "x", maxRetries: 0 });
    await assert.rejects(
      client.images.edit({ model: "gpt-image-1", image: await toFile(await readFile(photo), "p.png", { type: "image/png" }), prompt: "x", partial_images: 2 }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === "partial_images",
    );
    assert.equal(await devchain.usdcBalance("base", buyer), before);
  });
});
