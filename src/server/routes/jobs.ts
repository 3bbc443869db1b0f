// GET /api/v1/images/jobs/{id}: poll a paid edit that outlived the inline
// window. The poll carries a payment header from the wallet that paid; the
// first poll that sees the edit complete settles it.

import { z } from "@hono/zod-openapi";
import type { App, ServerDeps } from "../context.ts";
import { notFound } from "../errors.ts";
import { ErrorBody, ImageToImageResult, JobEnvelope, PaymentRequiredBody } from "../schemas.ts";

export function registerJobs(app: App, deps: ServerDeps): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/v1/images/jobs/{id}",
    summary: "Poll a slow paid edit (with a payment header from the same wallet)",
    request: { params: z.object({ id: z.string() }) },
    responses: {
      200: {
        description: "Done (settled now or before), or failed and not charged",
        content: { "application/json": { schema: z.union([ImageToImageResult, JobEnvelope]) } },
      },
      202: { description: "Still running", content: { "application/json": { schema: JobEnvelope } } },
      402: { description: "Payment header needed (proves the wallet)", content: { "application/json": { schema: PaymentRequiredBody } } },
      403: { description: "Another wallet paid for this job", content: { "application/json": { schema: ErrorBody } } },
      404: { description: "No such job", content: { "application/json": { schema: ErrorBody } } },
    },
  });

  app.get("/api/v1/images/jobs/:id", async (c) => {
    const id = c.req.param("id");
    if (!deps.paidEdits || !/^job_[A-Za-z0-9_-]{22}$/.test(id)) return notFound(c);
    const reply = await deps.paidEdits.poll(id, c.req.raw.headers, `${deps.config.publicUrl}/api/v1/images/jobs/${id}`);
    return c.json(reply.body, reply.status, reply.headers);
  });
}
