// The one place where providers are chosen: which adapter runs each provider
// name, given this server's configuration.

import type { Config } from "../config.ts";
import { createSlots, type Slots } from "../edits/index.ts";
import type { EnginePool } from "../engine/index.ts";
import { localProvider } from "./local/index.ts";
import type { Provider } from "./types.ts";
import { unconfiguredProvider } from "./unconfigured.ts";

export interface ProviderRegistry {
  get(name: string): Provider | undefined;
  /** Every provider's name, e.g. "local", "openai", "google". */
  names: string[];
  /** Upstream calls held back by `inflight` (waiting) and in flight (active), per limited provider. */
  counts(): { lane: string; waiting: number; active: number }[];
  close(): Promise<void>;
}

/**
 * `inflight` > 0: at most that many calls at once to each upstream provider from this process (the
 * embedded RETOUCH_LIMIT_PROVIDER_INFLIGHT; a fleet's queue limits them across processes instead).
 * Calls over it wait their turn within their time budget; they are not refused.
 */
export async function createProviderRegistry(config: Config, engine: EnginePool, inflight = 0): Promise<ProviderRegistry> {
  const { openaiApiKey, openaiBaseUrl, geminiApiKey, geminiBaseUrl } = config.credentials;
  // An upstream's SDK is loaded only when its key is set: @google/genai alone keeps megabytes of
  // source in memory, and both add to every start.
  const providers: Provider[] = [
    localProvider(engine),
    openaiApiKey
      ? (await import("./openai/index.ts")).openAiProvider({ apiKey: openaiApiKey, baseUrl: openaiBaseUrl, timeoutMs: config.upstreamTimeoutMs })
      : unconfiguredProvider("openai", "OpenAI models are not enabled on this server: set OPENAI_API_KEY to enable them"),
    geminiApiKey
      ? (await import("./google/index.ts")).googleProvider({ apiKey: geminiApiKey, baseUrl: geminiBaseUrl, timeoutMs: config.upstreamTimeoutMs })
      : unconfiguredProvider("google", "Google models are not enabled on this server: set GEMINI_API_KEY to enable them"),
  ];
  const limits = new Map<string, Slots>();
  const byName = new Map(
    providers.map((provider) => {
      if (inflight <= 0 || provider.name === "local" || provider.unavailableReason() !== undefined) return [provider.name, provider];
      const slots = createSlots(inflight);
      limits.set(provider.name, slots);
      return [provider.name, { ...provider, edit: (request, signal, onPartial) => slots.run(() => provider.edit(request, signal, onPartial), signal) } satisfies Provider];
    }),
  );
  return {
    get: (name) => byName.get(name),
    names: [...byName.keys()],
    counts: () => [...limits].map(([lane, slots]) => ({ lane, waiting: slots.waiting, active: slots.running })),
    close: async () => {
      await Promise.all(providers.map((provider) => provider.close?.()));
    },
  };
}
