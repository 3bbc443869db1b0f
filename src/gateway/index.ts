// The gateway's use cases.
export { createEditService, type EditResult, type EditRun, type EditService, type EditServiceOptions } from "./edit-service.ts";
export { createPaidEdits, type PaidEdits, type Reply } from "./paid-edits.ts";
