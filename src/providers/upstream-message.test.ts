import { test } from "node:test";
import assert from "node:assert/strict";
import { logDetail, scrub, summarise, summariseFailure, UPSTREAM_WORDS_CHARS } from "./upstream-message.ts";

const KEY = "sk-proj-abcdef0123456789";

test("scrub replaces URLs, file paths, IP addresses and host names with [redacted]", () => {
  const cases: [string, string][] = [
    ["see https://internal.example.com/debug?x=1 for details", "see [redacted] for details"],
    ['File "/srv/app/internal.py", line 12, in handler', 'File "[redacted]", line 12, in handler'],
    ["config at /etc/nginx/conf.d/upstream.conf failed", "config at [redacted] failed"],
    ["C:\\inetpub\\wwwroot\\app.dll crashed", "[redacted] crashed"],
    ["connect ECONNREFUSED 10.1.2.3:443", "connect ECONNREFUSED [redacted]"],
    ["upstream 10.0.3.7 timed out", "upstream [redacted] timed out"],
    ["connect ECONNREFUSED [fd00:ec2::254]:443", "connect ECONNREFUSED [redacted]"],
    ["peer 2001:db8:85a3:0:0:8a2e:370:7334 reset", "peer [redacted] reset"],
    ["getaddrinfo ENOTFOUND api-backend.internal.svc.cluster.local", "getaddrinfo ENOTFOUND [redacted]"],
    ["no healthy upstream at backend:8080 or localhost", "no healthy upstream at [redacted] or [redacted]"],
    [`Incorrect API key provided: ${KEY}.`, "Incorrect API key provided: [redacted]."],
  ];
  for (const [raw, clean] of cases) assert.equal(scrub(raw, KEY), clean, raw);
});

test("scrub keeps what a caller needs: types, model names, sizes, field names, image file names", () => {
  const kept = [
    "Invalid file 'image': unsupported mimetype ('application/octet-stream'). Supported file formats are 'image/jpeg', 'image/png'.",
    "Rejected by the safety system. safety_violations=[violence].",
    "Invalid value for 'size': '999x999'. Supported: 1024x1024, 1536x1024.",
    "input_fidelity is not supported for gpt-image-1-mini or gpt-image-1.5 at 12:30:45.",
    "Invalid file 'mask.png': mask size does not match image-0.png, e.g. and/or 24/7.",
  ];
  for (const text of kept) assert.equal(scrub(text, KEY), text);
});

test("scrub collapses whitespace and cuts long text with an ellipsis", () => {
  assert.equal(scrub("line one\n\n   line two\t", ""), "line one line two");
  const long = scrub("word ".repeat(500), "");
  assert.equal(long.length, UPSTREAM_WORDS_CHARS);
  assert.ok(long.endsWith("…"));
});

test("summarise: status, code and the scrubbed words; nothing of a body that is not JSON or is HTML", () => {
  assert.deepEqual(summarise("OpenAI", { status: 503, code: "server_error", message: "Service unavailable.", json: true }, KEY), {
    summary: "OpenAI answered 503 (server_error): Service unavailable.",
    words: "Service unavailable.",
  });
  assert.deepEqual(summarise("OpenAI", { status: 502, json: false, message: "<html>/srv/app</html>" }, KEY), {
    summary: "OpenAI answered 502 with a non-JSON body",
  });
  assert.deepEqual(summarise("Gemini", { status: 500, code: "INTERNAL", json: true }, KEY), {
    summary: "Gemini answered 500 (INTERNAL) without an error message",
  });
  assert.deepEqual(summarise("OpenAI", { status: 500, message: "<h1>Internal Server Error</h1><p>/srv/app/x.py</p>", json: true }, KEY), {
    summary: "OpenAI answered 500 with an error message in HTML",
  });
  const odd = summarise("OpenAI", { status: 500, code: "bad code<script>", message: "m", json: true }, KEY);
  assert.equal(odd.summary, "OpenAI answered 500 (badcodescript): m");
});

test("summarise keeps a 20 KB message to about 300 characters, without paths, addresses or the key", () => {
  const message = `Traceback: File "/srv/app/internal.py" from 10.0.3.7 key ${KEY} `.repeat(300);
  const { summary } = summarise("OpenAI", { status: 500, code: "server_error", message, json: true }, KEY);
  assert.ok(summary.length <= 300, `${summary.length} characters`);
  for (const secret of ["/srv/app", "internal.py", "10.0.3.7", KEY]) assert.ok(!summary.includes(secret), secret);
});

test("summariseFailure: connection errors without addresses; JSON parse errors without the body's start", () => {
  const refused = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 10.1.2.3:443"), { code: "ECONNREFUSED" }) });
  assert.equal(summariseFailure("Gemini", refused, KEY), "fetch failed: connect ECONNREFUSED [redacted]");
  let parseError: unknown;
  try {
    JSON.parse("<html>/srv/app/internal.py</html>");
  } catch (error) {
    parseError = error;
  }
  assert.equal(summariseFailure("Gemini", parseError, KEY), "Gemini answered with a body that is not valid JSON");
});

test("logDetail keeps the raw text for the log, without the key, cut to a few KB", () => {
  assert.equal(logDetail(`500 <html>/srv/app ${KEY}</html>`, KEY).message, "500 <html>/srv/app [redacted]</html>");
  const long = logDetail("x".repeat(20_000), KEY).message;
  assert.ok(long.length < 2_100 && long.endsWith("(20000 characters)"), long.slice(-40));
});
