// A streamed edit (`stream: true`), answered as OpenAI answers one: server-sent
// events `image_edit.partial_image` for each preview the provider makes, then
// `image_edit.completed` with the finished image, or an `error` event in
// OpenAI's error shape. The request was validated before the stream opens, so a
// bad request is still a plain 400; a paid one is verified (402 otherwise)
// before it opens too. What fails after that is an error event: the edit
// (not charged), or the settlement (not charged, the image withheld). A paid
// stream's `completed` event is written only after its payment settled, and
// carries the payment (the PAYMENT-RESPONSE header went out with the stream's
// start, before there was one).

import type { Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import { RetouchError } from "../errors.ts";
import type { EditRequest } from "../edits/index.ts";
import type { EditResult, Reply } from "../gateway/index.ts";
import type { PartialImage } from "../providers/index.ts";
import { inResponseFormat } from "./answer-format.ts";
import type { ServerDeps } from "./context.ts";

type StreamDeps = Pick<ServerDeps, "blobs" | "logger">;

/** A free edit, streamed: `run` calls back with previews and resolves with the result. */
export function streamEdit(c: Context, request: EditRequest, deps: StreamDeps, run: (onPartial: (partial: PartialImage) => void) => Promise<{ result: EditResult }>): Response {
  return openStream(c, request, deps, (onPartial) => run(onPartial).then(({ result }) => result));
}

/**
 * A paid edit, streamed. The payment is read, verified and claimed first: any refusal before the
 * edit starts is answered as usual (402, 429 ...), not as a stream. A replay of a payment already
 * settled gets its stored result as a stream of one event.
 */
export async function streamPaidEdit(c: Context, request: EditRequest, deps: StreamDeps & Pick<ServerDeps, "paidEdits" | "config">, resourceUrl: string): Promise<Response> {
  const early: PartialImage[] = [];
  let relay: ((partial: PartialImage) => void) | undefined;
  let started!: () => void;
  const running = new Promise<"running">((resolve) => (started = () => resolve("running")));
  const answer = deps.paidEdits!.handle(request, c.req.raw.headers, resourceUrl, c.req.raw.signal, {
    onStarted: started,
    onPartial: (partial) => (relay ? relay(partial) : early.push(partial)),
    // The whole budget, and the settlement's: a stream has no 202.
    windowMs: deps.config.upstreamTimeoutMs + deps.config.payments.settleTimeoutMs + 5_000,
  });
  const first = await Promise.race([running, answer.then(() => "answered" as const, () => "answered" as const)]);
  if (first === "answered") {
    const reply = await answer; // a refusal throws here: answered as JSON by the app's error handler
    if (reply.status !== 200) return c.json(reply.body as object, reply.status, reply.headers);
  }
  return openStream(c, request, deps, async (onPartial) => {
    for (const partial of early) onPartial(partial);
    relay = onPartial;
    const reply = await answer;
    if (reply.status !== 200) throw stillRunning(reply);
    return reply.body as EditResult;
  });
}

function openStream(c: Context, request: EditRequest, deps: StreamDeps, finish: (onPartial: (partial: PartialImage) => void) => Promise<EditResult & { payment?: unknown }>): Response {
  return streamSSE(c, async (stream) => {
    const settings = {
      size: request.size,
      quality: request.options.quality ?? "auto",
      background: request.options.background ?? "auto",
      output_format: request.options.output_format ?? "png",
    };
    // Previews are written in order; one still being written when the next comes is not overtaken.
    let writing = Promise.resolve();
    const onPartial = ({ image, index }: PartialImage) => {
      const event = {
        type: "image_edit.partial_image",
        b64_json: Buffer.from(image.bytes).toString("base64"),
        partial_image_index: index,
        created_at: Math.floor(Date.now() / 1000),
        ...settings,
        output_format: image.format,
      };
      writing = writing.then(() => send(stream, event.type, event));
    };
    try {
      const result = await finish(onPartial);
      await writing;
      const answer = (await inResponseFormat(result, "b64_json", deps.blobs)) as { data: { b64_json: string }[] };
      await send(stream, "image_edit.completed", {
        type: "image_edit.completed",
        b64_json: answer.data[0].b64_json,
        created_at: result.created,
        size: result.size ?? settings.size,
        quality: result.quality ?? settings.quality,
        background: result.background ?? settings.background,
        output_format: result.output_format ?? settings.output_format,
        ...(result.usage ? { usage: result.usage } : {}),
        price: result.price,
        ...(result.payment ? { payment: result.payment } : {}),
      });
    } catch (error) {
      await writing.catch(() => {});
      const failure = error instanceof RetouchError ? error : unexpected(error, c, deps);
      // Always OpenAI's envelope: a refused settlement's own body is x402's, which the SDK cannot read.
      const { message, type, param, code } = failure;
      await send(stream, "error", { type: "error", error: { message, type, param, code } });
    }
  });
}

function send(stream: SSEStreamingApi, event: string, data: object): Promise<void> {
  return stream.writeSSE({ event, data: JSON.stringify(data) });
}

/** Past the whole budget and the job still runs (a lost worker): the stream ends, the job can be polled. */
function stillRunning(reply: Reply): RetouchError {
  const pollUrl = (reply.body as { poll_url?: string }).poll_url;
  return new RetouchError(`the edit is still running past its time budget; nothing was charged yet. Poll ${pollUrl} for its outcome.`, {
    status: 504,
    type: "server_error",
    code: "edit_still_running",
  });
}

function unexpected(error: unknown, c: Context, deps: StreamDeps): RetouchError {
  const requestId = c.get("requestId") as string | undefined;
  deps.logger.error({ req_id: requestId, err: error }, "unexpected error in a streamed edit");
  return new RetouchError(`internal server error; quote request id ${requestId ?? "unknown"} when reporting it`, {
    status: 500,
    type: "server_error",
    code: "internal_error",
  });
}
