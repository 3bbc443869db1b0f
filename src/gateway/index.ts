// The gateway's use cases.
export { createEditService, type EditResult, type EditRun, type EditService, type EditServiceOptions } from "./edit-service.ts";
export { createPaidEdits, type PaidEdits, type Reply, type Settlement, type SettlementCheckpoint } from "./paid-edits.ts";
export { startSettlementSweep, type SettlementSweep, type SweepReport } from "./settlement-sweep.ts";
export { clientAddress, createLimits, type LimitKind, type Limits } from "./limits.ts";
export { editProcessor, localRunner, queuedRunner, queueWaitMs, type EditRunner } from "./edit-jobs.ts";
