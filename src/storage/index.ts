// Storage ports and their adapters (embedded: filesystem).
export { createFilesystemBlobStore } from "./blobs/filesystem.ts";
export { BLOB_KEY, type BlobStore, type StoredBlob } from "./blobs/types.ts";
