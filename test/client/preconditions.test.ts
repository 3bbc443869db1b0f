// Every local precondition of `retouch edit` is checked before anything is signed:
// --out, the wallet file, the inputs, the state folder. Each refusal is exit 2 with
// the balance on chain unchanged, no signature in the spend log and no pending payment.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { access, chmod, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bothBalances, runCli, serveGateway, writePhotoAndMask, type ServedGateway } from "./cli.ts";

let dir: string;
let gateway: ServedGateway;
let photo: string;
let mask: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "retouch-pre-"));
  gateway = await serveGateway();
  ({ photo, mask } = await writePhotoAndMask(dir));
});
after(async () => {
  await chmod(join(dir, "locked"), 0o755).catch(() => {});
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs a local edit that would pay, in a state folder of its own, and proves nothing was signed. */
async function refusedBeforePaying(name: string, options: { out?: string; wallet?: string; image?: string; mask?: string; home?: string }) {
  const home = options.home ?? join(dir, `home-${name}`);
  const args = ["edit", "--image", options.image ?? photo, "--mask", options.mask ?? mask, "--model", "local/content-aware-fill"];
  args.push("--gateway", gateway.url, "--wallet", options.wallet ?? gateway.buyerWallet!, "--out", options.out ?? join(dir, `out-${name}`), "remove", "it");
  const start = await bothBalances(gateway);
  const run = await runCli(args, { RETOUCH_HOME: home, ...gateway.rpcEnv });
  assert.equal(run.code, 2, `${name}: ${run.stdout}${run.stderr}`);
  assert.doesNotMatch(run.stderr, /^\s+at /m, "no stack trace");
  assert.equal(run.stdout, "");
  assert.deepEqual(await bothBalances(gateway), start, `${name}: the balance on chain is unchanged`);
  // The spend log records every signature before it leaves; pending/ every payment before it is sent.
  await assert.rejects(access(join(home, "spend.jsonl")), /ENOENT|ENOTDIR/, `${name}: nothing was signed`);
  assert.deepEqual(await readdir(join(home, "pending")).catch(() => []), [], `${name}: no pending payment`);
  return run.stderr;
}

/** A folder this process cannot create files in; as root, chmod does not stop it, so a sysfs folder stands in. */
async function unwritableFolder(): Promise<string> {
  const locked = join(dir, "locked");
  await mkdir(locked, { recursive: true });
  await chmod(locked, 0o555);
  try {
    await writeFile(join(locked, "probe"), "");
  } catch {
    return locked;
  }
  await rm(join(locked, "probe"));
  return "/sys/kernel";
}

describe("checked before paying", () => {
  test("--out pointing at an existing file", async () => {
    const stderr = await refusedBeforePaying("out-file", { out: photo });
    assert.equal(stderr, `retouch: --out ${photo} is a file; give a folder (it is created if missing)\n`);
  });

  test("--out below a file", async () => {
    const stderr = await refusedBeforePaying("out-below-file", { out: join(photo, "results") });
    assert.equal(stderr, `retouch: --out ${join(photo, "results")} cannot be created: ${photo} is a file\n`);
  });

  test("--out in a folder that cannot be written", async () => {
    const folder = await unwritableFolder();
    const stderr = await refusedBeforePaying("out-unwritable", { out: join(folder, "results") });
    assert.match(stderr, new RegExp(`^retouch: --out: cannot write into ${folder} \\(where ${join(folder, "results")} would be created\\) \\(E[A-Z]+\\)`));
  });

  test("a wallet file that cannot be read, and one that is not a wallet", async () => {
    const folder = join(dir, "wallet-folder.json");
    await mkdir(folder, { recursive: true });
    assert.match(await refusedBeforePaying("wallet-folder", { wallet: folder }), /^retouch: cannot read wallet .*wallet-folder\.json: EISDIR/);
    const garbage = join(dir, "garbage.json");
    await writeFile(garbage, '{"evm": 1}');
    assert.match(await refusedBeforePaying("wallet-garbage", { wallet: garbage }), /garbage\.json is not a wallet file/);
  });

  test("inputs that are not pictures", async () => {
    const text = join(dir, "mask.txt");
    await writeFile(text, "white here, black there");
    assert.match(await refusedBeforePaying("bad-mask", { mask: text }), /mask\.txt is not a PNG, JPEG or WebP image/);
  });

  test("a state folder (RETOUCH_HOME) where pending payments cannot be kept", async () => {
    const home = join(dir, "home-is-a-file");
    await writeFile(home, "not a folder");
    const stderr = await refusedBeforePaying("home-file", { home });
    assert.match(stderr, new RegExp(`^retouch: the pending payments folder \\(RETOUCH_HOME\\) ${join(home, "pending")} cannot be created: ${home} is a file`));
  });
});
