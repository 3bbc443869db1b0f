import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import pino from "pino";
import { RetouchError } from "../errors.ts";
import { errorResponse } from "./errors.ts";

function appThrowing(error: unknown) {
  const logs: string[] = [];
  const logger = pino({ level: "info" }, new Writable({ write: (chunk, _encoding, done) => (logs.push(String(chunk)), done()) }));
  const app = new Hono();
  app.use(requestId());
  app.onError((e, c) => errorResponse(e, c, logger));
  app.get("/", () => {
    throw error;
  });
  return { app, logs };
}

test("an unexpected failure is a 500 with the request id, no stack trace and no path; the log has the cause", async () => {
  const failure = Object.assign(new Error("ENOTDIR: not a directory, open '/tmp/retouch-x/files/key.png'"), { code: "ENOTDIR" });
  const { app, logs } = appThrowing(failure);
  const response = await app.request("/");
  const text = await response.text();
  assert.equal(response.status, 500);
  const id = response.headers.get("x-request-id")!;
  assert.ok(id);
  const body = JSON.parse(text) as { error: { message: string; type: string; code: string } };
  assert.deepEqual([body.error.type, body.error.code], ["server_error", "internal_error"]);
  assert.equal(body.error.message, `internal server error; quote request id ${id} when reporting it`);
  assert.doesNotMatch(text, /ENOTDIR|\/tmp\/|at .*\.ts:\d+/);
  assert.ok(logs.some((line) => line.includes(id) && line.includes("ENOTDIR")), "the log has the cause");
});

test("a known server error keeps its status, code and headers, and is logged with its cause", async () => {
  const { app, logs } = appThrowing(
    new RetouchError("the result storage cannot be read right now; try again shortly", {
      status: 503,
      type: "server_error",
      code: "storage_unavailable",
      headers: { "Retry-After": "5" },
      cause: new Error("connect ECONNREFUSED 127.0.0.1:9000"),
    }),
  );
  const response = await app.request("/");
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "5");
  const text = await response.text();
  assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, "storage_unavailable");
  assert.doesNotMatch(text, /ECONNREFUSED/);
  assert.ok(logs.some((line) => line.includes("ECONNREFUSED")), "the log has the cause");
});
