// The one place where providers are chosen: which adapter runs each provider
// name, given this server's configuration.

import type { Config } from "../config.ts";
import type { EnginePool } from "../engine/index.ts";
import { googleProvider } from "./google/index.ts";
import { localProvider } from "./local/index.ts";
import { openAiProvider } from "./openai/index.ts";
import type { Provider } from "./types.ts";
import { unconfiguredProvider } from "./unconfigured.ts";

export interface ProviderRegistry {
  get(name: string): Provider | undefined;
  /** Every provider's name, e.g. "local", "openai", "google". */
  names: string[];
  close(): Promise<void>;
}

export function createProviderRegistry(config: Config, engine: EnginePool): ProviderRegistry {
  const { openaiApiKey, openaiBaseUrl, geminiApiKey, geminiBaseUrl } = config.credentials;
  const providers: Provider[] = [
    localProvider(engine),
    openaiApiKey
      ? openAiProvider({ apiKey: openaiApiKey, baseUrl: openaiBaseUrl, timeoutMs: config.upstreamTimeoutMs })
      : unconfiguredProvider("openai", "OpenAI models are not enabled on this server: set OPENAI_API_KEY to enable them"),
    geminiApiKey
      ? googleProvider({ apiKey: geminiApiKey, baseUrl: geminiBaseUrl, timeoutMs: config.upstreamTimeoutMs })
      : unconfiguredProvider("google", "Google models are not enabled on this server: set GEMINI_API_KEY to enable them"),
  ];
  const byName = new Map(providers.map((provider) => [provider.name, provider]));
  return {
    get: (name) => byName.get(name),
    names: [...byName.keys()],
    close: async () => {
      await Promise.all(providers.map((provider) => provider.close?.()));
    },
  };
}
