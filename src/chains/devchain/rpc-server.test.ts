// The JSON-RPC server's contract with clients: loopback only, batches, standard error codes,
// u64 values as exact JSON numbers, and a bounded request body.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, test } from "node:test";
import { RpcError, startRpcServer, stringifyJson, type RpcServer } from "./rpc-server.ts";

let server: RpcServer;
before(async () => {
  server = await startRpcServer({
    port: 0,
    maxBodyBytes: 1024,
    handler: async (method, params) => {
      if (method === "echo") return params;
      if (method === "big") return 18446744073709551615n;
      throw new RpcError(-32601, `no ${method}`);
    },
  });
});
after(() => server.close());

const post = async (body: string) => {
  const res = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body });
  return { status: res.status, text: await res.text() };
};

test("listens on 127.0.0.1 only: the same port on this machine's other addresses refuses the connection", async () => {
  const others = Object.values(networkInterfaces())
    .flat()
    .filter((nic) => nic !== undefined && nic.family === "IPv4" && !nic.internal)
    .map((nic) => nic!.address);
  assert.ok(others.length > 0, "this test needs a non-loopback IPv4 address on the machine");
  assert.equal(await connects("127.0.0.1", server.port), true);
  for (const address of others) assert.equal(await connects(address, server.port), false, address);
});

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

test("answers single calls and batches, keeping ids", async () => {
  const single = JSON.parse((await post('{"jsonrpc":"2.0","id":7,"method":"echo","params":[1,"a"]}')).text);
  assert.deepEqual(single, { jsonrpc: "2.0", id: 7, result: [1, "a"] });
  const batch = JSON.parse((await post('[{"jsonrpc":"2.0","id":1,"method":"echo","params":[]},{"jsonrpc":"2.0","id":2,"method":"nope"}]')).text);
  assert.deepEqual(batch, [
    { jsonrpc: "2.0", id: 1, result: [] },
    { jsonrpc: "2.0", id: 2, error: { code: -32601, message: "no nope" } },
  ]);
});

test("writes u64 bigints as exact JSON numbers", async () => {
  assert.equal((await post('{"jsonrpc":"2.0","id":1,"method":"big"}')).text, '{"jsonrpc":"2.0","id":1,"result":18446744073709551615}');
  assert.equal(stringifyJson({ a: [1n, "x"] }), '{"a":[1,"x"]}');
});

test("malformed JSON is a parse error; a body over the limit is 413", async () => {
  assert.equal(JSON.parse((await post("{nope")).text).error.code, -32700);
  assert.equal((await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "echo", params: ["x".repeat(2000)] }))).status, 413);
});
