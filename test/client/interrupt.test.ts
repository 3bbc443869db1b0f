// Ctrl-C during `retouch edit`, delivered for real: SIGINT before paying, and ^C typed
// into a pseudo-terminal (util-linux `script`) once the payment is on its way. What is
// printed must agree with the chain, the spend log and `retouch edit --resume`.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { access, mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bothBalances, cliEnv, onlyJson, PRICE, ROOT, runCli, serveGateway, writePhotoAndMask, type ServedGateway } from "./cli.ts";

let dir: string;
let gateway: ServedGateway;
let photo: string;
let mask: string;
/** Serves a picture that never finishes downloading, and says when it is asked for. */
let stalling: Server;
let stallingUrl: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-int-"));
  // Every paid edit answers 202: the CLI is waiting on its poll when ^C comes.
  gateway = await serveGateway({ RETOUCH_INLINE_WINDOW_MS: "0" });
  ({ photo, mask } = await writePhotoAndMask(dir));
  stalling = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "image/png" });
    response.write(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  });
  stalling.listen(0, "127.0.0.1");
  await once(stalling, "listening");
  stallingUrl = `http://127.0.0.1:${(stalling.address() as { port: number }).port}/photo.png`;
});
after(async () => {
  stalling.closeAllConnections();
  stalling.close();
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

/** `retouch edit` with --image from the stalling server, interrupted by SIGINT once that server is asked for it. */
async function interruptedWhileLoading(home: string, json: boolean) {
  const args = ["bin/retouch.js", "edit", ...(json ? ["--json"] : []), "--image", stallingUrl, "--mask", mask, "--model", "local/content-aware-fill"];
  args.push("--gateway", gateway.url, "--wallet", gateway.buyerWallet!, "--out", join(dir, "never"), "x");
  const child = spawn(process.execPath, args, { cwd: ROOT, env: cliEnv({ RETOUCH_HOME: home, ...gateway.rpcEnv }) });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  await once(stalling, "request");
  child.kill("SIGINT");
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr, signal: null };
}

/** Runs `command` in a pseudo-terminal; `interruptWhen` sees the output so far and says when to type ^C. */
async function inTerminal(command: string[], env: Record<string, string>, interruptWhen?: (output: string) => boolean) {
  const line = command.map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  const child = spawn("script", ["-qfec", line, "/dev/null"], { cwd: ROOT, env: cliEnv(env) });
  let output = "";
  let typed = false;
  child.stdout.on("data", (chunk) => {
    output += chunk;
    if (!typed && interruptWhen?.(output)) {
      typed = true;
      child.stdin.write("\x03");
    }
  });
  const [code] = (await once(child, "close")) as [number | null];
  return { code, output, typed };
}

describe("Ctrl-C during retouch edit", () => {
  test("before paying: says not charged, exits 130; nothing signed, nothing moved", async () => {
    const start = await bothBalances(gateway);
    const home = join(dir, "home-before");
    const text = await interruptedWhileLoading(home, false);
    assert.equal(text.code, 130, text.stderr);
    assert.equal(text.stderr, "retouch: interrupted before paying: not charged\n");
    assert.equal(text.stdout, "");

    const json = await interruptedWhileLoading(home, true);
    assert.equal(json.code, 130, json.stderr);
    assert.deepEqual(onlyJson(json), {
      ok: false,
      error: { code: "interrupted_before_paying", message: "interrupted before paying: not charged", exit_code: 130 },
    });

    assert.deepEqual(await bothBalances(gateway), start);
    await assert.rejects(access(join(home, "spend.jsonl")), /ENOENT/, "nothing was signed");
  });

  test("after paying: the spinner line is erased, the payment is kept, and --resume fetches the result for the one payment", async () => {
    const home = join(dir, "home-after");
    const out = join(dir, "out-after");
    const start = await gateway.usdc("solana");
    const edit = ["node", "bin/retouch.js", "edit", "--image", photo, "--mask", mask, "--model", "local/content-aware-fill", "--network", "solana"];
    edit.push("--gateway", gateway.url, "--wallet", gateway.buyerWallet!, "--out", out, "remove", "the", "ball");
    // The spinner starts as the signed payment is sent.
    const run = await inTerminal(edit, { RETOUCH_HOME: home, ...gateway.rpcEnv }, (output) => output.includes("editing ($0.001 on solana)"));
    assert.ok(run.typed, run.output);
    assert.equal(run.code, 130, run.output);
    const afterSpinner = run.output.slice(run.output.lastIndexOf("editing ($0.001 on solana)"));
    const erased = "\r\x1b[2K";
    const message = "retouch: interrupted after paying: the payment is kept; run `retouch edit --resume` to fetch the result without paying again\r\n";
    assert.ok(afterSpinner.endsWith(`${erased}${message}`), JSON.stringify(afterSpinner));
    assert.deepEqual(await readdir(out).catch(() => []), [], "nothing saved yet");
    assert.equal((await readdir(join(home, "pending"))).length, 1, "the signed payment is kept");

    const resumed = await runCli(["edit", "--resume", "--wallet", gateway.buyerWallet!], { RETOUCH_HOME: home });
    assert.equal(resumed.code, 0, resumed.stderr);
    const saved = await readdir(out);
    assert.equal(saved.length, 1, resumed.stdout);
    assert.match(resumed.stdout, new RegExp(`saved ${join(out, saved[0])}`));
    assert.equal(start - (await gateway.usdc("solana")), PRICE, "paid once");
    assert.deepEqual(await readdir(join(home, "pending")), []);

    const again = await runCli(["edit", "--resume", "--wallet", gateway.buyerWallet!], { RETOUCH_HOME: home });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, "nothing to resume: no paid edit is waiting for its result\n");
    assert.equal(start - (await gateway.usdc("solana")), PRICE, "a second --resume pays nothing");
  });

  test("--json in a terminal: no spinner, only the one object", async () => {
    const edit = ["node", "bin/retouch.js", "edit", "--json", "--image", photo, "--mask", mask, "--model", "local/content-aware-fill"];
    edit.push("--gateway", gateway.url, "--wallet", gateway.buyerWallet!, "--out", join(dir, "out-json"), "x");
    const run = await inTerminal(edit, { RETOUCH_HOME: join(dir, "home-json"), ...gateway.rpcEnv });
    assert.equal(run.code, 0, run.output);
    assert.ok(!run.output.includes("editing"), run.output);
    assert.ok(!run.output.includes("\x1b") && !run.output.replaceAll("\r\n", "").includes("\r"), `no spinner frame and no control sequence: ${JSON.stringify(run.output)}`);
    const lines = run.output.split("\r\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, run.output);
    assert.equal(JSON.parse(lines[0]).ok, true);
  });
});
