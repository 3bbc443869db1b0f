// A paid streamed edit, relayed to the proxy's caller as the gateway sends it:
// previews pass through as they come; the completed event's image is saved here
// first (like every result the proxy gets), then passed on, and only then is the
// payment's pending record dropped. An error event passes through; the payment
// stays pending only when the gateway could not say whether it settled.

import { basename } from "node:path";
import { saveImage } from "../results.ts";

/** A streamed answer is bounded like any result: a few previews and one image, base64. */
const MAX_STREAM_BYTES = 400 * 1024 * 1024;

export interface RelayParams {
  gatewayStream: ReadableStream<Uint8Array>;
  outDir: string;
  model?: string;
  /** Where the saved image is served by the proxy, for the completed event. */
  localUrl(file: string): string;
  /** The edit's outcome is known: the pending payment can be dropped. */
  settled(): Promise<void>;
}

export function relayStream(params: RelayParams): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const reader = params.gatewayStream.getReader();
  let buffered = "";
  let received = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const end = buffered.indexOf("\n\n");
        if (end >= 0) {
          const block = buffered.slice(0, end + 2);
          buffered = buffered.slice(end + 2);
          controller.enqueue(encoder.encode(await passOn(block, params)));
          return;
        }
        const { done, value } = await reader.read();
        if (done) {
          if (buffered.trim()) controller.enqueue(encoder.encode(buffered));
          controller.close();
          return;
        }
        received += value.length;
        if (received > MAX_STREAM_BYTES) {
          await reader.cancel();
          controller.error(new Error(`the gateway's stream is over ${MAX_STREAM_BYTES} bytes`));
          return;
        }
        buffered += decoder.decode(value, { stream: true });
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** One event as the caller gets it; the completed one after its image is saved. */
async function passOn(block: string, params: RelayParams): Promise<string> {
  const event = /^event: *(.*)$/m.exec(block)?.[1]?.trim();
  if (event !== "image_edit.completed" && event !== "error") return block;
  const data = JSON.parse(block.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()).join("\n")) as {
    b64_json?: string;
    error?: { code?: string };
  };
  if (event === "error") {
    if (data.error?.code !== "settlement_unconfirmed") await params.settled();
    return block;
  }
  const path = await saveImage({ bytes: Buffer.from(data.b64_json ?? "", "base64"), outDir: params.outDir, model: params.model, private: true });
  await params.settled();
  return `event: image_edit.completed\ndata: ${JSON.stringify({ ...data, url: params.localUrl(basename(path)) })}\n\n`;
}
