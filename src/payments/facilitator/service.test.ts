// `retouch facilitator`'s HTTP face in this process (Hono's app.request, no socket): bearer auth,
// the bodies it refuses and how, what it logs and counts, and a facilitator that fails, over the
// devchain's real x402 facilitator. test/facilitator-service.test.ts runs the command itself.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { BASE } from "../../chains/index.ts";
import { startTestDevchain, type TestDevchain } from "../../chains/devchain/testing.ts";
import { createLogger } from "../../server/observability.ts";
import { x402ClientFor } from "../../../test/support/buyer.ts";
import { devchainX402Facilitator } from "./in-process.ts";
import { createFacilitatorMetrics, facilitatorApp, MAX_FACILITATOR_BODY_BYTES } from "./service.ts";

let chain: TestDevchain;
before(async () => {
  chain = await startTestDevchain();
});
after(() => chain?.dispose());

/** The app over `facilitator`, with its log lines (parsed) and its metrics registry. */
function service(options: { token?: string; facilitator?: x402Facilitator } = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger("info", { write: (line: string) => void lines.push(JSON.parse(line)) });
  const metrics = createFacilitatorMetrics();
  const facilitator = options.facilitator ?? devchainX402Facilitator(chain.devchain);
  const app = facilitatorApp({ facilitator, logger, metrics, token: options.token });
  const call = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  return { app, lines, metrics, facilitator, call };
}

/** A v2 exact USDC payment on Base, signed by the devchain's buyer, for `amount` to a fresh seller. */
async function payment(amount = "1000"): Promise<{ paymentPayload: PaymentPayload; paymentRequirements: PaymentRequirements }> {
  const paymentRequirements: PaymentRequirements = {
    scheme: "exact",
    network: BASE.caip2,
    asset: BASE.usdc.address,
    amount,
    payTo: privateKeyToAccount(generatePrivateKey()).address,
    maxTimeoutSeconds: 300,
    extra: { name: "USD Coin", version: "2" },
  };
  const paymentPayload = await x402ClientFor(chain.devchain, "base").createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1/edit", description: "test", mimeType: "application/json" },
    accepts: [paymentRequirements],
  });
  return { paymentPayload: paymentPayload as PaymentPayload, paymentRequirements };
}

