// Sends one edit (the gateway's JSON, pictures as data URIs) to the gateway, paying
// within the caps, logs what was paid, and keeps the result images on this machine.

import { basename } from "node:path";
import { RetouchError } from "../../errors.ts";
import { EDIT_PATH } from "../gateway.ts";
import { paidRequest } from "../pay.ts";
import { quoteOf } from "../paying.ts";
import { formatUnits } from "../balances.ts";
import { saveResults } from "../results.ts";
import { withinCaps } from "./caps.ts";
import type { ProxyContext } from "./context.ts";

/** The gateway's image2image body; pictures are data URIs by now. */
export interface EditJson {
  model?: string;
  prompt: string;
  image: string | string[];
  mask?: string;
  size?: string;
  n?: number;
}

interface EditResult {
  created?: number;
  data?: { url: string; revised_prompt?: string }[];
  price?: { amount: string; currency: "USD" };
  payment?: { status: string; tx_hash: string; network: string };
  status?: string;
  error?: unknown;
}

export async function forwardEdit(ctx: ProxyContext, edit: EditJson): Promise<Response> {
  const { settings } = ctx;
  const body = JSON.stringify(edit);
  let release: (() => void) | undefined;
  try {
    const { response, offer } = await paidRequest({
      url: `${settings.gateway}${EDIT_PATH}`,
      init: (headers = {}) => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body }),
      gateway: settings.gateway,
      wallet: ctx.wallet,
      network: settings.network,
      rpc: settings.rpc,
      env: settings.env,
      accept: (offers) => {
        const allowed = withinCaps({ offers, maxPerRequest: settings.maxPerRequest, maxPerDay: settings.maxPerDay, spend: ctx.spend });
        release = allowed.release;
        return allowed.offers;
      },
      pollIntervalMs: settings.pollIntervalMs,
      pollLimitMs: settings.pollLimitMs,
    });
    if (!response.ok) return passThrough(response);
    const result = (await response.json()) as EditResult;
    if (result.status === "failed") {
      const reason = typeof result.error === "string" ? result.error : JSON.stringify(result.error);
      throw new RetouchError(`the edit failed (not charged): ${reason}`, { status: 502, type: "upstream_error", code: "edit_failed" });
    }
    if (offer && result.payment && result.payment.status !== "already_settled") {
      await ctx.spend.append({
        time: new Date().toISOString(),
        model: edit.model ?? "default",
        price_usd: result.price?.amount ?? formatUnits(quoteOf(offer), 6),
        network: result.payment.network,
        tx_hash: result.payment.tx_hash,
      });
    }
    const data = result.data ?? [];
    const saved = await saveResults({ urls: data.map((d) => d.url), outDir: settings.imageDir, model: edit.model });
    const local = data.map((d, i) => ({ ...d, url: `${ctx.publicUrl()}/images/${basename(saved[i].path)}` }));
    return Response.json({ ...result, data: local });
  } finally {
    release?.();
  }
}

/** The gateway's own error answer, status and body unchanged. */
async function passThrough(response: Response): Promise<Response> {
  const headers = new Headers({ "content-type": response.headers.get("content-type") ?? "application/json" });
  const retryAfter = response.headers.get("retry-after");
  if (retryAfter) headers.set("retry-after", retryAfter);
  return new Response(await response.arrayBuffer(), { status: response.status, headers });
}
