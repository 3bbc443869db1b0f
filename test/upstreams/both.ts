// A gateway in this process in front of a fake OpenAI and a fake Gemini, for the
// tests that try the same failure on both upstreams.

import { solidImage, startTestGateway, type TestGateway } from "../support/gateway.ts";
import { startFakeGemini, type FakeGemini } from "./fake-gemini.ts";
import { startFakeOpenAi, type FakeOpenAi } from "./fake-openai.ts";

export interface BothUpstreams {
  openai: FakeOpenAi;
  gemini: FakeGemini;
  gw: TestGateway;
  /** A small source picture to send. */
  png: Buffer;
  /** Forgets the replies a test scripted. */
  reset(): void;
  close(): Promise<void>;
}

export async function startBothUpstreams(keys: { openai: string; gemini: string }, upstreamTimeoutMs: number): Promise<BothUpstreams> {
  const result = await solidImage(1024, 1024);
  const png = await solidImage(64, 64);
  const openai = await startFakeOpenAi(keys.openai, result);
  const gemini = await startFakeGemini(keys.gemini, result);
  const gw = await startTestGateway({
    OPENAI_API_KEY: keys.openai,
    OPENAI_BASE_URL: openai.baseUrl,
    GEMINI_API_KEY: keys.gemini,
    GEMINI_BASE_URL: gemini.origin,
    RETOUCH_UPSTREAM_TIMEOUT_MS: String(upstreamTimeoutMs),
  });
  return {
    openai,
    gemini,
    gw,
    png,
    reset() {
      openai.reset();
      gemini.reset();
    },
    async close() {
      await gw.close();
      await openai.close();
      await gemini.close();
    },
  };
}
