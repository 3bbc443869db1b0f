// CORS as a page on another site meets it: every public route family answers
// the preflight and lets the page read what it needs (the 402's offer, the
// settlement, Retry-After, the request id) on successes and on errors; the
// operations routes stay closed; RETOUCH_CORS_ORIGINS narrows or turns it off.
// The browser itself is in test/browser/cors-payment.test.ts.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CORS_MAX_AGE_SECONDS } from "../src/server/cors.ts";
import { decodeHeader, payingFetch, signV2 } from "./support/buyer.ts";
import { dataUri, solidImage, startTestGateway, type TestGateway } from "./support/gateway.ts";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";
import { testBuyer } from "./support/test-buyer.ts";
import { hang } from "./upstreams/fake-server.ts";
import { startFakeOpenAi } from "./upstreams/fake-openai.ts";

const PAGE = "https://app.example.com";
const EDIT = "/api/v1/images/image2image";

/** The public routes, one per family, with the method a page uses on it. */
const PUBLIC_ROUTES: [method: string, path: string][] = [
  ["POST", EDIT],
  ["POST", "/v1/images/edits"],
  ["GET", "/api/v1/images/jobs/0b6c3f8e-5a0d-4d5e-9f57-1b2c3d4e5f60"],
  ["GET", "/api/v1/files/0b6c3f8e5a0d4d5e9f571b2c3d4e5f60.png"],
  ["GET", "/api/v1/models"],
  ["GET", "/openapi.json"],
];

/** The headers a browser asks for when x402's client pays or polls. */
const PAGE_REQUEST_HEADERS = "content-type,payment-signature,x-payment,sign-in-with-x,access-control-expose-headers";

function preflight(gw: TestGateway, path: string, method: string, origin = PAGE): Promise<Response> {
  return gw.request(path, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": PAGE_REQUEST_HEADERS },
  });
}

const fromPage = (init: RequestInit = {}, origin = PAGE): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), origin } });

/** What the browser checks before it lets the page see `response` and its headers. */
function assertReadable(response: Response, origin = "*"): void {
  assert.equal(response.headers.get("access-control-allow-origin"), origin, `status ${response.status}: Access-Control-Allow-Origin`);
  assert.equal(response.headers.get("access-control-allow-credentials"), null, "no credentials mode: no cookies are read");
  const exposed = (response.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(/\s*,\s*/);
  for (const name of ["payment-required", "payment-response", "x-payment-response", "retry-after", "x-request-id"]) {
    assert.ok(exposed.includes(name), `status ${response.status}: ${name} is not exposed (${exposed.join(",")})`);
  }
}

describe("RETOUCH_CORS_ORIGINS unset: any origin (*)", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw?.close());

  test("every public route family answers the preflight with 204, the methods, x402's headers and a max age", async () => {
    for (const [method, path] of PUBLIC_ROUTES) {
      const response = await preflight(gw, path, method);
      assert.equal(response.status, 204, `${method} ${path}`);
      assert.equal(response.headers.get("access-control-allow-origin"), "*", path);
      assert.match(response.headers.get("access-control-allow-methods")!, new RegExp(`\\b${method}\\b`), path);
      const allowed = response.headers.get("access-control-allow-headers")!.toLowerCase().split(",");
      for (const name of PAGE_REQUEST_HEADERS.split(",")) assert.ok(allowed.includes(name), `${path}: ${name} not allowed (${allowed.join(",")})`);
      assert.ok(!allowed.includes("authorization"), "authorization is not taken by the public API");
      assert.equal(response.headers.get("access-control-max-age"), String(CORS_MAX_AGE_SECONDS));
      assert.equal(await response.text(), "");
    }
  });

  test("a 200 edit, the models, the OpenAPI document and the result file are readable by the page", async () => {
    const edited = await gw.request(EDIT, fromPage(jsonInit(await sceneEdit(64))));
    assert.equal(edited.status, 200, await edited.clone().text());
    assertReadable(edited);
    assert.ok(edited.headers.get("x-request-id"), "the id the page may quote is there to read");
    const { data } = (await edited.json()) as { data: { url: string }[] };

    const file = await gw.request(new URL(data[0]!.url).pathname, fromPage());
    assert.equal(file.status, 200);
    assertReadable(file);
    assert.ok(file.headers.get("access-control-expose-headers")!.includes("ETag"));
    assert.deepEqual([...new Uint8Array(await file.arrayBuffer()).subarray(1, 4)], [...Buffer.from("PNG")]);

    for (const path of ["/api/v1/models", "/openapi.json"]) {
      const response = await gw.request(path, fromPage());
      assert.equal(response.status, 200, path);
      assertReadable(response);
    }
  });

  test("a 400 and a 404 are readable: the page shows the message, not a network error", async () => {
    const bad = await gw.request(EDIT, fromPage(jsonInit({ ...(await sceneEdit(64)), image: "data:image/png;base64,AAAA" })));
    assert.equal(bad.status, 400);
    assertReadable(bad);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, "invalid_image_format");

    const missing = await gw.request("/api/v1/files/0b6c3f8e5a0d4d5e9f571b2c3d4e5f60.png", fromPage());
    assert.equal(missing.status, 404);
    assertReadable(missing);
  });

  test("operations routes are not opened to other origins, preflight or not", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics", "/docs"]) {
      const answer = await gw.request(path, fromPage());
      assert.equal(answer.headers.get("access-control-allow-origin"), null, `GET ${path}`);
      const asked = await preflight(gw, path, "GET");
      assert.notEqual(asked.status, 204, `OPTIONS ${path}`);
      assert.equal(asked.headers.get("access-control-allow-origin"), null, `OPTIONS ${path}`);
    }
  });
});

