// Worker-thread entry of the engine pool: runs one fill per message and sends the result back,
// transferring the output buffer instead of copying it.

import { parentPort } from "node:worker_threads";
import { collectGarbage } from "./collect-garbage.ts";
import { contentAwareFill } from "./fill.ts";
import { toWireError, type FillReply, type FillRequest } from "./protocol.ts";

const port = parentPort;
if (port === null) throw new Error("src/engine/worker.ts must be started as a worker thread");

port.on("message", (request: FillRequest) => {
  let reply: FillReply;
  try {
    const onPreview = (preview: Uint8Array) => port.postMessage({ id: request.id, preview } satisfies FillReply, [preview.buffer as ArrayBuffer]);
    const rgb = contentAwareFill(request, { previews: request.previews ?? 0, onPreview });
    reply = { id: request.id, ok: true, rgb };
    port.postMessage(reply, [rgb.buffer as ArrayBuffer]);
  } catch (error) {
    reply = { id: request.id, ok: false, error: toWireError(error) };
    port.postMessage(reply);
  }
  // The job's working buffers (pyramids, fields) and its input are garbage once this handler has
  // returned (collected here, the request it still references would stay until the next job);
  // an idle worker would keep them all.
  if (request.width * request.height >= LARGE_JOB_PIXELS) setImmediate(collectGarbage);
});

/** Jobs this big leave enough garbage to be worth a full collection (~10-30 ms) right after. */
const LARGE_JOB_PIXELS = 1_000_000;
