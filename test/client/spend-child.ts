// One buyer process for spend-ledger.test.ts: opens the shared spend log, says "ready",
// waits for "go" on stdin, then records one payment with a signer that takes 300 ms (as a
// hardware wallet would), or one that never returns ("hang") so the test can kill it mid-sign.

import { once } from "node:events";
import { SpendLedger } from "../../src/client/spend-ledger.ts";
import { CapExceededError } from "../../src/client/spend-caps.ts";

const [file, tool, amount, mode] = process.argv.slice(2);
const ledger = await SpendLedger.open(file);
process.stdout.write("ready\n");
await once(process.stdin, "data");
try {
  await ledger.record({
    spend: { tool: tool as "edit" | "proxy", amount, network: "eip155:8453", pay_to: "0x000000000000000000000000000000000000dEaD", asset: "usdc", fingerprint: "f".repeat(64), gateway: "http://127.0.0.1:4021" },
    caps: { maxPerRequest: 1_000_000n, maxPerDay: 1_000_000n },
    sign: async () => {
      process.stdout.write("signing\n");
      await new Promise((resolve) => (mode === "hang" ? undefined : setTimeout(resolve, 300)));
      return "signed";
    },
  });
  process.stdout.write("paid\n");
} catch (error) {
  if (!(error instanceof CapExceededError)) throw error;
  process.stdout.write(`refused ${error.cap}\n`);
  process.exitCode = 3;
}
