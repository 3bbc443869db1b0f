// Sends one edit (the gateway's JSON, pictures as data URIs) to the gateway, paying
// within the caps through the buyer's one pay flow (which logs the signature and keeps
// the payment pending until the result is saved), and keeps the result images here.

import { basename } from "node:path";
import { RetouchError } from "../../errors.ts";
import { CliError } from "../errors.ts";
import { EDIT_PATH } from "../gateway.ts";
import { RESUME_HINT } from "../paid-answer.ts";
import { paidRequest } from "../pay.ts";
import { saveResults } from "../results.ts";
import { planRpc } from "../rpc.ts";
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
  const { response, pending } = await paidRequest({
    url: `${settings.gateway}${EDIT_PATH}`,
    init: (headers = {}) => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body }),
    gateway: settings.gateway,
    wallet: ctx.wallet,
    network: settings.network,
    // Asked per edit, like `retouch edit` does: a local devchain gateway names its chains' RPC.
    rpc: (await planRpc(settings.gateway, settings.rpc, settings.env)).flags,
    env: settings.env,
    accept: (offers) => offers,
    tool: "proxy",
    caps: { maxPerRequest: settings.maxPerRequest, maxPerDay: settings.maxPerDay },
    spendLog: settings.spendLog,
    pendingDir: settings.pendingDir,
    about: { model: edit.model, outDir: settings.imageDir },
    keepPendingUntilSaved: true,
    pollIntervalMs: settings.pollIntervalMs,
    pollLimitMs: settings.pollLimitMs,
  });
  if (!response.ok) return passThrough(response);
  const result = (await response.json()) as EditResult;
  if (result.status === "failed") {
    const reason = typeof result.error === "string" ? result.error : JSON.stringify(result.error);
    throw new RetouchError(`the edit failed (not charged): ${reason}`, { status: 502, type: "upstream_error", code: "edit_failed" });
  }
  const data = result.data ?? [];
  let saved;
  try {
    saved = await saveResults({ urls: data.map((d) => d.url), outDir: settings.imageDir, model: edit.model, gateway: settings.gateway, private: true });
  } catch (error) {
    if (!(error instanceof CliError) || !pending) throw error;
    throw new CliError(`${error.message}; the payment is kept: ${RESUME_HINT}`, error.exitCode, { cause: error, code: error.code });
  }
  await pending?.done();
  const local = data.map((d, i) => ({ ...d, url: `${ctx.publicUrl()}/images/${basename(saved[i].path)}` }));
  return Response.json({ ...result, data: local });
}

/** The gateway's own error answer, status and body unchanged. */
async function passThrough(response: Response): Promise<Response> {
  const headers = new Headers({ "content-type": response.headers.get("content-type") ?? "application/json" });
  const retryAfter = response.headers.get("retry-after");
  if (retryAfter) headers.set("retry-after", retryAfter);
  return new Response(await response.arrayBuffer(), { status: response.status, headers });
}
