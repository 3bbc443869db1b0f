// The JSON-RPC server's contract with clients: loopback only, web pages only from allowed origins,
// batches, standard error codes, u64 values as exact JSON numbers, and a bounded request body.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, test } from "node:test";
import { RpcError, startRpcServer, stringifyJson, webOrigin, type RpcServer } from "./rpc-server.ts";

const PLAYGROUND = "http://localhost:4021";
let server: RpcServer;
const calls: string[] = [];
before(async () => {
  server = await startRpcServer({
    port: 0,
    maxBodyBytes: 1024,
    allowedOrigins: [`${PLAYGROUND}/`],
    handler: async (method, params) => {
      calls.push(method);
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

const call = (headers: Record<string, string>, method = "POST") =>
  fetch(server.url, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: method === "POST" ? '{"jsonrpc":"2.0","id":1,"method":"echo","params":["sent"]}' : undefined,
  });

test("a page at another origin is refused before its call runs: 403, a JSON-RPC error, no CORS header; its preflight too", async () => {
  calls.length = 0;
  for (const origin of ["http://evil.example", "null", "http://localhost:4022", "https://localhost:4021"]) {
    const res = await call({ origin });
    assert.equal(res.status, 403, origin);
    assert.equal(res.headers.get("access-control-allow-origin"), null, origin);
    const body = (await res.json()) as { error: { code: number; message: string } };
    assert.equal(body.error.code, -32600);
    assert.match(body.error.message, new RegExp(`requests from ${origin} are refused: only pages at http://localhost:4021 may call it`));

    const preflight = await call({ origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" }, "OPTIONS");
    assert.equal(preflight.status, 403, origin);
    assert.equal(preflight.headers.get("access-control-allow-origin"), null, origin);
  }
  assert.deepEqual(calls, [], "no refused request reached the handler");
});

test("the allowed origin gets itself back (not *) with Vary: Origin, preflight included; no Origin (node, curl) is served without CORS headers", async () => {
  const res = await call({ origin: PLAYGROUND });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), PLAYGROUND);
  assert.match(res.headers.get("vary") ?? "", /Origin/);
  assert.deepEqual(await res.json(), { jsonrpc: "2.0", id: 1, result: ["sent"] });

  const preflight = await call({ origin: PLAYGROUND, "access-control-request-method": "POST", "access-control-request-headers": "content-type" }, "OPTIONS");
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), PLAYGROUND);
  assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/);
  assert.match(preflight.headers.get("vary") ?? "", /Origin/);

  const plain = await call({});
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get("access-control-allow-origin"), null);
  assert.deepEqual(await plain.json(), { jsonrpc: "2.0", id: 1, result: ["sent"] });
});

test("by default no page may call: even a localhost origin is refused", async () => {
  const closed = await startRpcServer({ port: 0, handler: async () => "ran" });
  try {
    const res = await fetch(closed.url, { method: "POST", headers: { origin: PLAYGROUND }, body: '{"jsonrpc":"2.0","id":1,"method":"x"}' });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /no web page may call it/);
  } finally {
    await closed.close();
  }
});

test("allowed origins are written as browsers send them; something that is not a web origin fails the start", async () => {
  assert.equal(webOrigin("http://LOCALHOST:80/playground/"), "http://localhost");
  assert.equal(webOrigin("https://retouch.example:443"), "https://retouch.example");
  for (const bad of ["localhost:4021", "*", "file:///tmp/page.html", ""]) {
    await assert.rejects(startRpcServer({ port: 0, allowedOrigins: [bad], handler: async () => null }), RangeError, bad);
  }
});