/** The value of one sample line of the metrics text, or undefined when there is none. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("auth", () => {
  const token = "a-token-for-this-test-0123456789";

  test("with a token: everything but /healthz needs `Authorization: Bearer <token>`, exactly", async () => {
    const { app, call } = service({ token });
    assert.equal((await app.request("/healthz")).status, 200);
    for (const authorization of [undefined, `Bearer ${token.replace("a", "b")}`, `Bearer ${token}x`, `bearer ${token}`, token, `Bearer  ${token}`]) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const answer = await app.request("/supported", { headers });
      assert.equal(answer.status, 401, `${authorization}`);
      assert.equal(answer.headers.get("www-authenticate"), 'Bearer realm="facilitator"');
      assert.deepEqual(await answer.json(), { error: "this facilitator needs Authorization: Bearer <RETOUCH_FACILITATOR_TOKEN>" });
      assert.equal((await call("/verify", await payment(), headers)).status, 401);
      assert.equal((await app.request("/metrics", { headers })).status, 401);
    }
    const authorization = `Bearer ${token}`;
    assert.equal((await app.request("/supported", { headers: { authorization } })).status, 200);
    assert.equal((await app.request("/metrics", { headers: { authorization } })).status, 200);
  });

  test("without a token (loopback only): open, and /supported is what the facilitator registered", async () => {
    const { app, facilitator, metrics: registry } = service();
    const supported = await app.request("/supported");
    assert.equal(supported.status, 200);
    assert.deepEqual(await supported.json(), JSON.parse(JSON.stringify(facilitator.getSupported())));
    assert.deepEqual(await (await app.request("/healthz")).json(), { status: "ok" });
    const metrics = await app.request("/metrics");
    assert.equal(metrics.headers.get("content-type"), registry.registry.contentType);
    assert.match(registry.registry.contentType, /^text\/plain; version=0\.0\.4/);
    // A request id longer than 64 characters is not echoed (nor logged): a fresh one replaces it.
    const long = "r".repeat(65);
    const replaced = (await app.request("/healthz", { headers: { "x-request-id": long } })).headers.get("x-request-id");
    assert.ok(replaced && replaced !== long, String(replaced));
    assert.equal((await app.request("/healthz", { headers: { "x-request-id": "r".repeat(64) } })).headers.get("x-request-id"), "r".repeat(64));
    assert.match(await metrics.text(), /retouch_facilitator_process_cpu_seconds_total/);
    const missing = await app.request("/settle");
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: "not found: this facilitator serves POST /verify, POST /settle, GET /supported, /healthz and /metrics" });
  });
});

describe("verify and settle", () => {
  test("a good payment: verified, then settled on the chain once; each call logged and counted, the signature nowhere in the log", async () => {
    const { call, lines, metrics } = service();
    const body = await payment("1234");
    const payer = chain.devchain.wallets.buyer.evm.address;

    const verified = await call("/verify", body, { "x-request-id": "verify-1" });
    assert.equal(verified.status, 200);
    assert.deepEqual(await verified.json(), { isValid: true, payer });
    assert.equal(verified.headers.get("x-request-id"), "verify-1");

    const before = performance.now();
    const settled = await call("/settle", body);
    const tookMs = performance.now() - before;
    assert.equal(settled.status, 200);
    const answer = (await settled.json()) as { success: boolean; transaction: string; network: string; payer: string };
    assert.equal(answer.success, true);
    assert.equal(answer.network, BASE.caip2);
    assert.match(answer.transaction, /^0x[0-9a-f]{64}$/);
    assert.equal(await chain.devchain.usdcBalance("base", body.paymentRequirements.payTo), 1234n);

    const again = await call("/settle", body);
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { success: boolean }).success, false);
    assert.equal(await chain.devchain.usdcBalance("base", body.paymentRequirements.payTo), 1234n);

    const [verifyLine, settleLine, refusedLine] = lines;
    assert.deepEqual(
      { ...verifyLine, ms: 0, time: 0, pid: 0, hostname: "" },
      { level: 30, time: 0, pid: 0, hostname: "", service: "retouch", req_id: "verify-1", operation: "verify", network: BASE.caip2, outcome: "valid", payer, ms: 0, msg: "verify" },
    );
    assert.equal(settleLine.operation, "settle");
    assert.equal(settleLine.outcome, "settled");
    // A settlement is a transaction on the chain: it takes milliseconds, logged as a whole number of them.
    const ms = settleLine.ms as number;
    assert.ok(Number.isInteger(ms) && ms >= 1 && ms <= Math.ceil(tookMs), `logged ${ms} ms; the call took ${tookMs} ms`);
    assert.equal(settleLine.transaction, answer.transaction);
    assert.equal(typeof settleLine.req_id, "string");
    assert.equal(refusedLine.outcome, "refused");
    assert.equal(typeof refusedLine.reason, "string");
    assert.equal(refusedLine.transaction, undefined, "a refusal names no transaction");
    const signature = (body.paymentPayload.payload as { signature: string }).signature;
    assert.ok(!JSON.stringify(lines).includes(signature.slice(2)));

    const text = await metrics.registry.metrics();
    const count = (labels: string) => sample(text, "retouch_facilitator_call_seconds_count", labels);
    assert.equal(count(`operation="verify",network="${BASE.caip2}",outcome="valid"`), 1);
    assert.equal(count(`operation="settle",network="${BASE.caip2}",outcome="settled"`), 1);
    assert.equal(count(`operation="settle",network="${BASE.caip2}",outcome="refused"`), 1);
    const seconds = sample(text, "retouch_facilitator_call_seconds_sum", `operation="settle",network="${BASE.caip2}",outcome="settled"`)!;
    assert.ok(seconds > 0 && seconds <= tookMs / 1000, `counted ${seconds} s; the call took ${tookMs} ms`);
  });

  test("a payment for more than was signed: invalid at verify (200, the reason given), nothing settled", async () => {
    const { call, lines } = service();
    const body = await payment("1000");
    const inflated = { ...body, paymentRequirements: { ...body.paymentRequirements, amount: "2000" } };
    const verified = await call("/verify", inflated);
    assert.equal(verified.status, 200);
    const answer = (await verified.json()) as { isValid: boolean; invalidReason: string };
    assert.equal(answer.isValid, false);
    assert.ok(answer.invalidReason.length > 0);
    assert.equal(lines[0].outcome, "invalid");
    assert.equal(lines[0].reason, answer.invalidReason);
    assert.equal(await chain.devchain.usdcBalance("base", body.paymentRequirements.payTo), 0n);
  });

  test("a scheme, network or x402 version it does not settle: 400 with x402's refusal fields, counted under network \"other\"", async () => {
    const { call, metrics } = service();
    const body = await payment();
    const cases = [
      { requirements: { ...body.paymentRequirements, network: "eip155:1" }, version: 2, said: "x402 v2 exact payments on eip155:1" },
      { requirements: { ...body.paymentRequirements, scheme: "upto" }, version: 2, said: `x402 v2 upto payments on ${BASE.caip2}` },
      // v1 names networks by name ("base"), so a v1 payload for the CAIP-2 id is not one it settles.
      { requirements: body.paymentRequirements, version: 1, said: `x402 v1 exact payments on ${BASE.caip2}` },
    ];
    for (const { requirements, version, said } of cases) {
      const paymentPayload = { ...body.paymentPayload, x402Version: version };
      const verified = await call("/verify", { paymentPayload, paymentRequirements: requirements });
      assert.equal(verified.status, 400);
      assert.deepEqual(await verified.json(), { isValid: false, invalidReason: "unsupported_scheme", invalidMessage: `this facilitator does not settle ${said}` });
      const settled = await call("/settle", { paymentPayload, paymentRequirements: requirements });
      assert.equal(settled.status, 400);
      assert.deepEqual(await settled.json(), {
        success: false,
        errorReason: "unsupported_scheme",
        errorMessage: `this facilitator does not settle ${said}`,
        transaction: "",
        network: requirements.network,
      });
    }
    assert.equal(await chain.devchain.usdcBalance("base", body.paymentRequirements.payTo), 0n);
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, "retouch_facilitator_call_seconds_count", 'operation="verify",network="other",outcome="invalid"'), 1);
    assert.equal(sample(text, "retouch_facilitator_call_seconds_count", `operation="verify",network="${BASE.caip2}",outcome="invalid"`), 2);
  });

  test("a facilitator that fails inside: 500 with a request id, no isValid or success; logged as an error without the RPC's key, and counted", async () => {
    // What an RPC failure looks like from inside x402: an Error whose message carries the URL (and its key).
    const facilitator = devchainX402Facilitator(chain.devchain);
    facilitator.onBeforeSettle(async () => {
      throw new Error("HTTP request failed. URL: https://base-mainnet.example/v2/secret-rpc-key-0123");
    });
    const { call, lines, metrics } = service({ facilitator });
    const body = await payment();
    const settled = await call("/settle", body, { "x-request-id": "settle-1" });
    assert.equal(settled.status, 500);
    const text = await settled.text();
    assert.deepEqual(JSON.parse(text), { error: "settle failed inside the facilitator; request id settle-1" });
    assert.doesNotMatch(text, /secret-rpc-key/);
    const failed = lines.find((line) => line.msg === "settle failed");
    assert.ok(failed, JSON.stringify(lines));
    assert.equal(failed.level, 50);
    assert.equal(failed.req_id, "settle-1");
    assert.match(JSON.stringify(failed.err), /URL: https:\/\/base-mainnet\.example\/\[redacted\]/);
    assert.doesNotMatch(JSON.stringify(lines), /secret-rpc-key/);
    assert.equal(await chain.devchain.usdcBalance("base", body.paymentRequirements.payTo), 0n);
    const count = sample(await metrics.registry.metrics(), "retouch_facilitator_call_seconds_count", `operation="settle",network="${BASE.caip2}",outcome="error"`);
    assert.equal(count, 1);
  });
});

describe("bodies it refuses, each with what to send instead", () => {
  test("not JSON, the wrong shape (naming the field), and over 64 KB (413)", async () => {
    const { call } = service();
    const body = await payment();
    const refused = async (sent: unknown, status: number, error: string | RegExp) => {
      const answer = await call("/verify", sent);
      assert.equal(answer.status, status, JSON.stringify(sent).slice(0, 80));
      const said = ((await answer.json()) as { error: string }).error;
      if (typeof error === "string") assert.equal(said, error);
      else assert.match(said, error);
    };
    const notJson = "the body must be JSON: { x402Version, paymentPayload, paymentRequirements }";
    await refused("{not json", 400, notJson);
    await refused("", 400, notJson);
    await refused({ paymentPayload: body.paymentPayload }, 400, /^paymentRequirements: /);
    await refused({ ...body, paymentPayload: { ...body.paymentPayload, x402Version: 3 } }, 400, /^paymentPayload\.x402Version: /);
    await refused({ ...body, paymentPayload: { ...body.paymentPayload, payload: "signed" } }, 400, /^paymentPayload\.payload: /);
    await refused({ ...body, paymentRequirements: { ...body.paymentRequirements, scheme: "x".repeat(65) } }, 400, /^paymentRequirements\.scheme: /);
    await refused({ ...body, paymentRequirements: { ...body.paymentRequirements, network: "n".repeat(129) } }, 400, /^paymentRequirements\.network: /);
    await refused([], 400, /^body: /);
    const padding = "x".repeat(MAX_FACILITATOR_BODY_BYTES);
    await refused({ ...body, padding }, 413, `the body is over ${MAX_FACILITATOR_BODY_BYTES} bytes`);
    // Just under the limit is read (and then refused for what it is, not for its size).
    const under = JSON.stringify({ ...body, paymentRequirements: { ...body.paymentRequirements, network: "eip155:1" }, padding: "" });
    const fits = await call("/settle", JSON.stringify({ ...JSON.parse(under), padding: "x".repeat(MAX_FACILITATOR_BODY_BYTES - under.length) }));
    assert.equal(fits.status, 400);
    assert.equal(((await fits.json()) as { errorReason: string }).errorReason, "unsupported_scheme");
  });
});
