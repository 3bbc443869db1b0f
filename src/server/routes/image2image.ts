// POST /api/v1/images/image2image and its OpenAI-compatible alias
// POST /v1/images/edits: validate, run, answer with URLs.

import { z } from "@hono/zod-openapi";
import type { App, ServerDeps } from "../context.ts";
import { clientOf } from "../client-address.ts";
import { inResponseFormat, OPENAI_EDIT_PATH, responseFormatFor } from "../answer-format.ts";
import { readEditBody } from "../edit-body.ts";
import { streamEdit, streamPaidEdit } from "../edit-stream.ts";
import {
  ErrorBody,
  ImageEditMultipart,
  ImageToImageJson,
  ImageToImageResult,
  JobEnvelope,
  PaymentRequiredBody,
} from "../schemas.ts";

export const EDIT_PATHS = ["/api/v1/images/image2image", OPENAI_EDIT_PATH] as const;

/** x402 v2 and v1: a request with either is a payment, not a quote (a bad one is refused on its own). */
const PAYMENT_HEADERS = ["payment-signature", "x-payment"];

export function registerImageToImage(app: App, deps: ServerDeps): void {
  for (const path of EDIT_PATHS) {
    app.openAPIRegistry.registerPath({
      method: "post",
      path,
      summary: path === EDIT_PATHS[0] ? "Edit an image (the seed's endpoint)" : "Edit an image (OpenAI-compatible)",
      request: {
        body: {
          required: true,
          content: {
            "application/json": { schema: ImageToImageJson },
            "multipart/form-data": { schema: ImageEditMultipart },
          },
        },
      },
      responses: {
        200: {
          description: "The edited images; with stream: true, server-sent events as OpenAI's (image_edit.partial_image, image_edit.completed, error)",
          content: { "application/json": { schema: ImageToImageResult }, "text/event-stream": { schema: z.string() } },
        },
        202: { description: "Paid and running: poll poll_url (slow edits)", content: { "application/json": { schema: JobEnvelope } } },
        400: { description: "Invalid request; message names the field", content: { "application/json": { schema: ErrorBody } } },
        402: { description: "Payment required or refused (x402: PAYMENT-REQUIRED header, v1 body)", content: { "application/json": { schema: PaymentRequiredBody } } },
        413: { description: "Body over the size limit, or a multipart body with more parts than an edit has", content: { "application/json": { schema: ErrorBody } } },
        415: { description: "Content-Type is not JSON or multipart", content: { "application/json": { schema: ErrorBody } } },
        429: {
          description: "Too many unpaid requests from this address, or too many paid edits at once from this payer (Retry-After)",
          content: { "application/json": { schema: ErrorBody } },
        },
        500: { description: "Server error (with a request id)", content: { "application/json": { schema: ErrorBody } } },
        504: { description: "The edit ran past its time budget; not charged", content: { "application/json": { schema: ErrorBody } } },
      },
    });

    app.post(path, async (c) => {
      // Unpaid requests (quotes) are counted per client before the body is read, so a flood costs little.
      if (!PAYMENT_HEADERS.some((name) => c.req.header(name))) await deps.limits.quote(clientOf(c, deps.config.trustProxy));
      const raw = await readEditBody(c.req.raw, deps.config.maxBodyBytes);
      // OpenAI's route reads a mask with transparency as OpenAI does (transparent = edit).
      const request = await deps.edits.prepare({ ...raw, maskPolarity: path === OPENAI_EDIT_PATH ? "openai" : "white" });
      const format = responseFormatFor(request.responseFormat, path, request.model);
      if (request.stream) {
        if (deps.paidEdits) return streamPaidEdit(c, request, deps, `${deps.config.publicUrl}${path}`);
        return streamEdit(c, request, deps, (onPartial) => deps.runner.run(request, onPartial));
      }
      if (!deps.paidEdits) return c.json(await inResponseFormat((await deps.runner.run(request)).result, format, deps.blobs), 200);
      // The request's signal aborts when the client disconnects: a completed edit is then not settled.
      const reply = await deps.paidEdits.handle(request, c.req.raw.headers, `${deps.config.publicUrl}${path}`, c.req.raw.signal);
      return c.json(await inResponseFormat(reply.body, format, deps.blobs), reply.status, reply.headers);
    });
  }
}
