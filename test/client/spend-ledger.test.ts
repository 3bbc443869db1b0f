// The one spend ledger of the buyer tools: processes that sign at once under a daily cap
// that fits only one of them (exactly one signs), a process killed while it holds the
// lock, totals by tool in `retouch spend`, and RETOUCH_SPEND_LOG pointing at a folder.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { SpendLedger, spendTotals, readSpendLog } from "../../src/client/spend-ledger.ts";

const ROOT = join(import.meta.dirname, "../..");
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-spend-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Buyer {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the next line the child prints that matches. */
  said(line: RegExp): Promise<string>;
  lines: string[];
}

function buyer(log: string, tool: string, amount: string, mode = "sign"): Buyer {
  const child = spawn(process.execPath, ["--import", "tsx", "test/client/spend-child.ts", log, tool, amount, mode], { cwd: ROOT });
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve(line: string): void }[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const w of waiting.filter((w) => w.pattern.test(line))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(line);
    }
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  child.on("exit", (code) => {
    if (code !== 0 && code !== 3 && code !== null) console.error(stderr);
  });
  return {
    child,
    lines,
    said: (pattern) => {
      const seen = lines.find((l) => pattern.test(l));
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ pattern, resolve }));
    },
  };
}

const entry = (tool: string, amount: string, time: string) =>
  JSON.stringify({ time, tool, amount, price_usd: (Number(amount) / 1e6).toString(), network: "eip155:8453", pay_to: "0xabc", asset: "usdc", fingerprint: "f", gateway: "http://g" });

describe("the spend ledger", () => {
  test("two processes sign at once under a daily cap that fits one: exactly one signs, one line is logged", async () => {
    const log = join(dir, "race", "spend.jsonl");
    // 0.6 USDC each under a 1 USDC day: the second must see the first.
    const buyers = [buyer(log, "edit", "600000"), buyer(log, "proxy", "600000")];
    await Promise.all(buyers.map((b) => b.said(/^ready$/)));
    for (const b of buyers) b.child.stdin.end("go\n");
    const codes = await Promise.all(buyers.map(async (b) => (await once(b.child, "exit"))[0]));
    assert.deepEqual([...codes].sort(), [0, 3], buyers.map((b) => b.lines.join(" ")).join(" | "));
    const refused = buyers.find((b) => b.lines.includes("refused max_per_day"));
    assert.ok(refused, "the other was refused by the daily cap");
    assert.ok(!refused.lines.includes("signing"), "the refused one never signed");
    const logged = await readSpendLog(log);
    assert.equal(logged.length, 1);
    assert.equal(logged[0].amount, "600000");
    assert.equal((await stat(log)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "race"))).mode & 0o777, 0o700);
  });

  test("a process killed while it holds the lock does not block the next one", async () => {
    const log = join(dir, "killed", "spend.jsonl");
    const hung = buyer(log, "edit", "1000", "hang");
    await hung.said(/^ready$/);
    hung.child.stdin.end("go\n");
    await hung.said(/^signing$/);
    hung.child.kill("SIGKILL");
    await once(hung.child, "exit");
    await stat(`${log}.lock`); // left behind by the dead process

    const ledger = await SpendLedger.open(log);
    const signed = await ledger.record({
      spend: { tool: "proxy", amount: "2000", network: "eip155:8453", pay_to: "0xabc", asset: "usdc", fingerprint: "f", gateway: "http://g" },
      caps: { maxPerRequest: 10_000n, maxPerDay: 10_000n },
      sign: async () => "ok",
    });
    assert.equal(signed, "ok");
    assert.deepEqual((await readSpendLog(log)).map((e) => e.amount), ["2000"], "the killed one signed nothing that was logged");
    await assert.rejects(stat(`${log}.lock`), /ENOENT/, "the lock is released");
  });

  test("totals by tool, in `retouch spend` and its --json", async () => {
    const log = join(dir, "tools.jsonl");
    const today = new Date().toISOString();
    const lines = [entry("edit", "1000", today), entry("proxy", "2500", today), entry("proxy", "500", "2020-01-01T00:00:00.000Z")];
    // A line from before `tool` existed (the proxy's), and a torn last line.
    lines.push(JSON.stringify({ time: today, model: "m", price_usd: "0.004", network: "eip155:8453", tx_hash: "0x1" }), '{"time":"20');
    await writeFile(log, `${lines.join("\n")}`);
    const totals = spendTotals(await readSpendLog(log));
    assert.deepEqual(totals.today, { usd: "0.0075", count: 3 });
    assert.deepEqual(totals.total, { usd: "0.008", count: 4 });
    assert.deepEqual(totals.by_tool.edit, { today: { usd: "0.001", count: 1 }, total: { usd: "0.001", count: 1 } });
    assert.deepEqual(totals.by_tool.proxy, { today: { usd: "0.0065", count: 2 }, total: { usd: "0.007", count: 3 } });

    const text = await run(["spend"], { RETOUCH_SPEND_LOG: log });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /today \(UTC\): \$0\.0075 in 3 edits/);
    assert.match(text.stdout, /edit: +today \$0\.001 in 1 edit, total \$0\.001 in 1 edit/);
    assert.match(text.stdout, /proxy: +today \$0\.0065 in 2 edits, total \$0\.007 in 3 edits/);
    const json = await run(["spend", "--json"], { RETOUCH_SPEND_LOG: log });
    assert.deepEqual(JSON.parse(json.stdout).by_tool.edit.total, { usd: "0.001", count: 1 });
  });

  test("RETOUCH_SPEND_LOG pointing at a folder is a clear error, not an EISDIR stack", async () => {
    const folder = join(dir, "a-folder");
    await mkdir(folder);
    const result = await run(["spend"], { RETOUCH_SPEND_LOG: folder });
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trim(), `retouch: RETOUCH_SPEND_LOG is ${folder}, which is a folder; point it at a file such as ${join(folder, "spend.jsonl")}`);
    await assert.rejects(SpendLedger.open(folder), /RETOUCH_SPEND_LOG is .*, which is a folder/);
  });

  test("the default log is spend.jsonl in RETOUCH_HOME", async () => {
    const home = join(dir, "home");
    await mkdir(home);
    await writeFile(join(home, "spend.jsonl"), `${entry("edit", "3000", new Date().toISOString())}\n`);
    const result = await run(["spend"], { RETOUCH_HOME: home });
    assert.match(result.stdout, /total: +\$0\.003 in 1 edit/);
    assert.match(result.stdout, new RegExp(`spend log: +${join(home, "spend.jsonl")}`));
    assert.equal((await readFile(join(home, "spend.jsonl"), "utf8")).split("\n").length, 2, "reading writes nothing");
  });
});

async function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["bin/retouch.js", ...args], { cwd: ROOT, env: { ...process.env, RETOUCH_SPEND_LOG: "", RETOUCH_HOME: "", ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const [code] = await once(child, "exit");
  return { code: code as number, stdout, stderr };
}
