// `retouch mcp` as an AI agent's MCP client meets it: the official SDK's client
// starts the real process over stdio against a devchain gateway, lists the
// tools, edits examples/photo.png with its mask (progress arrives; the PNG is
// saved; the wallet's USDC drops by the quote on chain; the spend log names
// mcp), is refused by the daily cap and by bad inputs without paying, and the
// same tools answer over Streamable HTTP on loopback, to this machine only.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import sharp from "sharp";
import { generateWalletKeys } from "../../src/chains/wallet-keys.ts";
import { cliEnv, PRICE, ROOT } from "./cli.ts";
import { startHttpGateway, type HttpGateway } from "./http-gateway.ts";

const PHOTO = join(ROOT, "examples/photo.png");
const MASK = join(ROOT, "examples/mask.png");

let dir: string;
let http: HttpGateway;
let walletFile: string;
let address: string;
let env: Record<string, string>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-mcp-"));
  http = await startHttpGateway();
  // A wallet of this test's own, funded on the devchain: its balance is this test's to read.
  const keys = await generateWalletKeys();
  walletFile = join(dir, "wallet.json");
  await writeFile(walletFile, JSON.stringify(keys), { mode: 0o600 });
  address = keys.evm.address;
  await http.gw.gateway.devchain!.fundUsdc("base", address, 1_000_000n);
  env = {
    RETOUCH_GATEWAY_URL: http.url,
    RETOUCH_WALLET: walletFile,
    RETOUCH_HOME: join(dir, "home"),
    RETOUCH_IMAGE_DIR: join(dir, "images"),
    BASE_RPC_URL: http.baseRpc,
    SOLANA_RPC_URL: http.solanaRpc,
    // One edit ($0.001) fits today, a second does not.
    RETOUCH_MAX_PER_DAY: "0.0015",
  };
});
after(async () => {
  await http?.close();
  await rm(dir, { recursive: true, force: true });
});

const usdc = () => http.gw.gateway.devchain!.usdcBalance("base", address);
const textOf = (result: CallToolResult) => result.content.filter((c) => c.type === "text").map((c) => (c as { text: string }).text).join("\n");

