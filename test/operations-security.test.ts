// What another user of the machine and an outsider can reach of a running
// `retouch serve`: the data folder (ledger, wallets, results) is its owner's
// alone, a folder left open is closed at start-up with a warning, and /metrics
// can be locked with a token or moved to an address of its own. Real processes,
// started from the CLI as an operator would.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { cliEnv, freePort, ROOT, runCli } from "./client/cli.ts";

const EXAMPLES = join(ROOT, "examples");
const folders: string[] = [];
after(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

async function scratch(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "retouch-ops-"));
  // A parent any user may enter, as /tmp or a home folder often is: the data folder must protect itself.
  await chmod(folder, 0o755);
  folders.push(folder);
  return folder;
}

interface Served {
  url: string;
  child: ChildProcess;
  /** Every JSON log line so far. */
  logs: { msg: string; level: number; [key: string]: unknown }[];
  stop(): Promise<void>;
}

/** `retouch serve` with this environment; resolves once it listens. */
async function serve(env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, ["bin/retouch.js", "serve"], {
    cwd: ROOT,
    env: cliEnv({ PORT: "0", RETOUCH_DEVCHAIN_EVM_PORT: "0", RETOUCH_DEVCHAIN_SOLANA_PORT: "0", RETOUCH_ENGINE_THREADS: "1", ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const logs: Served["logs"] = [];
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  for await (const line of createInterface({ input: child.stdout! })) {
    logs.push(JSON.parse(line) as Served["logs"][number]);
    if (logs.at(-1)!.msg.startsWith("retouch listening")) {
      createInterface({ input: child.stdout! }).on("line", (more) => logs.push(JSON.parse(more) as Served["logs"][number]));
      return { url: String(logs.at(-1)!.address), child, logs, stop };
    }
  }
  throw new Error(`retouch serve exited before listening: ${stderr}`);
}

/** Every folder and file under `root` (itself included) with its permission bits. */
async function modes(root: string): Promise<Map<string, { mode: number; dir: boolean }>> {
  const found = new Map([[root, { mode: (await stat(root)).mode & 0o777, dir: true }]]);
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() || entry.isDirectory()) found.set(path, { mode: (await stat(path)).mode & 0o777, dir: entry.isDirectory() });
  }
  return found;
}

const modeOf = (found: Map<string, { mode: number }>, path: string) => found.get(path)?.mode;

/** As the unprivileged user `nobody`: whether `cat path` succeeds. Needs root (CI runs as root). */
function nobodyCanRead(path: string): boolean {
  assert.equal(process.getuid?.(), 0, "this check runs as root (to become nobody); run the suite as root as CI does");
  const run = spawnSync("runuser", ["-u", "nobody", "--", "cat", path], { stdio: "ignore" });
  assert.notEqual(run.error?.message.includes("ENOENT"), true, "runuser is missing (util-linux)");
  return run.status === 0;
}

async function freeEdit(url: string): Promise<string> {
  const form = new FormData();
  form.append("image", new Blob([await import("node:fs/promises").then((fs) => fs.readFile(join(EXAMPLES, "photo.png")))], { type: "image/png" }), "photo.png");
  form.append("mask", new Blob([await import("node:fs/promises").then((fs) => fs.readFile(join(EXAMPLES, "mask.png")))], { type: "image/png" }), "mask.png");
  form.append("prompt", "remove it");
  form.append("model", "local/content-aware-fill");
  const response = await fetch(`${url}/v1/images/edits`, { method: "POST", body: form });
  const body = (await response.json()) as { data: { url: string }[] };
  assert.equal(response.status, 200, JSON.stringify(body));
  return new URL(body.data[0].url).pathname.split("/").pop()!;
}

describe("the data folder is its owner's alone", () => {
  test("a fresh RETOUCH_DATA_DIR after a paid edit: folders 0700, files 0600 (ledger, wallets, result); nobody else can read the ledger", async () => {
    const dataDir = join(await scratch(), "data");
    const gateway = await serve({ RETOUCH_DATA_DIR: dataDir, RETOUCH_PAYMENTS: "devchain" });
    try {
      const paid = await runCli(
        ["edit", "--image", join(EXAMPLES, "photo.png"), "--mask", join(EXAMPLES, "mask.png"), "--model", "local/content-aware-fill", "--gateway", gateway.url,
          "--wallet", join(dataDir, "dev-wallets.json"), "--out", join(dataDir, "..", "out"), "--json", "remove it"],
        { RETOUCH_HOME: join(dataDir, "..", "home") },
      );
      assert.equal(paid.code, 0, paid.stderr);
    } finally {
      await gateway.stop();
    }
    const found = await modes(dataDir);
    const results = [...found.keys()].filter((path) => path.startsWith(join(dataDir, "files") + "/") && path.endsWith(".png"));
    assert.equal(results.length, 1, "the paid result is on disk");
    assert.ok([...found.keys()].some((path) => path.startsWith(join(dataDir, "db") + "/")), "the ledger is on disk");
    const wrong = [...found].filter(([, { mode, dir }]) => mode !== (dir ? 0o700 : 0o600)).map(([path, { mode }]) => `${path} ${mode.toString(8)}`);
    assert.deepEqual(wrong, [], "every folder 0700, every file 0600");
    assert.equal(nobodyCanRead(join(dataDir, "db", "PG_VERSION")), false, "the ledger");
    assert.equal(nobodyCanRead(join(dataDir, "dev-wallets.json")), false, "the buyer's keys");
    assert.equal(nobodyCanRead(results[0]), false, "the result");
  });

  test("a data folder left open (0755, ledger 0666, results 0644) is closed at start-up, with a warning naming it", async () => {
    const dataDir = join(await scratch(), "data");
    await mkdir(join(dataDir, "db", "base"), { recursive: true, mode: 0o755 });
    await mkdir(join(dataDir, "files"), { recursive: true, mode: 0o755 });
    await chmod(dataDir, 0o755);
    await writeFile(join(dataDir, "db", "base", "leaked"), "ledger pages", { mode: 0o666 });
    await chmod(join(dataDir, "db", "base", "leaked"), 0o666);
    await writeFile(join(dataDir, "files", "old.png"), "an old result", { mode: 0o644 });
    await chmod(join(dataDir, "files", "old.png"), 0o644);
    assert.equal(nobodyCanRead(join(dataDir, "db", "base", "leaked")), true, "the set-up is really open");

    const gateway = await serve({ RETOUCH_DATA_DIR: dataDir, RETOUCH_PAYMENTS: "off" });
    await gateway.stop();
    const warning = gateway.logs.find((line) => /readable by other users/.test(line.msg));
    assert.ok(warning, JSON.stringify(gateway.logs.map((l) => l.msg)));
    assert.equal(warning.level, 40, "a warning");
    assert.equal(warning.data_dir, dataDir);
    const found = await modes(dataDir);
    assert.equal(modeOf(found, dataDir), 0o700);
    assert.equal(modeOf(found, join(dataDir, "db", "base")), 0o700);
    assert.equal(modeOf(found, join(dataDir, "db", "base", "leaked")), 0o600);
    assert.equal(modeOf(found, join(dataDir, "files", "old.png")), 0o600);
    assert.equal(nobodyCanRead(join(dataDir, "db", "base", "leaked")), false);

    // Started again: nothing left to fix, no warning.
    const again = await serve({ RETOUCH_DATA_DIR: dataDir, RETOUCH_PAYMENTS: "off" });
    await again.stop();
    assert.equal(again.logs.some((line) => /readable by other users/.test(line.msg)), false);
  });

  test("RETOUCH_FILES_GROUP_READ=1: the group may read results (0640 under 0750 folders) and still nothing else", async () => {
    const dataDir = join(await scratch(), "data");
    const gateway = await serve({ RETOUCH_DATA_DIR: dataDir, RETOUCH_PAYMENTS: "off", RETOUCH_FILES_GROUP_READ: "1" });
    let key: string;
    try {
      key = await freeEdit(gateway.url);
    } finally {
      await gateway.stop();
    }
    const found = await modes(dataDir);
    assert.equal(modeOf(found, dataDir), 0o750);
    assert.equal(modeOf(found, join(dataDir, "files")), 0o750);
    assert.equal(modeOf(found, join(dataDir, "files", key)), 0o640);
    assert.equal(nobodyCanRead(join(dataDir, "files", key)), false, "others still cannot");
  });

  test("without it, a free edit's result is 0600 in a 0700 folder", async () => {
    const dataDir = join(await scratch(), "data");
    const gateway = await serve({ RETOUCH_DATA_DIR: dataDir, RETOUCH_PAYMENTS: "off" });
    let key: string;
    try {
      key = await freeEdit(gateway.url);
    } finally {
      await gateway.stop();
    }
    const found = await modes(dataDir);
    assert.equal(modeOf(found, join(dataDir, "files")), 0o700);
    assert.equal(modeOf(found, join(dataDir, "files", key)), 0o600);
  });
});

describe("/metrics can be closed", () => {
  test("RETOUCH_METRICS_TOKEN: 401 without the bearer token or with a wrong one, the metrics with it", async () => {
    const token = "m3trics-t0ken-for-the-test-0123";
    const gateway = await serve({ RETOUCH_DATA_DIR: join(await scratch(), "data"), RETOUCH_PAYMENTS: "off", RETOUCH_METRICS_TOKEN: token });
    try {
      for (const authorization of [undefined, "Bearer wrong", `Bearer ${token}x`, token, `bearer  ${token}`]) {
        const response = await fetch(`${gateway.url}/metrics`, { headers: authorization ? { authorization } : {} });
        const body = await response.text();
        assert.equal(response.status, 401, `${authorization}: ${body}`);
        assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="metrics"');
        assert.doesNotMatch(body, /retouch_/);
      }
      const open = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(open.status, 200);
      assert.match(await open.text(), /^retouch_http_requests_total\{/m);
      assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200, "the rest of the API is not locked");
    } finally {
      await gateway.stop();
    }
  });

  test("RETOUCH_METRICS_ADDR: /metrics only on that address (404 on the API's port)", async () => {
    const port = await freePort();
    const gateway = await serve({ RETOUCH_DATA_DIR: join(await scratch(), "data"), RETOUCH_PAYMENTS: "off", RETOUCH_METRICS_ADDR: `127.0.0.1:${port}` });
    try {
      assert.equal((await fetch(`${gateway.url}/metrics`)).status, 404);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^retouch_http_requests_total\{/m);
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/models`)).status, 404, "only /metrics there");
    } finally {
      await gateway.stop();
    }
  });

  test("a short token or an address that is not HOST:PORT stops start-up with the variable named (exit 2)", async () => {
    const dataDir = join(await scratch(), "data");
    const short = await runCli(["serve"], { RETOUCH_DATA_DIR: dataDir, RETOUCH_PAYMENTS: "off", PORT: "0", RETOUCH_METRICS_TOKEN: "secret" });
    assert.equal(short.code, 2, short.stderr);
    assert.match(short.stderr, /RETOUCH_METRICS_TOKEN must be at least 16 characters/);
    const address = await runCli(["serve"], { RETOUCH_DATA_DIR: dataDir, RETOUCH_PAYMENTS: "off", PORT: "0", RETOUCH_METRICS_ADDR: "9464" });
    assert.equal(address.code, 2, address.stderr);
    assert.match(address.stderr, /RETOUCH_METRICS_ADDR must be HOST:PORT/);
  });
});
