// An HTTP server for an in-process gateway that listens before the gateway exists. The gateway's
// public URL must name its port, and a port found free and bound only after the gateway has started
// (seconds later) can be taken in between by another test's process: the server then never
// listened, and the test waited for it forever.

import { serve } from "@hono/node-server";

type Fetch = (request: Request) => Response | Promise<Response>;

export interface ListeningServer {
  url: string;
  port: number;
  /** Starts answering with `fetch` (until then: 503). */
  use(fetch: Fetch): void;
  close(): Promise<void>;
}

export async function listenFirst(): Promise<ListeningServer> {
  let handler: Fetch = () => new Response("not ready", { status: 503 });
  const server = serve({ fetch: (request: Request) => handler(request), hostname: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    use(fetch) {
      handler = fetch;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
