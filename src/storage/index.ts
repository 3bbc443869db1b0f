// Storage ports and their adapters (embedded: filesystem, PGlite; scale-out: PostgreSQL, S3).
export { createFilesystemBlobStore } from "./blobs/filesystem.ts";
export { BLOB_KEY, type BlobStore, type ScratchSpace, type StoredBlob } from "./blobs/types.ts";
export { openPglite } from "./db/pglite.ts";
export { openPostgres } from "./db/postgres.ts";
export type { Db } from "./db/types.ts";
export { GROUP_READ_MODES, PRIVATE_MODES, RESULTS_FOLDER, secureDataDir } from "./private-dir.ts";
export { JobLost, type JobAttempt, type JobQueue, type JobWorkers, type LaneCounts, type Processor, type QueueSettings } from "./queue/types.ts";
