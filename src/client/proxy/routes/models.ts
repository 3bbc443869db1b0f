// GET /v1/models: the gateway's model list, passed through unchanged.

import { reach } from "../../gateway.ts";
import type { ProxyContext } from "../context.ts";

export function models(ctx: ProxyContext) {
  return async (): Promise<Response> => {
    const response = await reach(`${ctx.settings.gateway}/api/v1/models`, { method: "GET" });
    return new Response(await response.arrayBuffer(), {
      status: response.status,
      headers: { "content-type": response.headers.get("content-type") ?? "application/json" },
    });
  };
}
