// Stands for an upstream whose credentials this server lacks, so the catalog
// lists it as unavailable and requests for it get a 400 saying how to enable it.

import { RetouchError } from "../errors.ts";
import type { Provider } from "./types.ts";

export function unconfiguredProvider(name: string, reason: string): Provider {
  return {
    name,
    unavailableReason: () => reason,
    edit: () => Promise.reject(new RetouchError(reason, { status: 400, type: "invalid_request_error", code: "model_not_available", param: "model" })),
  };
}
