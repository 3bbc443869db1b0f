// The real process, killed with SIGKILL right after a settled edit, then
// started again on the same data folder: the replay of that payment still
// gets the stored result and moves no money.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { x402Client } from "@x402/core/client";
import type { PaymentRequired } from "@x402/core/types";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { createPublicClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { base } from "viem/chains";
import { jsonInit, sceneEdit } from "./support/edit-input.ts";

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `retouch serve`; resolves with the process and its devchain's EVM RPC URL once it listens. */
async function startServer(dataDir: string, port: number): Promise<{ child: ChildProcess; evmRpc: string }> {
  const child = spawn(process.execPath, ["bin/retouch.js", "serve"], {
    env: { ...process.env, RETOUCH_DATA_DIR: dataDir, PORT: String(port), RETOUCH_DEVCHAIN_EVM_PORT: "0", RETOUCH_DEVCHAIN_SOLANA_PORT: "0", RETOUCH_ENGINE_THREADS: "1" },
    stdio: ["ignore", "pipe", "ignore"],
  });
  let evmRpc = "";
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { evm_rpc?: string; msg: string };
    if (entry.evm_rpc) evmRpc = entry.evm_rpc;
    if (entry.msg.startsWith("retouch listening")) return { child, evmRpc };
  }
  throw new Error("the server exited before listening");
}

test("a settled payment survives kill -9: the replay gets the stored result", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "retouch-kill-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/api/v1/images/image2image`;
  const edit = await sceneEdit();
  let server = await startServer(dataDir, port);
  try {
    const wallet = JSON.parse(await readFile(join(dataDir, "dev-wallets.json"), "utf8"));
    const account = privateKeyToAccount(wallet.evm.privateKey);
    const publicClient = createPublicClient({ chain: base, transport: http(server.evmRpc) });
    const client = new x402Client().register("eip155:8453", new ExactEvmScheme(toClientEvmSigner(account, publicClient)));

    const challenge = await fetch(url, jsonInit(edit));
    const required = JSON.parse(Buffer.from(challenge.headers.get("payment-required")!, "base64").toString()) as PaymentRequired;
    const header = Buffer.from(JSON.stringify(await client.createPaymentPayload(required))).toString("base64");
    const paid = await fetch(url, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const first = (await paid.json()) as { data: { url: string }[]; payment: { status: string; tx_hash: string } };
    assert.equal(first.payment.status, "settled");

    server.child.kill("SIGKILL");
    await new Promise((resolve) => server.child.once("exit", resolve));
    server = await startServer(dataDir, port);

    const replay = await fetch(url, jsonInit(edit, { "PAYMENT-SIGNATURE": header }));
    const again = (await replay.json()) as typeof first;
    assert.equal(replay.status, 200);
    assert.equal(again.payment.status, "already_settled");
    assert.equal(again.payment.tx_hash, first.payment.tx_hash);
    assert.deepEqual(again.data, first.data);
    assert.equal((await fetch(again.data[0].url)).status, 200);
  } finally {
    server.child.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  }
});
