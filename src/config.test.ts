import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, loadFacilitatorServiceConfig } from "./config.ts";

const EVM = "0x1111111111111111111111111111111111111111";
const SOL = "4BwWF1GtFh1iD8LvQr1hw3hmMg3o7L9gAkBZzHTWS3m5";

test("defaults: 127.0.0.1:4021, devchain payments on base and solana, 5% margin", () => {
  const config = loadConfig({});
  assert.equal(config.publicUrl, "http://127.0.0.1:4021");
  assert.equal(config.payments.mode, "devchain");
  assert.deepEqual(config.payments.networks, ["base", "solana"]);
  assert.equal(config.payments.inlineWindowMs, 30_000);
  assert.equal(config.margin, "0.05");
});

test("remote mode reads the facilitator, networks and payTo addresses", () => {
  const config = loadConfig({
    RETOUCH_PAYMENTS: "remote",
    FACILITATOR_URL: "https://facilitator.example/",
    FACILITATOR_HEADERS: '{"Authorization":"Bearer k"}',
    RETOUCH_NETWORKS: "base-sepolia,solana-devnet",
    RETOUCH_PAY_TO_EVM: EVM,
    RETOUCH_PAY_TO_SOLANA: SOL,
  });
  assert.deepEqual(config.payments.facilitator, { kind: "url", url: "https://facilitator.example", headers: { Authorization: "Bearer k" } });
  assert.deepEqual(config.payments.networks, ["base-sepolia", "solana-devnet"]);
});

test("RETOUCH_FACILITATOR=cdp or payai needs no FACILITATOR_URL; an explicit one overrides the provider's", () => {
  const remote = { RETOUCH_PAYMENTS: "remote", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM };
  const keys = { CDP_API_KEY_ID: "key-id", CDP_API_KEY_SECRET: "key-secret" };
  assert.deepEqual(loadConfig({ ...remote, ...keys, RETOUCH_FACILITATOR: "cdp" }).payments.facilitator, {
    kind: "cdp",
    url: undefined,
    apiKeyId: "key-id",
    apiKeySecret: "key-secret",
  });
  assert.equal(loadConfig({ ...remote, ...keys, RETOUCH_FACILITATOR: "cdp", FACILITATOR_URL: "http://127.0.0.1:9/x402/" }).payments.facilitator?.url, "http://127.0.0.1:9/x402");
  // PayAI without keys is its free tier; PAYAI_FACILITATOR_URL is the package's own variable, FACILITATOR_URL wins.
  assert.deepEqual(loadConfig({ ...remote, RETOUCH_FACILITATOR: "payai" }).payments.facilitator, { kind: "payai", url: undefined, apiKey: undefined });
  const payai = { ...remote, RETOUCH_FACILITATOR: "payai", PAYAI_API_KEY_ID: "id", PAYAI_API_KEY_SECRET: "payai_sk_x", PAYAI_FACILITATOR_URL: "https://p.example" };
  assert.deepEqual(loadConfig(payai).payments.facilitator, { kind: "payai", url: "https://p.example", apiKey: { id: "id", secret: "payai_sk_x" } });
  assert.equal(loadConfig({ ...payai, FACILITATOR_URL: "http://f" }).payments.facilitator?.url, "http://f");
  // Outside remote mode the variables mean nothing.
  assert.equal(loadConfig({ RETOUCH_FACILITATOR: "cdp" }).payments.facilitator, undefined);
});

test("retouch facilitator: keys and an RPC per network are required, and a token whenever it listens beyond loopback", () => {
  const base = { RETOUCH_FACILITATOR_KEYS: "keys.json", BASE_RPC_URL: "http://rpc" };
  assert.deepEqual(loadFacilitatorServiceConfig(base, "127.0.0.1").networks, ["base"]);
  assert.equal(loadFacilitatorServiceConfig(base, "::1").token, undefined);
  const token = "0123456789abcdef0123";
  assert.equal(loadFacilitatorServiceConfig({ ...base, RETOUCH_FACILITATOR_TOKEN: token }, "0.0.0.0").token, token);
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ BASE_RPC_URL: "http://rpc" }, "127.0.0.1", /needs RETOUCH_FACILITATOR_KEYS/],
    [{ RETOUCH_FACILITATOR_KEYS: "keys.json" }, "127.0.0.1", /set BASE_RPC_URL, BASE_SEPOLIA_RPC_URL, SOLANA_RPC_URL, SOLANA_DEVNET_RPC_URL/],
    [{ ...base, RETOUCH_NETWORKS: "base,solana" }, "127.0.0.1", /settles on solana through its RPC: set SOLANA_RPC_URL/],
    [{ ...base, RETOUCH_NETWORKS: "polygon" }, "127.0.0.1", /unknown network "polygon"/],
    [base, "0.0.0.0", /reachable from other machines: set RETOUCH_FACILITATOR_TOKEN/],
    [base, "10.0.0.5", /reachable from other machines/],
    [{ ...base, RETOUCH_FACILITATOR_TOKEN: "short" }, "127.0.0.1", /at least 16 characters/],
  ];
  for (const [env, host, message] of cases) {
    assert.throws(() => loadFacilitatorServiceConfig(env, host), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify({ env, host }));
  }
});

