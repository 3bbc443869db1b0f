// What reaches the log when something fails: RPC providers put their API key in the URL, and
// viem quotes the URL (and the request body) in its errors.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createPublicClient, http } from "viem";
import { base } from "viem/chains";
import { createLogger, withoutSecrets } from "./observability.ts";

test("an RPC call that fails is logged with the provider's origin and without the key in its path or query, or the request body", async () => {
  const lines: string[] = [];
  const logger = createLogger("info", { write: (line: string) => void lines.push(line) });
  const rpc = "http://127.0.0.1:9/v2/path-key-0123456789?apikey=query-key-0123456789";
  const client = createPublicClient({ chain: base, transport: http(rpc, { retryCount: 0 }) });
  const error = await client.getBalance({ address: "0x000000000000000000000000000000000000dEaD" }).then(
    () => assert.fail("an RPC on port 9 answered"),
    (caught: Error) => caught,
  );
  assert.match(error.message, /path-key-0123456789/, "viem no longer quotes the URL: this test no longer tests anything");
  logger.error({ err: error }, "settle failed");
  assert.equal(lines.length, 1);
  const line = lines[0];
  assert.doesNotMatch(line, /path-key|query-key|"params"/);
  assert.match(line, /http:\/\/127\.0\.0\.1:9\/\[redacted\]/);
  const logged = JSON.parse(line) as { err: { type: string; stack: string } };
  assert.equal(logged.err.type, error.name);
  assert.ok(logged.err.stack.length > 0);
});

test("withoutSecrets keeps what is not a secret", () => {
  const cases: [string, string][] = [
    ["connect ECONNREFUSED 127.0.0.1:8545", "connect ECONNREFUSED 127.0.0.1:8545"],
    ["URL: https://mainnet.base.org", "URL: https://mainnet.base.org"],
    ["URL: https://mainnet.base.org/", "URL: https://mainnet.base.org"],
    ["at https://user:pass@rpc.example/ now", "at https://rpc.example/[redacted] now"],
    ["wss://rpc.example/ws/KEY and http://a.example/?k=1", "wss://rpc.example/[redacted] and http://a.example/[redacted]"],
    ['Request body: {"method":"eth_sendRawTransaction","params":["0x02f8"]}\nDetails: nonce too low', "Request body: [redacted]\nDetails: nonce too low"],
  ];
  for (const [text, kept] of cases) assert.equal(withoutSecrets(text), kept);
});
