// A streamed edit (`stream: true`), answered as OpenAI answers one: server-sent
// events `image_edit.partial_image` for each preview the provider makes, then
// `image_edit.completed` with the finished image, or an `error` event in
// OpenAI's error shape. The request was validated before the stream opens, so a
// bad request is still a plain 400; what fails after that is an error event.

import type { Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import { RetouchError } from "../errors.ts";
import type { EditRequest } from "../edits/index.ts";
import type { EditRun } from "../gateway/index.ts";
import type { PartialImage } from "../providers/index.ts";
import { inResponseFormat } from "./answer-format.ts";
import type { ServerDeps } from "./context.ts";

/** Runs `run` (which calls back with previews) and streams what it makes. */
export function streamEdit(
  c: Context,
  request: EditRequest,
  deps: Pick<ServerDeps, "blobs" | "logger">,
  run: (onPartial: (partial: PartialImage) => void) => Promise<EditRun>,
): Response {
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
      const { result } = await run(onPartial);
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
      });
    } catch (error) {
      await writing.catch(() => {});
      const failure = error instanceof RetouchError ? error : unexpected(error, c, deps);
      await send(stream, "error", { type: "error", ...(failure.toJSON() as object) });
    }
  });
}

function send(stream: SSEStreamingApi, event: string, data: object): Promise<void> {
  return stream.writeSSE({ event, data: JSON.stringify(data) });
}

function unexpected(error: unknown, c: Context, deps: Pick<ServerDeps, "logger">): RetouchError {
  const requestId = c.get("requestId") as string | undefined;
  deps.logger.error({ req_id: requestId, err: error }, "unexpected error in a streamed edit");
  return new RetouchError(`internal server error; quote request id ${requestId ?? "unknown"} when reporting it`, {
    status: 500,
    type: "server_error",
    code: "internal_error",
  });
}