test("start-up fails with a clear message when something required is missing or wrong", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ RETOUCH_PAYMENTS: "remote", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM }, /needs FACILITATOR_URL/],
    [{ RETOUCH_PAYMENTS: "remote", FACILITATOR_URL: "http://f" }, /needs RETOUCH_NETWORKS/],
    [{ RETOUCH_PAYMENTS: "remote", FACILITATOR_URL: "http://f", RETOUCH_NETWORKS: "base" }, /base needs RETOUCH_PAY_TO_EVM/],
    [{ RETOUCH_PAYMENTS: "remote", FACILITATOR_URL: "http://f", RETOUCH_NETWORKS: "solana", RETOUCH_PAY_TO_EVM: EVM }, /solana needs RETOUCH_PAY_TO_SOLANA/],
    [{ RETOUCH_PAYMENTS: "remote", FACILITATOR_URL: "ftp://f", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM }, /http\(s\) URL/],
    [{ RETOUCH_PAYMENTS: "remote", FACILITATOR_URL: "http://f", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM, FACILITATOR_HEADERS: "Bearer x" }, /JSON object/],
    [{ RETOUCH_PAYMENTS: "remote", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM }, /or RETOUCH_FACILITATOR=cdp or payai/],
    [{ RETOUCH_PAYMENTS: "remote", RETOUCH_FACILITATOR: "coinbase", FACILITATOR_URL: "http://f" }, /RETOUCH_FACILITATOR must be one of cdp, payai, url, got "coinbase"/],
    [{ RETOUCH_PAYMENTS: "remote", RETOUCH_FACILITATOR: "url", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM }, /needs FACILITATOR_URL/],
    [{ RETOUCH_PAYMENTS: "remote", RETOUCH_FACILITATOR: "cdp", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM }, /cdp needs CDP_API_KEY_ID and CDP_API_KEY_SECRET/],
    [{ RETOUCH_PAYMENTS: "remote", RETOUCH_FACILITATOR: "cdp", CDP_API_KEY_ID: "k", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM }, /cdp needs CDP_API_KEY_ID and CDP_API_KEY_SECRET/],
    [{ RETOUCH_PAYMENTS: "remote", RETOUCH_FACILITATOR: "payai", PAYAI_API_KEY_ID: "k", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM }, /PAYAI_API_KEY_ID and PAYAI_API_KEY_SECRET go together/],
    [{ RETOUCH_PAYMENTS: "remote", RETOUCH_FACILITATOR: "payai", PAYAI_FACILITATOR_URL: "payai.network" }, /PAYAI_FACILITATOR_URL must be an http\(s\) URL/],
    [{ RETOUCH_NETWORKS: "base,polygon" }, /unknown network "polygon"/],
    [{ RETOUCH_NETWORKS: "base-sepolia" }, /testnets need RETOUCH_PAYMENTS=remote or self/],
    [{ RETOUCH_PAY_TO_EVM: "0x12" }, /RETOUCH_PAY_TO_EVM must be a 0x address/],
    [{ RETOUCH_PAYMENTS: "free" }, /RETOUCH_PAYMENTS must be one of devchain, remote, self, off/],
    [{ RETOUCH_PAYMENTS: "self", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM, BASE_RPC_URL: "http://rpc" }, /self needs RETOUCH_FACILITATOR_KEYS/],
    [{ RETOUCH_PAYMENTS: "self", RETOUCH_FACILITATOR_KEYS: "k.json", RETOUCH_NETWORKS: "base", RETOUCH_PAY_TO_EVM: EVM }, /settles on base through its RPC: set BASE_RPC_URL/],
    [{ RETOUCH_PAYMENTS: "self", RETOUCH_FACILITATOR_KEYS: "k.json", RETOUCH_NETWORKS: "solana-devnet", RETOUCH_PAY_TO_SOLANA: "So11111111111111111111111111111111111111112" }, /set SOLANA_DEVNET_RPC_URL/],
    [{ RETOUCH_PAYMENTS: "self", RETOUCH_FACILITATOR_KEYS: "k.json", BASE_RPC_URL: "http://rpc" }, /self needs RETOUCH_NETWORKS/],
    [{ RETOUCH_PAYMENTS: "self", RETOUCH_FACILITATOR_KEYS: "k.json", RETOUCH_NETWORKS: "base", BASE_RPC_URL: "http://rpc" }, /base needs RETOUCH_PAY_TO_EVM/],
    [{ SOLANA_RPC_URL: "wss://rpc" }, /SOLANA_RPC_URL must be an http\(s\) URL/],
    [{ OPENAI_BASE_URL: "api.openai.com/v1" }, /OPENAI_BASE_URL must be an http\(s\) URL, got "api.openai.com\/v1"/],
    [{ OPENAI_BASE_URL: "https://api openai.com/v1" }, /OPENAI_BASE_URL must be an http\(s\) URL/],
    [{ GEMINI_BASE_URL: "generativelanguage.googleapis.com" }, /GEMINI_BASE_URL must be an http\(s\) URL/],
    [{ PORT: "http" }, /PORT must be a whole number/],
    [{ RETOUCH_MARGIN: "5%" }, /RETOUCH_MARGIN must be a decimal/],
    [{ RETOUCH_CONFIG: "/nonexistent/retouch.json" }, /could not be read/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env));
  }
});