describe("paid answers from another origin (devchain)", () => {
  let gw: TestGateway;
  let queued: TestGateway;
  before(async () => {
    [gw, queued] = await Promise.all([
      startTestGateway({ RETOUCH_PAYMENTS: "devchain" }),
      startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_INLINE_WINDOW_MS: "0" }),
    ]);
  });
  after(() => Promise.all([gw?.close(), queued?.close()]));

  test("the 402's offer and, once paid, the 200's settlement are readable", async () => {
    const edit = await sceneEdit(64, "remove the ball (cors 200)");
    const quote = await gw.request(EDIT, fromPage(jsonInit(edit)));
    assert.equal(quote.status, 402);
    assertReadable(quote);
    assert.ok(quote.headers.get("payment-required"), "the offer the page must read is in PAYMENT-REQUIRED");

    const buyer = await testBuyer(gw);
    const paid = await payingFetch(gw, "base", buyer.wallet)(new URL(EDIT, gw.config.publicUrl), fromPage(jsonInit(edit)));
    assert.equal(paid.status, 200, await paid.clone().text());
    assertReadable(paid);
    const settlement = decodeHeader<{ success: boolean; transaction: string }>(paid.headers.get("payment-response"));
    assert.equal(settlement.success, true);
    assert.ok(await buyer.paid("base") > 0n, "the buyer paid on chain");
  });

  test("a 202 is readable, with its Retry-After", async () => {
    const edit = await sceneEdit(64, "remove the ball (cors 202)");
    const buyer = await testBuyer(queued);
    const { header } = await signV2(queued, "base", EDIT, jsonInit(edit), buyer.wallet);
    const accepted = await queued.request(EDIT, fromPage(jsonInit(edit, { "PAYMENT-SIGNATURE": header })));
    assert.equal(accepted.status, 202, await accepted.clone().text());
    assertReadable(accepted);
    assert.ok(Number(accepted.headers.get("retry-after")) >= 1, "the page reads when to poll");
    const { id } = (await accepted.json()) as { id: string };
    // The edit goes on after the 202: let it finish before the gateway closes.
    for (let i = 0; (await queued.gateway.ledger!.byJob(id))?.status !== "completed"; i++) {
      assert.ok(i < 600, "the queued edit completes");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });
});

test("a 429 is readable with its Retry-After: the page can wait instead of failing", async () => {
  const gw = await startTestGateway({ RETOUCH_PAYMENTS: "devchain", RETOUCH_NETWORKS: "base", RETOUCH_LIMIT_QUOTES_PER_MIN: "1" });
  try {
    const edit = await sceneEdit(64);
    assert.equal((await gw.request(EDIT, fromPage(jsonInit(edit)))).status, 402);
    const refused = await gw.request(EDIT, fromPage(jsonInit(edit)));
    assert.equal(refused.status, 429);
    assertReadable(refused);
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
  } finally {
    await gw.close();
  }
});

test("a 504 is readable: the page can say the edit timed out and nothing was charged", async () => {
  const upstream = await startFakeOpenAi("sk-test-cors-504", await solidImage(64, 64));
  upstream.reply(hang());
  const gw = await startTestGateway({ RETOUCH_UPSTREAM_TIMEOUT_MS: "300", OPENAI_API_KEY: "sk-test-cors-504", OPENAI_BASE_URL: upstream.baseUrl });
  try {
    const edit = { model: "gpt-image-1", prompt: "p", image: dataUri(await solidImage(64, 64)) };
    const response = await gw.request("/v1/images/edits", fromPage(jsonInit(edit)));
    assert.equal(response.status, 504, await response.clone().text());
    assertReadable(response);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

describe("RETOUCH_CORS_ORIGINS as a list: exact origins only, Vary: Origin", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ RETOUCH_CORS_ORIGINS: `${PAGE}, http://localhost:5173` });
  });
  after(() => gw?.close());

  test("a listed origin is echoed back, on the preflight and on the answer, with Vary: Origin", async () => {
    for (const origin of [PAGE, "http://localhost:5173"]) {
      const asked = await preflight(gw, EDIT, "POST", origin);
      assert.equal(asked.status, 204);
      assert.equal(asked.headers.get("access-control-allow-origin"), origin);
      assert.match(asked.headers.get("vary")!, /Origin/);
      const models = await gw.request("/api/v1/models", fromPage({}, origin));
      assertReadable(models, origin);
      assert.match(models.headers.get("vary")!, /Origin/, "a cache must not hand one origin's answer to another");
    }
  });

  test("any other origin gets no Access-Control-Allow-Origin, so the browser refuses; near misses included", async () => {
    for (const origin of ["https://evil.example.com", "http://app.example.com", "https://app.example.com:8443", "https://app.example.com.evil.net", "null"]) {
      const asked = await preflight(gw, EDIT, "POST", origin);
      assert.equal(asked.headers.get("access-control-allow-origin"), null, origin);
      const models = await gw.request("/api/v1/models", fromPage({}, origin));
      assert.equal(models.status, 200, "the server still answers; the browser is what refuses");
      assert.equal(models.headers.get("access-control-allow-origin"), null, origin);
    }
  });
});

test("RETOUCH_CORS_ORIGINS=off: no preflight and no CORS header anywhere", async () => {
  const gw = await startTestGateway({ RETOUCH_CORS_ORIGINS: "off" });
  try {
    const asked = await preflight(gw, EDIT, "POST");
    assert.equal(asked.status, 404);
    assert.equal(asked.headers.get("access-control-allow-origin"), null);
    const models = await gw.request("/api/v1/models", fromPage());
    assert.equal(models.headers.get("access-control-allow-origin"), null);
  } finally {
    await gw.close();
  }
});

