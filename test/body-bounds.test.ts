// Bodies shaped to cost the gateway seconds (600,000 multipart parts, a JSON
// array of 1.2 million items, deep nesting) are refused early with a code
// naming the limit, while the gateway keeps answering others; content types
// are matched exactly; ordinary edits still work. Over real HTTP.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Agent, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { squareMaskPng, solidImage, startTestGateway, type TestGateway } from "./support/gateway.ts";
import { sceneEdit } from "./support/edit-input.ts";

const EDITS = "/v1/images/edits";
const IMAGE2IMAGE = "/api/v1/images/image2image";
const BOUNDARY = "----f";

interface HttpGateway {
  gw: TestGateway;
  url: string;
  close(): Promise<void>;
}

async function startHttpGateway(env: Record<string, string> = {}): Promise<HttpGateway> {
  const gw = await startTestGateway(env);
  const server = serve({ fetch: gw.gateway.app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    gw,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.close();
      await gw.close();
    },
  };
}

/** `count` tiny `image[]` file parts, ~76 bytes each: 600,000 make the 46 MB body. */
function partFlood(count: number): Buffer {
  const part = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image[]"; filename="a"\r\n\r\nx\r\n`;
  return Buffer.from(`${part.repeat(count)}--${BOUNDARY}--\r\n`);
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** Bytes of the request body the client had handed to the socket when the answer's head arrived. */
  sentWhenAnswered: number;
}

/**
 * POSTs `body` a megabyte at a time, as fast as the socket takes it, to its end
 * or until the gateway closes the connection, as a client sending a flood would.
 * Over a keep-alive connection, as fetch and the OpenAI SDK send; `chunked` leaves out Content-Length.
 */
function post(url: string, path: string, contentType: string, body: Buffer, { chunked = false } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const agent = new Agent({ keepAlive: true });
    let sent = 0;
    let answered = false;
    let answer: Answer | undefined;
    let open = true;
    const finish = () => {
      if (!answer || open) return;
      agent.destroy();
      resolve(answer);
    };
    const req = httpRequest(`${url}${path}`, {
      method: "POST",
      agent,
      headers: { "content-type": contentType, ...(chunked ? {} : { "content-length": body.length }) },
    });
    req.on("error", (error) => (answered ? undefined : reject(error))); // once answered: the gateway hung up on the rest
    req.on("close", () => {
      open = false;
      finish();
    });
    req.on("response", (res) => {
      answered = true;
      const sentWhenAnswered = sent;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        answer = { status: res.statusCode!, headers: res.headers, body: JSON.parse(text), sentWhenAnswered };
        if (sent >= body.length) req.destroy(); // all sent: the connection is not needed any more
        finish();
      });
    });
    const sendMore = () => {
      while (sent < body.length) {
        const chunk = body.subarray(sent, sent + 1024 * 1024);
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", sendMore);
      }
      req.end();
      if (answer) req.destroy();
    };
    sendMore();
  });
}

/**
 * Sends GET /healthz at once and then every 10 ms for as long as `work` runs;
 * how many of the requests sent meanwhile were answered 200 (awaiting them all).
 */
