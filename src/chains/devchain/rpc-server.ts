// Loopback-only JSON-RPC 2.0 over HTTP, shared by the EVM and Solana devchains: bounded bodies,
// batches, web pages refused unless their origin is allowed, u64 bigints written as JSON numbers.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** An error a JSON-RPC method answers with (code, message, data end up in the response's `error`). */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "RpcError";
    this.code = code;
    this.data = data;
  }
}

export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;

/** Answers one call; `params` is whatever the request carried (usually an array). */
export type RpcHandler = (method: string, params: unknown) => Promise<unknown>;

export interface RpcServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface RpcServerOptions {
  /** 0 picks a free port. */
  port: number;
  handler: RpcHandler;
  /** Requests larger than this get 413 (default 4 MiB: a big contract deployment fits, a flood does not). */
  maxBodyBytes?: number;
  /**
   * Web origins whose pages may call this server (default none). A request with any other `Origin`
   * gets 403; one without (node clients, curl) is served. Loopback alone does not protect a dev
   * node: every page the developer opens runs on this machine.
   */
  allowedOrigins?: readonly string[];
}

interface RpcResponse {
  jsonrpc: "2.0";
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

// Loopback only: the devchain holds funded keys. Programs on this machine can connect; browser pages are held back by Origin.
const HOST = "127.0.0.1";

export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const allowedOrigins = originSet(options.allowedOrigins ?? []);
  const server = createServer((req, res) => {
    serve(req, res, options.handler, maxBodyBytes, allowedOrigins).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets from wallets would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

function originSet(origins: readonly string[]): ReadonlySet<string> {
  return new Set(origins.map(webOrigin));
}

/** An origin as a browser writes it in `Origin` (`http://localhost:4021`: no path, no trailing slash, no default port). */
export function webOrigin(url: string): string {
  let origin: string | undefined;
  try {
    origin = new URL(url).origin;
  } catch {
    // reported below
  }
  if (origin === undefined || origin === "null") throw new RangeError(`allowed origin "${url}" is not a web origin like http://localhost:4021`);
  return origin;
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handler: RpcHandler,
  maxBodyBytes: number,
  allowedOrigins: ReadonlySet<string>,
): Promise<void> {
  // The answer depends on Origin, so caches must not hand one origin's answer to another.
  res.setHeader("Vary", "Origin");
  const origin = req.headers.origin;
  if (origin !== undefined) {
    // Checked before anything runs, preflights included: a page's "simple" POST needs no preflight.
    if (!allowedOrigins.has(origin)) return refuseOrigin(res, origin, allowedOrigins);
    res.setHeader("Access-Control-Allow-Origin", origin);
  }
  if (req.method === "OPTIONS") {
    res.writeHead(204, {
      "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
      "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] ?? "content-type",
      "Access-Control-Max-Age": "600",
    });
    res.end();
    return;
  }
  if (req.method === "GET" && (req.url === "/health" || req.url === "/")) {
    res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    return;
  }
  if (req.method !== "POST") {
    res.writeHead(405, { Allow: "POST, GET, OPTIONS" }).end();
    return;
  }
  const body = await readBody(req, maxBodyBytes);
  if (body === undefined) {
    res.writeHead(413, { "Content-Type": "application/json", Connection: "close" });
    res.end(stringifyJson(failure(null, -32600, `request body larger than ${maxBodyBytes} bytes`)));
    return;
  }
  let message: unknown;
  try {
    message = JSON.parse(body.toString("utf8"));
  } catch {
    sendJson(res, failure(null, -32700, "Parse error"));
    return;
  }
  if (Array.isArray(message)) {
    if (message.length === 0) return sendJson(res, failure(null, -32600, "empty batch"));
    sendJson(res, await Promise.all(message.map((item) => answer(item, handler))));
    return;
  }
  sendJson(res, await answer(message, handler));
}

async function answer(message: unknown, handler: RpcHandler): Promise<RpcResponse> {
  if (typeof message !== "object" || message === null) return failure(null, -32600, "Invalid Request");
  const { id = null, method, params } = message as { id?: unknown; method?: unknown; params?: unknown };
  if (typeof method !== "string") return failure(id, -32600, "Invalid Request: method must be a string");
  return handleCall(id, method, params, handler);
}

/** Runs one call and shapes the JSON-RPC response; used in-process too, so both paths answer alike. */
export async function handleCall(id: unknown, method: string, params: unknown, handler: RpcHandler): Promise<RpcResponse> {
  try {
    return { jsonrpc: "2.0", id, result: await handler(method, params ?? []) };
  } catch (error) {
    if (error instanceof RpcError) return failure(id, error.code, error.message, error.data);
    return failure(id, -32603, error instanceof Error ? error.message : String(error));
  }
}

function refuseOrigin(res: ServerResponse, origin: string, allowedOrigins: ReadonlySet<string>): void {
  const allowed = allowedOrigins.size === 0 ? "no web page may call it" : `only pages at ${[...allowedOrigins].join(", ")} may call it`;
  const message = `requests from ${origin.slice(0, 200)} are refused: ${allowed} (clients that send no Origin header, like node and curl, are served)`;
  // Unread body: close rather than drain a possibly large upload for a request already refused.
  res.writeHead(403, { "Content-Type": "application/json", Connection: "close" }).end(stringifyJson(failure(null, -32600, message)));
}

function failure(id: unknown, code: number, message: string, data?: unknown): RpcResponse {
  return { jsonrpc: "2.0", id, error: data === undefined ? { code, message } : { code, message, data } };
}

function sendJson(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { "Content-Type": "application/json" }).end(stringifyJson(value));
}

/** Resolves undefined once the body passes the limit, without buffering the rest. */
function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBodyBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const BIGINT_TAG = "\u0000bigint:";

/** JSON.stringify that writes bigints as plain JSON numbers, as Solana RPC does for u64 values. */
export function stringifyJson(value: unknown): string {
  const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${BIGINT_TAG}${v}` : v));
  return json.replace(/"\\u0000bigint:(-?\d+)"/g, "$1");
}