test("the settlement sweep runs every minute by default; the crash tests' pause point is honoured only under NODE_ENV=test", () => {
  assert.equal(loadConfig({}).payments.sweepIntervalMs, 60_000);
  assert.equal(loadConfig({ RETOUCH_SWEEP_INTERVAL_MS: "500" }).payments.sweepIntervalMs, 500);
  assert.throws(() => loadConfig({ RETOUCH_SWEEP_INTERVAL_MS: "0" }), /RETOUCH_SWEEP_INTERVAL_MS must be a whole number from 100/);
  assert.equal(loadConfig({ RETOUCH_TEST_PAUSE: "after-broadcast" }).payments.testPause, undefined, "a stray variable cannot freeze production");
  assert.equal(loadConfig({ NODE_ENV: "test", RETOUCH_TEST_PAUSE: "after-broadcast" }).payments.testPause, "after-broadcast");
  assert.throws(() => loadConfig({ NODE_ENV: "test", RETOUCH_TEST_PAUSE: "later" }), /RETOUCH_TEST_PAUSE must be one of before-settle, after-broadcast, after-record/);
});

test("scale-out: no bucket, no Redis and the documented limits by default; S3 and Redis settings read and checked", () => {
  const defaults = loadConfig({});
  assert.equal(defaults.s3, undefined);
  assert.equal(defaults.redis, undefined);
  assert.deepEqual(defaults.limits, { quotesPerMinute: 120, payerConcurrency: 4, providerInflight: 16 });
  assert.equal(defaults.trustProxy, 0);

  const fleet = loadConfig({
    S3_BUCKET: "retouch-results",
    S3_ENDPOINT: "http://minio:9000/",
    S3_FORCE_PATH_STYLE: "1",
    S3_PUBLIC_URL: "https://cdn.example/results/",
    REDIS_URL: "redis://:secret@redis:6379/2",
    RETOUCH_LIMIT_QUOTES_PER_MIN: "0",
    RETOUCH_TRUST_PROXY: "2",
    RETOUCH_WORKERS: "3",
    RETOUCH_LIMIT_PROVIDER_INFLIGHT: "0",
  });
  assert.deepEqual(fleet.s3, { bucket: "retouch-results", endpoint: "http://minio:9000", region: "us-east-1", forcePathStyle: true, publicUrl: "https://cdn.example/results" });
  assert.deepEqual(fleet.redis, { url: "redis://:secret@redis:6379/2", prefix: "retouch:", workers: 3 });
  assert.equal(fleet.limits.providerInflight, 0);
  assert.equal(loadConfig({ REDIS_URL: "redis://redis" }).redis?.workers, 1, "one in-process worker by default");
  assert.equal(fleet.limits.quotesPerMinute, 0);
  assert.equal(fleet.trustProxy, 2);

  const refusal = (env: Record<string, string>, message: RegExp) => assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && message.test(e.message));
  refusal({ S3_PUBLIC_URL: "https://cdn.example" }, /^S3_PUBLIC_URL is set but S3_BUCKET is not/);
  refusal({ S3_BUCKET: "My_Bucket" }, /^S3_BUCKET must be a bucket name/);
  refusal({ REDIS_URL: "http://user:pw@redis:6379" }, /^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/\*\*\*@redis:6379"$/);
  refusal({ REDIS_URL: "redis://redis", RETOUCH_REDIS_PREFIX: "a b" }, /^RETOUCH_REDIS_PREFIX must be/);
  refusal({ RETOUCH_LIMIT_PAYER_CONCURRENCY: "-1" }, /^RETOUCH_LIMIT_PAYER_CONCURRENCY must be a whole number/);
  refusal({ RETOUCH_WORKERS: "2" }, /RETOUCH_WORKERS.*REDIS_URL/);
  refusal({ REDIS_URL: "redis://redis", RETOUCH_WORKERS: "65" }, /^RETOUCH_WORKERS must be/);
});

