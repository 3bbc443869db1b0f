// A scriptable local HTTP server (127.0.0.1, port 0) for standing in for an
// upstream API: it records what arrives and answers from a queue of scripted
// replies, so a test says "the next call fails with 500, the one after succeeds".

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What one request looked like, as the fake read it. */
export interface Received<T> {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** The parsed body, or undefined when the fake refused the request before parsing. */
  body: T;
}

/** Writes one answer; `received` is the parsed request. */
export type Reply<T> = (res: ServerResponse, received: Received<T>, req: IncomingMessage) => void | Promise<void>;

export interface FakeServer<T> {
  origin: string;
  received: Received<T>[];
  /** Requests whose client hung up before the answer was written. */
  abandoned: number;
  /** Queues replies for the next requests; when the queue is empty, `fallback` answers. */
  reply(...replies: Reply<T>[]): void;
  reset(): void;
  close(): Promise<void>;
}

export interface FakeServerOptions<T> {
  /** Checks and parses a request like the real API would; writes an error answer and returns undefined to refuse it. */
  accept(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<T | undefined>;
  fallback: Reply<T>;
}

export async function startFakeServer<T>(options: FakeServerOptions<T>): Promise<FakeServer<T>> {
  const queue: Reply<T>[] = [];
  const fake = { received: [] as Received<T>[], abandoned: 0 };
  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      res.on("close", () => {
        if (!res.writableFinished) fake.abandoned++;
      });
      const parsed = await options.accept(req, body, res);
      if (parsed === undefined) return;
      const received: Received<T> = { method: req.method!, path: req.url!, headers: req.headers, body: parsed };
      fake.received.push(received);
      await (queue.shift() ?? options.fallback)(res, received, req);
    } catch (error) {
      if (!res.headersSent) json(res, 599, { error: { message: `fake server bug: ${(error as Error).message}` } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get received() {
      return fake.received;
    },
    get abandoned() {
      return fake.abandoned;
    },
    reply: (...replies) => queue.push(...replies),
    reset() {
      queue.length = 0;
      fake.received.length = 0;
      fake.abandoned = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** An answer with any body and type: a proxy's HTML page, a load balancer's text. */
export function rawAnswer(status: number, body: string, contentType: string, headers: Record<string, string> = {}): Reply<unknown> {
  return (res) => {
    res.writeHead(status, { "content-type": contentType, ...headers });
    res.end(body);
  };
}

/** An answer that never comes: waits until the client gives up (or `ms`, as a backstop). */
export function hang(ms = 30_000): Reply<unknown> {
  return (res) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        res.destroy();
        resolve();
      }, ms);
      res.on("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
}

/** The connection drops without an answer (a crashed or unreachable upstream). */
export const dropConnection: Reply<unknown> = (_res, _received, req) => {
  req.socket.destroy();
};

/** What a flood wrote before the client stopped reading. */
export interface FloodStats {
  /** Bytes written to the socket. */
  sent: number;
  /** Whether the whole answer was written. */
  finished: boolean;
}

/**
 * A 200 JSON answer of `bytes` bytes: `prefix`, "A"s (valid base64), then `suffix`.
 * Written only as the socket drains, so this side holds 1 MB at most and
 * `stats` tell how much the client really read. `contentLength` announces the size.
 */
export function flood(
  prefix: string,
  suffix: string,
  bytes: number,
  options: { contentLength?: boolean } = {},
): { reply: Reply<unknown>; stats: FloodStats } {
  const stats: FloodStats = { sent: 0, finished: false };
  const filler = Buffer.alloc(1024 * 1024, "A");
  const reply: Reply<unknown> = async (res) => {
    res.writeHead(200, { "content-type": "application/json", ...(options.contentLength ? { "content-length": String(bytes) } : {}) });
    const write = (chunk: Buffer) =>
      new Promise<void>((resolve) => {
        stats.sent += chunk.length;
        if (res.write(chunk)) return resolve();
        const done = () => (res.off("drain", done), res.off("close", done), resolve());
        res.on("drain", done).on("close", done);
      });
    await write(Buffer.from(prefix));
    for (let left = bytes - prefix.length - suffix.length; left > 0 && !res.destroyed; left -= filler.length) {
      await write(filler.subarray(0, Math.min(left, filler.length)));
    }
    if (res.destroyed) return;
    stats.sent += suffix.length;
    res.end(suffix, () => (stats.finished = true));
  };
  return { reply, stats };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
