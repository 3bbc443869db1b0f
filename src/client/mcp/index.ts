// `retouch mcp`: the buyer's tools for AI agents over MCP, on stdio (what MCP
// clients start) or Streamable HTTP on 127.0.0.1 (`--http PORT`). The HTTP one
// is stateless (a server per request) and, as the paying proxy, serves only
// this machine's programs: it spends the user's money.

import { serve } from "@hono/node-server";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono } from "hono";
import { localOnly } from "../proxy/local-only.ts";
import { createMcpServer, type McpSettings } from "./server.ts";

export { createMcpServer, MCP_IMAGE_SIDE, type McpSettings } from "./server.ts";

/** Serves MCP on stdin/stdout until stdin closes. Nothing else may write to stdout. */
export async function serveStdio(settings: McpSettings): Promise<void> {
  const server = createMcpServer(settings);
  const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
  await server.connect(new StdioServerTransport());
  await closed;
}

export interface McpHttp {
  url: string;
  close(): Promise<void>;
}

/** Streamable HTTP at http://127.0.0.1:PORT/mcp. */
export async function serveHttp(settings: McpSettings, port: number): Promise<McpHttp> {
  const app = new Hono();
  app.use(localOnly);
  app.all("/mcp", async (c) => {
    const server = createMcpServer(settings);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      void server.close();
    }
  });
  const listening = serve({ fetch: app.fetch, hostname: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    listening.once("listening", resolve);
    listening.once("error", reject);
  });
  const address = listening.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/mcp`,
    close: () => new Promise((resolve) => listening.close(() => resolve())),
  };
}
