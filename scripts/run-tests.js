#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node:test: natively where Node strips types
// itself (22.18+, 24; half the CPU of loading the same files through tsx's hooks), else with the
// tsx loader. (Node 20's --test cannot glob TypeScript files itself.) Builds dist/ first, so the many
// `retouch` processes the tests start run the bundle of these very sources (see bin/retouch.js).
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, statfsSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith(".test.ts")) found.push(path);
  }
  return found;
}

const filter = process.argv.slice(2);
const files = ["src", "test"]
  .flatMap((dir) => findTests(dir))
  .filter((file) => filter.length === 0 || filter.some((f) => file.includes(f)))
  .sort();
// Two files at a time even on 2 cores (node's default there is one): most of a file's time is
// spent waiting on the processes, chains and sockets it starts. RETOUCH_TEST_CONCURRENCY overrides.
const concurrency = Number(process.env.RETOUCH_TEST_CONCURRENCY ?? 2);
const build = spawnSync(process.execPath, ["scripts/build.js"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
// The tests that run a whole fleet of processes (gateways, workers, chains, kills) run alone
// afterwards: beside another heavy file their time budgets and races get needlessly tight.
const ALONE = /(fleet|queue|crash-[a-z]+)\.test\.ts$/;
// A test that waits forever (a server that never listened, an event that never comes) fails
// with its file's name after this long instead of holding CI until its own limit. The slowest
// file takes about 3 minutes on a busy 2-core machine.
const FILE_TIMEOUT_MS = 15 * 60 * 1000;
const typescript = process.features.typescript ? [] : ["--import", "tsx"];

/**
 * A folder in memory (Linux's /dev/shm) for the tests' temporary files, unless TMPDIR is set or
 * /dev/shm is missing or small (a container's 64 MB). Each test gateway's data folder holds a copy
 * of the embedded database, about a thousand files; on ext4, creating that many files where as many
 * were just deleted cost about a second of kernel time per gateway, in memory a fifth of that.
 */
function memoryTmpDir() {
  if (process.env.TMPDIR) return undefined;
  try {
    const { bavail, bsize } = statfsSync("/dev/shm");
    if (bavail * bsize < 4 * 1024 ** 3) return undefined;
    const dir = mkdtempSync("/dev/shm/retouch-tests-");
    // Others may enter it, as they may enter /tmp: tests check what another user can read below it.
    chmodSync(dir, 0o755);
    return dir;
  } catch {
    return undefined;
  }
}

const tmp = memoryTmpDir();
const env = { ...process.env, NODE_ENV: "test", ...(tmp ? { TMPDIR: tmp } : {}) };
// On Ctrl-C or a SIGTERM the runner passes the signal on to the test run, waits for it to end,
// starts nothing more, and removes the folder in memory rather than leave it holding RAM.
let interrupted; // the signal
let running;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    interrupted = signal;
    running?.kill(signal);
  });
}
let status = 0;
for (const [group, at] of [[files.filter((f) => !ALONE.test(f)), concurrency], [files.filter((f) => ALONE.test(f)), 1]]) {
  if (group.length === 0 || interrupted) continue;
  running = spawn(
    process.execPath,
    [...typescript, "--import", "./test/support/exit-watch.ts", "--test", `--test-concurrency=${at}`, `--test-timeout=${FILE_TIMEOUT_MS}`, "--test-reporter=spec", ...group],
    { stdio: "inherit", env },
  );
  const code = await new Promise((done) => running.on("close", done));
  if (code !== 0) status = code ?? 1;
}
if (interrupted) status = 128 + constants.signals[interrupted]; // as a shell reports it: 130, 143
if (tmp) rmSync(tmp, { recursive: true, force: true });
process.exit(status);
