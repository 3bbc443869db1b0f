// What an edit request is, as one hash: a payment replayed with the same
// request gets the stored result; with another request, a refusal.

import { createHash } from "node:crypto";
import type { EditRequest } from "../edits/index.ts";

export function requestFingerprint(request: EditRequest): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([request.model.id, request.size, request.n, request.prompt, request.options]));
  for (const image of request.images) hash.update(createHash("sha256").update(image.bytes).digest());
  if (request.mask) hash.update(createHash("sha256").update(request.mask.grey).digest());
  return hash.digest("hex");
}