test("`retouch worker` reads only the payment mode: no facilitator, keys or pay-to addresses needed", () => {
  const worker = loadConfig({ RETOUCH_PAYMENTS: "remote", REDIS_URL: "redis://redis", DATABASE_URL: "postgres://db/retouch" }, { role: "worker" });
  assert.equal(worker.payments.mode, "remote");
  assert.equal(worker.payments.facilitator, undefined);
  assert.throws(() => loadConfig({ RETOUCH_PAYMENTS: "remote" }), ConfigError, "a gateway still needs them");
  assert.throws(() => loadConfig({ RETOUCH_PAYMENTS: "cash" }, { role: "worker" }), /RETOUCH_PAYMENTS/);
});

test("RETOUCH_CORS_ORIGINS: any origin by default, off, or exact origins as a browser sends them", () => {
  assert.equal(loadConfig({}).corsOrigins, "*");
  assert.equal(loadConfig({ RETOUCH_CORS_ORIGINS: "*" }).corsOrigins, "*");
  assert.equal(loadConfig({ RETOUCH_CORS_ORIGINS: "off" }).corsOrigins, "off");
  assert.deepEqual(loadConfig({ RETOUCH_CORS_ORIGINS: "https://app.example.com, http://localhost:5173" }).corsOrigins, [
    "https://app.example.com",
    "http://localhost:5173",
  ]);
  for (const wrong of ["https://app.example.com/", "https://app.example.com/edit", "app.example.com", "https://App.example.com", "ftp://files.example", "https://a.example,*"]) {
    assert.throws(
      () => loadConfig({ RETOUCH_CORS_ORIGINS: wrong }),
      (error: unknown) => error instanceof ConfigError && /^RETOUCH_CORS_ORIGINS: /.test(error.message),
      wrong,
    );
  }
});

test("the discovery listing: the default, an operator's file, and each value a catalog would drop refused naming its field", () => {
  const dir = mkdtempSync(join(tmpdir(), "retouch-config-"));
  const withFile = (json: unknown) => {
    const path = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(json));
    return loadConfig({ RETOUCH_CONFIG: path });
  };
  try {
    assert.equal(loadConfig({}).listing.serviceName, "retouch");
    const listing = { serviceName: "Acme Retouch", tags: ["inpainting"], iconUrl: "https://acme.example/i.png" };
    assert.deepEqual(withFile({ discovery: listing }).listing, { ...listing, description: loadConfig({}).listing.description });
    const refused: [unknown, RegExp][] = [
      [{ serviceName: "x".repeat(33) }, /discovery\.serviceName: must be at most 32 characters/],
      [{ serviceName: "Retouch ✨" }, /discovery\.serviceName: must be printable ASCII/],
      [{ tags: ["a", "b", "c", "d", "e", "f"] }, /discovery\.tags: at most 5 tags/],
      [{ iconUrl: "http://127.0.0.1/icon.png" }, /discovery\.iconUrl: must be a public http\(s\) URL/],
      [{ iconUrl: "https://localhost/icon.png" }, /discovery\.iconUrl/],
      [{ name: "typo" }, /discovery: Unrecognized key/],
    ];
    for (const [discovery, message] of refused) {
      assert.throws(() => withFile({ discovery }), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(discovery));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
