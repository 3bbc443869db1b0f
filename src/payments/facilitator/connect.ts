// Remote mode's facilitator at start-up: built for its kind, asked once what it
// supports, and refused in one line naming what to fix when it does not fit.

import { NETWORKS, type NetworkName } from "../../chains/index.ts";
import { ConfigError, type FacilitatorSettings } from "../../config.ts";
import { cdpFacilitatorOptions } from "./cdp.ts";
import { payaiFacilitatorOptions } from "./payai.ts";
import { remoteFacilitator, type RemoteFacilitatorOptions } from "./remote.ts";
import type { Facilitator } from "./types.ts";
import { urlFacilitatorOptions } from "./url.ts";

const PROVIDERS = { cdp: "the CDP facilitator", payai: "the PayAI facilitator", url: "the facilitator" } as const;

/** How the facilitator is named in messages and logs: its kind and URL, never its credentials. */
function describeFacilitator(settings: FacilitatorSettings): string {
  const options = optionsFor(settings);
  return `${PROVIDERS[settings.kind]} at ${options.config.url}`;
}

/**
 * The facilitator for `settings`, after checking that it answers our credentials and pays
 * `exact` on every network; its /supported answer is kept for the rail that asks next.
 */
export async function connectFacilitator(
  settings: FacilitatorSettings,
  options: { networks: NetworkName[]; onNotice?: (message: string) => void },
): Promise<Facilitator> {
  if (settings.kind === "payai" && !settings.apiKey) {
    options.onNotice?.("PayAI facilitator without an API key: its free tier, with its limits (set PAYAI_API_KEY_ID and PAYAI_API_KEY_SECRET to lift them)");
  }
  const facilitator = remoteFacilitator(optionsFor(settings));
  const supported = await facilitator.supported();
  for (const name of options.networks) {
    const network = NETWORKS[name];
    if (!supported.kinds.some((kind) => kind.x402Version === 2 && kind.scheme === "exact" && kind.network === network.caip2)) {
      throw new ConfigError(
        `${describeFacilitator(settings)} does not support exact payments on ${name} (${network.caip2}): check RETOUCH_NETWORKS and RETOUCH_FACILITATOR`,
      );
    }
  }
  return { ...facilitator, supported: async () => supported };
}

function optionsFor(settings: FacilitatorSettings): RemoteFacilitatorOptions {
  if (settings.kind === "cdp") return cdpFacilitatorOptions(settings);
  if (settings.kind === "payai") return payaiFacilitatorOptions(settings);
  return urlFacilitatorOptions(settings);
}
