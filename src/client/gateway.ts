// Where the buyer talks to: the gateway's URL (checked), reaching it, and reading its
// 402 quote. Which RPC each network is read from is in rpc.ts.

import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { findNetwork, type Network } from "../chains/index.ts";
import { CliError, EXIT } from "./errors.ts";

export { rpcUrlFor, type RpcFlags } from "./rpc.ts";

export const DEFAULT_GATEWAY = "http://127.0.0.1:4021";
export const EDIT_PATH = "/api/v1/images/image2image";

/**
 * --gateway, else RETOUCH_GATEWAY_URL, else the local default; an http(s) URL or a
 * usage error (exit 2) naming where the bad value came from.
 */
export function gatewayUrl(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const [value, from] = flag ? [flag, "--gateway"] : env.RETOUCH_GATEWAY_URL ? [env.RETOUCH_GATEWAY_URL, "RETOUCH_GATEWAY_URL"] : [DEFAULT_GATEWAY, "the default"];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`${from} is "${value}", which is not a URL; give the gateway's address such as ${DEFAULT_GATEWAY}`, EXIT.usage, { code: "invalid_gateway_url" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`${from} is "${value}"; the gateway's address must start with http:// or https://`, EXIT.usage, { code: "invalid_gateway_url" });
  }
  return value.replace(/\/+$/, "");
}

/** One way to pay that the gateway offers, on a network retouch knows. */
export interface Offer {
  network: Network;
  requirements: PaymentRequirements;
}

/** The known networks among a 402's `accepts` (exact scheme only), in the gateway's order. */
export function offersIn(required: PaymentRequired): Offer[] {
  return required.accepts.flatMap((requirements) => {
    const network = requirements.scheme === "exact" ? findNetwork(String(requirements.network)) : undefined;
    return network ? [{ network, requirements }] : [];
  });
}

/** Reads PAYMENT-REQUIRED of a 402 answer (exit 3 when it is missing or unreadable). */
export function paymentRequired(response: Response): PaymentRequired {
  const header = response.headers.get("payment-required");
  if (!header) throw new CliError("the gateway asked for payment (402) without a PAYMENT-REQUIRED header", EXIT.payment);
  try {
    return decodePaymentRequiredHeader(header);
  } catch (error) {
    throw new CliError("the gateway's PAYMENT-REQUIRED header is not valid x402", EXIT.payment, { cause: error });
  }
}

/** fetch that turns "cannot connect" into exit 5 naming the gateway. */
export async function reach(url: string, init: RequestInit, fetchImpl: typeof fetch = fetch): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, EXIT.unreachable, {
      cause: error,
      code: "gateway_unreachable",
    });
  }
}

/** 16x16 PNGs (grey picture, mask with a 4x4 hole), the smallest edit a gateway accepts: used to ask for a quote. */
const TINY_IMAGE =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAHElEQVQokWNoIBEwjGogAjAQowgZjGogBtA+lAAlhIAQFdpNuQAAAABJRU5ErkJggg==";
const TINY_MASK =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAIklEQVQ4jWNgYGD4TyFmGDWAgUZhgA5GogEMoynxP93CAADX4y7gk3J2qAAAAABJRU5ErkJggg==";

/**
 * The networks a gateway takes payment on, read from the 402 to a tiny edit request;
 * undefined when the gateway answers anything else (payments off, model missing).
 */
export async function acceptedNetworks(gateway: string): Promise<Offer[] | undefined> {
  const response = await reach(`${gateway}${EDIT_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "local/content-aware-fill", prompt: "quote", image: TINY_IMAGE, mask: TINY_MASK }),
  });
  await response.arrayBuffer();
  if (response.status !== 402) return undefined;
  return offersIn(paymentRequired(response));
}
