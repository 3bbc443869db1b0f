// Who is asking: the address limits are counted against.

import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { clientAddress } from "../gateway/index.ts";

/** The client's address as `RETOUCH_TRUST_PROXY` says to read it; "unknown" when the request did not come over a socket. */
export function clientOf(c: Context, trustProxies: number): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    peer = undefined; // app.fetch called directly (tests, embedding): there is no socket
  }
  return clientAddress(peer, c.req.header("x-forwarded-for"), trustProxies);
}
