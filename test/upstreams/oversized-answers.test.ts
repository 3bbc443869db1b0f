// Answers far larger than an edit can need, from the fake OpenAI and Gemini,
// through a real gateway in this process: each is cut off at the limit
// (src/providers/answer-limits.ts) and answered with a 502 naming it, and the
// gateway never holds a whole one (its memory is sampled while they arrive).

import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { upstreamAnswerLimit } from "../../src/providers/index.ts";
import { dataUri, type TestGateway } from "../support/gateway.ts";
import { startBothUpstreams, type BothUpstreams } from "./both.ts";
import { expectError } from "./expect.ts";
import { flood } from "./fake-server.ts";
import type { FakeGemini } from "./fake-gemini.ts";
import type { FakeOpenAi } from "./fake-openai.ts";

const OPENAI_KEY = "sk-test-oversized-0a1b2c3d4e5f";
const GEMINI_KEY = "AIzaSyFAKE-oversized-0123456789abcdefgh";
const LIMIT = upstreamAnswerLimit(1);
const MB = 1_000_000;
/** What sockets and stream queues may hold past the cut: far below an answer. */
const SLACK = 16 * MB;

const OPENAI_JSON = ['{"created":1760000000,"data":[{"b64_json":"', '"}]}'] as const;
const GEMINI_JSON = [
  '{"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"',
  '"}}]},"finishReason":"STOP","index":0}]}',
] as const;

let upstreams: BothUpstreams;
let openai: FakeOpenAi;
let gemini: FakeGemini;
let gw: TestGateway;
let png: Buffer;

before(async () => {
  upstreams = await startBothUpstreams({ openai: OPENAI_KEY, gemini: GEMINI_KEY }, 6_0000);
  ({ openai, gemini, gw, png } = upstreams);
});
after(() => upstreams.close());
beforeEach(() => upstreams.reset());

const edit = (model: string) => gw.postJson({ model, prompt: "make it blue", image: dataUri(png), size: "1024x1024" });
const TOO_LARGE = /failed to complete the edit: its answer was larger than the limit of 71 MB; the rest was not read/;

test("an OpenAI answer one byte over the limit is a 502 naming the limit, not retried", async () => {
  openai.reply(flood(...OPENAI_JSON, LIMIT + 1).reply);
  await expectError(await edit("openai/gpt-image-1"), 502, "upstream_error", TOO_LARGE);
  assert.equal(openai.received.length, 1, "the same call would send it again: no retry");
});

test("3 concurrent OpenAI answers of 200 MB are cut off at the limit; the gateway's memory stays far below them", async () => {
  const floods = [1, 2, 3].map(() => flood(...OPENAI_JSON, 200 * MB));
  openai.reply(...floods.map((each) => each.reply));
  const memory = sampleMemory();
  const responses = await Promise.all(floods.map(() => edit("openai/gpt-image-1")));
  const grew = memory.stop();
  for (const response of responses) await expectError(response, 502, "upstream_error", TOO_LARGE);
  for (const { stats } of floods) {
    assert.equal(stats.finished, false, "the answer was not read to its end");
    assert.ok(stats.sent < LIMIT + SLACK, `${stats.sent} bytes were sent of 200 MB`);
  }
  // Read whole, 3 answers of 200 MB would take over 600 MB (the raw bodies alone).
  assert.ok(grew < 3 * LIMIT + 100 * MB, `the gateway grew by ${Math.round(grew / MB)} MB`);
});

test("an OpenAI answer announcing 200 MB is refused before its body is read", async () => {
  const { reply, stats } = flood(...OPENAI_JSON, 200 * MB, { contentLength: true });
  openai.reply(reply);
  await expectError(await edit("openai/gpt-image-1"), 502, "upstream_error", TOO_LARGE);
  assert.ok(stats.sent < SLACK, `${stats.sent} bytes were sent`);
  assert.equal(openai.received.length, 1);
});

test("a Gemini answer of 200 MB is cut off at the limit: a 502 naming it, not retried", async () => {
  const { reply, stats } = flood(...GEMINI_JSON, 200 * MB);
  gemini.reply(reply);
  await expectError(await edit("google/nano-banana"), 502, "upstream_error", TOO_LARGE);
  assert.equal(stats.finished, false);
  assert.ok(stats.sent < LIMIT + SLACK, `${stats.sent} bytes were sent of 200 MB`);
  assert.equal(gemini.received.length, 1);
});

/** Samples this process's RSS until stopped; returns the peak growth in bytes. */
function sampleMemory(): { stop(): number } {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss) - baseline;
    },
  };
}
