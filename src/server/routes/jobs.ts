// GET /api/v1/images/jobs/{id}: poll a paid edit that outlived the inline
// window. The poll proves the wallet that paid with a SIGN-IN-WITH-X header
// (or, deprecated, a payment header from it, never settled); the first poll
// that sees the edit complete settles the original payment.

import { z } from "@hono/zod-openapi";
import type { App, ServerDeps } from "../context.ts";
import { RESPONSE_FORMATS } from "../../edits/index.ts";
import { invalidRequest } from "../../errors.ts";
import { inResponseFormat } from "../answer-format.ts";
import { notFound } from "../errors.ts";
import { ErrorBody, ImageToImageResult, JobEnvelope, PaymentRequiredBody } from "../schemas.ts";

export function registerJobs(app: App, deps: ServerDeps): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/v1/images/jobs/{id}",
    summary: "Poll a slow paid edit (signed in with the wallet that paid)",
    description:
      "Send SIGN-IN-WITH-X: base64 of the JSON proof of x402's sign-in-with-x extension, signed by the wallet that paid " +
      "(SIWE on Base, SIWS on Solana) over the challenge of the job's latest 202 or 402; each challenge works once, for 5 minutes. " +
      "Deprecated: a payment header (PAYMENT-SIGNATURE or X-PAYMENT) from that wallet, verified and never settled.",
    request: {
      params: z.object({ id: z.string() }),
      query: z.object({
        response_format: z.enum(RESPONSE_FORMATS).optional().openapi({ description: "b64_json: the finished images in the answer instead of links (default url)" }),
      }),
      headers: z.object({ "SIGN-IN-WITH-X": z.string().optional().openapi({ description: "The signed sign-in challenge (base64 JSON)" }) }),
    },
    responses: {
      200: {
        description: "Done (settled now or before), or failed and not charged",
        content: { "application/json": { schema: z.union([ImageToImageResult, JobEnvelope]) } },
      },
      202: {
        description: "Still running; carries a fresh sign-in challenge for the next poll (body and PAYMENT-REQUIRED header, no payment asked)",
        content: { "application/json": { schema: JobEnvelope } },
      },
      400: { description: "SIGN-IN-WITH-X is not a sign-in proof", content: { "application/json": { schema: ErrorBody } } },
      402: {
        description: "Sign-in needed: the challenge is in extensions[\"sign-in-with-x\"] (PAYMENT-REQUIRED header and body)",
        content: { "application/json": { schema: PaymentRequiredBody } },
      },
      403: {
        description: "Another wallet (wrong_wallet), or a sign-in that was replayed, expired, or made for another job or origin (the code says which)",
        content: { "application/json": { schema: ErrorBody } },
      },
      404: { description: "No such job", content: { "application/json": { schema: ErrorBody } } },
    },
  });

  app.get("/api/v1/images/jobs/:id", async (c) => {
    const id = c.req.param("id");
    if (!deps.paidEdits || !/^job_[A-Za-z0-9_-]{22}$/.test(id)) return notFound(c);
    const format = c.req.query("response_format") ?? "url";
    if (format !== "url" && format !== "b64_json") throw invalidRequest("response_format", "response_format must be url or b64_json");
    const reply = await deps.paidEdits.poll(id, c.req.raw.headers, `${deps.config.publicUrl}/api/v1/images/jobs/${id}`);
    return c.json(await inResponseFormat(reply.body, format, deps.blobs), reply.status, reply.headers);
  });
}
