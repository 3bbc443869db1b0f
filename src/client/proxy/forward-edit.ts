// Sends one edit (the gateway's JSON, pictures as data URIs) to the gateway, paying
// within the caps through the buyer's one pay flow (which logs the signature and keeps
// the payment pending until the result is saved), and keeps the result images here.

import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { RetouchError } from "../../errors.ts";
import { CliError } from "../errors.ts";
import { EDIT_PATH } from "../gateway.ts";
import { RESUME_HINT } from "../paid-answer.ts";
import { paidRequest } from "../pay.ts";
import { saveResults } from "../results.ts";
import { planRpc } from "../rpc.ts";
import type { ProxyContext } from "./context.ts";
import { relayStream } from "./relay-stream.ts";

/**
 * The gateway's image2image body; pictures are data URIs by now. Every other field the caller sent
 * goes along as sent, so that the gateway honours it or refuses it by name (none is dropped here).
 */
export interface EditJson {
  model?: string;
  prompt: string;
  image: string | string[];
  mask?: string;
  size?: string;
  n?: number;
  response_format?: string;
  [field: string]: unknown;
}

/** OpenAI's route answers its gpt-image models (and the gateway's default model) with b64_json, as OpenAI does. */
export function openAiDefaultFormat(model: string | undefined): "url" | "b64_json" {
  return model === undefined || /^(openai\/)?(gpt-image|chatgpt-image)/.test(model) ? "b64_json" : "url";
}

interface EditResult {
  created?: number;
  data?: { url: string; revised_prompt?: string }[];
  price?: { amount: string; currency: "USD" };
  payment?: { status: string; tx_hash: string; network: string };
  status?: string;
  error?: unknown;
}

/**
 * `path`: the gateway's route, the seed's or OpenAI's (which reads masks as OpenAI does).
 * `format`: how the caller gets the images. The gateway always answers with links here (the results
 * are saved locally anyway); b64_json is read back from the saved files.
 */
export async function forwardEdit(ctx: ProxyContext, { response_format: format = "url", ...edit }: EditJson, path = EDIT_PATH): Promise<Response> {
  const { settings } = ctx;
  if (format !== "url" && format !== "b64_json") {
    throw new RetouchError(`response_format must be url or b64_json, got ${JSON.stringify(format).slice(0, 40)}`, {
      status: 400,
      type: "invalid_request_error",
      param: "response_format",
      code: "invalid_value",
    });
  }
  const body = JSON.stringify({ ...edit, response_format: "url" });
  const { response, pending } = await paidRequest({
    url: `${settings.gateway}${path}`,
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
  if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream") && response.body) {
    const relayed = relayStream({
      gatewayStream: response.body,
      outDir: settings.imageDir,
      model: edit.model,
      localUrl: (file) => `${ctx.publicUrl()}/images/${file}`,
      settled: async () => pending?.done(),
    });
    return new Response(relayed, { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  }
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
  const local = await Promise.all(
    data.map(async ({ url: _url, ...d }, i) =>
      format === "b64_json"
        ? { b64_json: (await readFile(saved[i].path)).toString("base64"), ...d }
        : { ...d, url: `${ctx.publicUrl()}/images/${basename(saved[i].path)}` },
    ),
  );
  return Response.json({ ...result, data: local });
}

/** The gateway's own error answer, status and body unchanged. */
async function passThrough(response: Response): Promise<Response> {
  const headers = new Headers({ "content-type": response.headers.get("content-type") ?? "application/json" });
  const retryAfter = response.headers.get("retry-after");
  if (retryAfter) headers.set("retry-after", retryAfter);
  return new Response(await response.arrayBuffer(), { status: response.status, headers });
}
