// Test double for the engine worker: lets pool tests crash, hang or answer a worker on purpose.
// The command is the first red byte of the request: 0 echo, 1 hang, 2 throw, 3 exit.

import { parentPort } from "node:worker_threads";
import type { FillReply, FillRequest } from "./protocol.ts";

const port = parentPort;
if (port === null) throw new Error("pool.fixture.ts must run as a worker thread");

port.on("message", (request: FillRequest) => {
  const command = request.rgb[0];
  if (command === 1) for (;;); // a fill that never ends: only terminate() stops it
  if (command === 2) setTimeout(() => { throw new Error("fixture blew up"); });
  if (command === 3) process.exit(3);
  if (command > 1) return;
  const reply: FillReply = { id: request.id, ok: true, rgb: request.rgb.slice() };
  port.postMessage(reply, [reply.rgb.buffer as ArrayBuffer]);
});
