// The in-process EVM node as its owners stop it: a shutdown never pulls ganache's database out
// from under a request that is still running.

import assert from "node:assert/strict";
import { test } from "node:test";
import { BASE } from "../../networks.ts";
import { startEvmNode } from "./node.ts";

test("close lets the requests in flight finish first, and refuses the ones that come after with a clear error", async () => {
  const node = await startEvmNode(BASE.chainId);
  // Ganache answers these in order on its one thread; the last of them is still running when close is called.
  const inFlight = Array.from({ length: 20 }, () => node.provider.request({ method: "eth_getBalance", params: ["0x0000000000000000000000000000000000000001", "latest"] }));
  const estimate = node.provider.request({ method: "eth_estimateGas", params: [{ to: "0x0000000000000000000000000000000000000001", value: "0x0" }] });
  const closing = node.close();
  const answers = await Promise.allSettled([...inFlight, estimate]);
  assert.deepEqual(
    answers.filter((answer) => answer.status === "rejected").map((answer) => String((answer as PromiseRejectedResult).reason)),
    [],
  );
  const estimated = answers.at(-1)!;
  assert.equal(estimated.status === "fulfilled" && typeof estimated.value, "string", "the estimate answered");
  await closing;
  await assert.rejects(node.provider.request({ method: "eth_blockNumber" }), /the devchain is shutting down/);
});