describe("over stdio", () => {
  let client: Client;
  before(async () => {
    client = new Client({ name: "retouch-test-agent", version: "1.0.0" });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: ["bin/retouch.js", "mcp", "--network", "base"], cwd: ROOT, env: cliEnv(env) as Record<string, string>, stderr: "pipe" }));
  });
  after(() => client?.close());

  test("lists its four tools, each with an input schema", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ["edit_image", "list_models", "spend", "wallet_balance"]);
    const edit = tools.find((tool) => tool.name === "edit_image")!;
    assert.deepEqual(edit.inputSchema.required?.sort(), ["image", "prompt"]);
    assert.ok(edit.inputSchema.properties?.max_price_usd);
  });

  test("list_models and wallet_balance answer from the gateway and the chain", async () => {
    const models = (await client.callTool({ name: "list_models", arguments: {} })) as CallToolResult;
    const local = (models.structuredContent as { models: { id: string; available: boolean; prices_usd_by_size: Record<string, string> }[] }).models.find((m) => m.id === "local/content-aware-fill");
    assert.equal(local?.available, true);
    const balance = (await client.callTool({ name: "wallet_balance", arguments: { network: "base" } })) as CallToolResult;
    assert.equal(balance.isError, undefined, textOf(balance));
    assert.deepEqual((balance.structuredContent as { balances: { network: string; address: string; usdc: string }[] }).balances.map((b) => [b.network, b.address, b.usdc]), [["base", address, "1.00"]]);
  });

  test("edit_image edits examples/photo.png with its mask, reports progress, saves the PNG, returns the picture, pays the quote once", async () => {
    const before = await usdc();
    const progress: string[] = [];
    const result = (await client.callTool(
      { name: "edit_image", arguments: { image: PHOTO, mask: MASK, prompt: "remove the red ball", model: "local/content-aware-fill", payment_id: "agent_task_42_edit_1" } },
      undefined,
      { onprogress: (update) => progress.push(update.message ?? "") },
    )) as CallToolResult;
    assert.equal(result.isError, undefined, textOf(result));
    const summary = result.structuredContent as { files: string[]; urls: string[]; charged: boolean; price_usd: string; payment: { tx_hash: string; network: string }; payment_id: string };
    assert.equal(summary.charged, true);
    assert.equal(summary.payment_id, "agent_task_42_edit_1", "the payment carried the agent's idempotency key");
    assert.equal(summary.price_usd, "0.001");
    assert.equal(summary.payment.network, "eip155:8453");
    assert.match(summary.payment.tx_hash, /^0x[0-9a-f]{64}$/);
    assert.ok(summary.files[0]!.startsWith(join(dir, "images")), summary.files[0]);
    const saved = await sharp(summary.files[0]).metadata();
    assert.deepEqual([saved.format, saved.width, saved.height], ["png", 512, 512]);
    const picture = result.content.find((c) => c.type === "image") as { data: string; mimeType: string } | undefined;
    assert.equal(picture?.mimeType, "image/png");
    assert.deepEqual(Buffer.from(picture!.data, "base64"), await readFile(summary.files[0]!), "the picture handed back is the saved one");
    assert.equal(before - (await usdc()), PRICE, "the wallet paid the quote once, on chain");
    assert.ok(progress.some((message) => message.startsWith("editing ($0.001 on base)")), progress.join(" | "));
    assert.ok(progress.some((message) => message.startsWith("saved 1 result")), progress.join(" | "));

    const spend = (await client.callTool({ name: "spend", arguments: {} })) as CallToolResult;
    const report = spend.structuredContent as { today: { count: number; usd: string }; by_tool: { mcp?: { today: { count: number } } }; caps: { max_per_day_usd: string } };
    assert.deepEqual([report.today.count, report.today.usd, report.by_tool.mcp?.today.count, report.caps.max_per_day_usd], [1, "0.001", 1, "0.0015"]);
  });

  test("a second edit over RETOUCH_MAX_PER_DAY is a tool error naming the cap; nothing is signed or paid", async () => {
    const before = await usdc();
    const log = await readFile(join(dir, "home", "spend.jsonl"), "utf8");
    const result = (await client.callTool({ name: "edit_image", arguments: { image: PHOTO, mask: MASK, prompt: "remove the red ball again", model: "local/content-aware-fill" } })) as CallToolResult;
    assert.equal(result.isError, true);
    assert.match(textOf(result), /RETOUCH_MAX_PER_DAY/);
    assert.equal(await usdc(), before);
    assert.equal(await readFile(join(dir, "home", "spend.jsonl"), "utf8"), log, "no payment was signed");
  });

  test("bad inputs are tool errors with the reason, before any payment", async () => {
    const before = await usdc();
    const broken = join(dir, "broken.png");
    await writeFile(broken, (await readFile(PHOTO)).subarray(0, 2000));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ image: join(dir, "missing.png"), prompt: "p" }, /missing\.png/],
      [{ image: broken, mask: MASK, prompt: "remove the ball", model: "local/content-aware-fill" }, /image .*(truncated|ends early|damaged)/i],
      [{ image: PHOTO, prompt: "p", model: "local/content-aware-fill" }, /mask/],
      [{ image: PHOTO, mask: MASK, prompt: "p", model: "local/content-aware-fill", max_price_usd: "0.0001" }, /above max_price_usd/],
    ];
    for (const [args, reason] of cases) {
      const result = (await client.callTool({ name: "edit_image", arguments: args })) as CallToolResult;
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.match(textOf(result), reason, JSON.stringify(args));
    }
    const invalid = (await client.callTool({ name: "edit_image", arguments: { image: PHOTO, prompt: "p", n: 99 } })) as CallToolResult;
    assert.equal(invalid.isError, true, "the tool's schema refuses n=99");
    assert.equal(await usdc(), before, "nothing was paid");
  });
});

describe("over Streamable HTTP (--http)", () => {
  let child: ReturnType<typeof spawn>;
  let url: string;
  before(async () => {
    await mkdir(join(dir, "home-http"), { recursive: true });
    child = spawn(process.execPath, ["bin/retouch.js", "mcp", "--http", "0"], { cwd: ROOT, env: cliEnv({ ...env, RETOUCH_HOME: join(dir, "home-http") }), stdio: ["ignore", "pipe", "pipe"] });
    const lines = createInterface({ input: child.stderr! });
    url = await new Promise<string>((resolve, reject) => {
      lines.on("line", (line) => {
        const found = /http:\/\/127\.0\.0\.1:\d+\/mcp/.exec(line);
        if (found) resolve(found[0]);
      });
      child.once("exit", (code) => reject(new Error(`retouch mcp --http exited (${code})`)));
    });
  });
  after(() => {
    child?.kill();
  });

  test("the SDK's HTTP client lists the tools and calls one", async () => {
    const client = new Client({ name: "retouch-test-agent", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const { tools } = await client.listTools();
    assert.equal(tools.length, 4);
    const models = (await client.callTool({ name: "list_models", arguments: {} })) as CallToolResult;
    assert.equal(models.isError, undefined, textOf(models));
    await client.close();
  });

  test("a web page (another Origin) is refused: it would spend the user's money", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(response.status, 403);
  });
});