async function healthzAnswersDuring<T>(url: string, work: Promise<T>): Promise<{ result: T; answers: number }> {
  const checks: Promise<boolean>[] = [];
  let running = true;
  const check = () =>
    fetch(`${url}/healthz`).then(
      async (response) => (await response.arrayBuffer(), response.status === 200),
      () => false,
    );
  const poll = (async () => {
    while (running) {
      checks.push(check());
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    return { result: await work, answers: (await Promise.all(checks)).filter(Boolean).length };
  } finally {
    running = false;
    await poll;
  }
}

function errorOf(answer: Answer): { message: string; code: string; param: string | null } {
  assert.deepEqual(Object.keys(answer.body), ["error"], JSON.stringify(answer.body).slice(0, 300));
  return answer.body.error as { message: string; code: string; param: string | null };
}

async function multipartEdit(): Promise<FormData> {
  const form = new FormData();
  form.append("model", "local/content-aware-fill");
  form.append("prompt", "fill the square");
  form.append("image", new Blob([await solidImage(64, 64, "png", "#3a7")], { type: "image/png" }), "photo.png");
  form.append("mask", new Blob([await squareMaskPng(64, 64, 32, 32, 16)], { type: "image/png" }), "mask.png");
  return form;
}

describe("payments off", () => {
  let http: HttpGateway;
  before(async () => {
    http = await startHttpGateway();
    await fetch(`${http.url}/healthz`); // the first fetch of a process loads the client
  });
  after(() => http.close());

  test("600,000 tiny image[] parts (46 MB) are a 413 too_many_files, answered before the body is all sent; /healthz answers meanwhile", async () => {
    const flood = partFlood(600_000);
    assert.ok(flood.length > 45e6 && flood.length < http.gw.config.maxBodyBytes, String(flood.length));
    const { result: answer, answers } = await healthzAnswersDuring(
      http.url,
      post(http.url, EDITS, `multipart/form-data; boundary=${BOUNDARY}`, flood),
    );
    const error = errorOf(answer);
    assert.equal(answer.status, 413, error.message);
    assert.equal(error.code, "too_many_files");
    assert.match(error.message, /more than 17 file parts; this endpoint takes at most 17 files and 32 text fields, 40 parts in all/);
    assert.ok(answer.sentWhenAnswered < flood.length, "the gateway read the whole flood before answering");
    assert.ok(answers >= 1, "no /healthz sent during the flood was answered");
    const health = await fetch(`${http.url}/healthz`);
    assert.equal(health.status, 200);
  });

  test("the same flood without Content-Length (chunked) is a 413 too_many_files too", async () => {
    // Nothing buffers a chunked body before the parser: it stops at the 18th file, long before the end.
    const body = partFlood(600_000);
    const answer = await post(http.url, EDITS, `multipart/form-data; boundary=${BOUNDARY}`, body, { chunked: true });
    assert.equal(answer.status, 413, JSON.stringify(answer.body).slice(0, 300));
    assert.equal(errorOf(answer).code, "too_many_files");
    assert.ok(answer.sentWhenAnswered < body.length, `answered after ${answer.sentWhenAnswered} of ${body.length} bytes`);
  });

  test("a chunked body over RETOUCH_MAX_BODY_BYTES is a 413 as soon as it crosses the limit, not after it is all read", async () => {
    const small = await startHttpGateway({ RETOUCH_PAYMENTS: "off", RETOUCH_MAX_BODY_BYTES: String(1024 * 1024) });
    try {
      const body = Buffer.from(`{"prompt":"p","image":"data:image/png;base64,${"A".repeat(40 * 1024 * 1024)}"}`);
      const answer = await post(small.url, IMAGE2IMAGE, "application/json", body, { chunked: true });
      assert.equal(answer.status, 413, JSON.stringify(answer.body));
      assert.equal(errorOf(answer).code, "payload_too_large");
      assert.match(errorOf(answer).message, /larger than the limit of 1048576 bytes/);
      assert.ok(answer.sentWhenAnswered < body.length, `answered after ${answer.sentWhenAnswered} of ${body.length} bytes`);
    } finally {
      await small.close();
    }
  });

  test("a JSON array of 1.2 million items is a 400 naming the 64-item limit", async () => {
    const body = Buffer.from(`{"prompt":"p","image":[${'"x",'.repeat(1_200_000)}"x"]}`);
    const { result: answer, answers } = await healthzAnswersDuring(http.url, post(http.url, IMAGE2IMAGE, "application/json", body));
    const error = errorOf(answer);
    assert.equal(answer.status, 400, error.message);
    assert.equal(error.code, "json_array_too_long");
    assert.match(error.message, /more than 64 items/);
    assert.ok(answers >= 1);
  });

  test("JSON nested 9 deep is a 400 naming the depth limit", async () => {
    const body = Buffer.from(`{"prompt":"p","image":"x","mask":${"[".repeat(8)}${"]".repeat(8)}}`);
    const error = errorOf(await post(http.url, IMAGE2IMAGE, "application/json", body));
    assert.equal(error.code, "json_too_deep");
    assert.match(error.message, /more than 8 deep/);
  });

  test("application/jsonx, application/json-seq and multipart/mixed are 415", async () => {
    const json = Buffer.from(JSON.stringify(await sceneEdit(64)));
    for (const type of ["application/jsonx", "application/json-seq", "multipart/mixed; boundary=x", "text/plain"]) {
      const answer = await post(http.url, IMAGE2IMAGE, type, json);
      const error = errorOf(answer);
      assert.equal(answer.status, 415, `${type}: ${error.message}`);
      assert.equal(error.message, `Content-Type must be application/json or multipart/form-data, got "${type}"`);
    }
  });

  test("multipart/form-data without a boundary, or cut short, is a 400 invalid_multipart", async () => {
    const flood = partFlood(3);
    const noBoundary = await post(http.url, EDITS, "multipart/form-data", flood);
    assert.deepEqual([noBoundary.status, errorOf(noBoundary).code], [400, "invalid_multipart"]);
    const cut = await post(http.url, EDITS, `multipart/form-data; boundary=${BOUNDARY}`, flood.subarray(0, flood.length - 20));
    assert.deepEqual([cut.status, errorOf(cut).code], [400, "invalid_multipart"]);
  });

  test("application/json; charset=utf-8 (any case) is still an edit", async () => {
    const json = Buffer.from(JSON.stringify(await sceneEdit(64)));
    const answer = await post(http.url, IMAGE2IMAGE, "Application/JSON; charset=utf-8", json);
    assert.equal(answer.status, 200, JSON.stringify(answer.body).slice(0, 300));
    assert.equal((answer.body.data as unknown[]).length, 1);
  });

  test("a multipart edit with an image and a mask still succeeds", async () => {
    const response = await fetch(`${http.url}${EDITS}`, { method: "POST", body: await multipartEdit() });
    const body = (await response.json()) as { data: { url: string }[] };
    assert.equal(response.status, 200, JSON.stringify(body).slice(0, 300));
    assert.equal(body.data.length, 1);
  });
});

describe("payments on (devchain)", () => {
  let http: HttpGateway;
  before(async () => {
    http = await startHttpGateway({ RETOUCH_PAYMENTS: "devchain" });
  });
  after(() => http.close());

  test("a flood of 200,000 parts gets a 413, no 402 quote", async () => {
    const answer = await post(http.url, IMAGE2IMAGE, `multipart/form-data; boundary=${BOUNDARY}`, partFlood(200_000));
    assert.equal(answer.status, 413, JSON.stringify(answer.body).slice(0, 300));
    assert.equal(errorOf(answer).code, "too_many_files");
    assert.equal(answer.headers["payment-required"], undefined);
  });

  test("control: the same gateway quotes a good multipart edit (402)", async () => {
    const response = await fetch(`${http.url}${EDITS}`, { method: "POST", body: await multipartEdit() });
    assert.equal(response.status, 402, await response.clone().text());
    assert.ok(response.headers.get("payment-required"));
  });
});
