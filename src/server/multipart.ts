// Reads a multipart/form-data body while it streams in (busboy), holding the
// form to its limits as it goes: the first part over a limit stops the reading.

import type { Writable } from "node:stream";
import busboy from "busboy";
import { invalidRequest, RetouchError } from "../errors.ts";

export interface MultipartLimits {
  /** Parts of any kind, files and text fields together. */
  parts: number;
  files: number;
  /** Text fields. */
  fields: number;
  /** Bytes of a text field. */
  fieldBytes: number;
  /** Text fields that may be as large as a file: images sent as data URIs. */
  largeFields: readonly string[];
  /** Bytes of a file, or of a text field named in `largeFields`. */
  largeBytes: number;
}

/** What FormData.getAll would give for each name, in order; a file is its bytes. */
export type MultipartForm = ReadonlyMap<string, readonly (string | Uint8Array)[]>;

/**
 * The parser gets the body this much at a time, so that a limit reached early in
 * a large chunk (a body-limit middleware may hand over the whole body as one)
 * leaves the rest of it unparsed.
 */
const SLICE_BYTES = 64 * 1024;

/**
 * Parses `body`; a part over `limits` is a 413 naming the limit, a body that is
 * not multipart (no boundary, cut short, bad part headers) a 400 `invalid_multipart`.
 *
 * @example
 * const form = await readMultipart(request.body, request.headers.get("content-type")!, limits);
 * const prompt = form.get("prompt")?.[0];
 */
export async function readMultipart(
  body: ReadableStream<Uint8Array> | null,
  contentType: string,
  limits: MultipartLimits,
): Promise<MultipartForm> {
  const parser = createParser(contentType, limits);
  const parts: { name: string; value: string | Buffer[] }[] = [];
  let failure: RetouchError | undefined;
  const fail = (error: RetouchError) => (failure ??= error);

  parser.on("error", (error: Error) => fail(malformed(error.message)));
  // busboy's partsLimit fires when the count reaches the limit; it is given limits.parts + 1.
  parser.on("partsLimit", () => fail(tooMany("parts", `more than ${limits.parts} parts`, limits)));
  parser.on("filesLimit", () => fail(tooMany("files", `more than ${limits.files} file parts`, limits)));
  parser.on("fieldsLimit", () => fail(tooMany("fields", `more than ${limits.fields} text fields`, limits)));
  parser.on("field", (name, value, info) => {
    const max = limits.largeFields.includes(name) ? limits.largeBytes : limits.fieldBytes;
    if (info.valueTruncated || Buffer.byteLength(value) > max) fail(tooLarge(name, max, "text field"));
    else parts.push({ name, value });
  });
  parser.on("file", (name, stream) => {
    const chunks: Buffer[] = [];
    parts.push({ name, value: chunks });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("limit", () => fail(tooLarge(name, limits.largeBytes, "file")));
    stream.on("error", (error: Error) => fail(malformed(error.message))); // a file cut short
  });

  const reader = (body ?? new Blob([]).stream()).getReader();
  try {
    while (!failure) {
      const read = await nextChunk(reader);
      if (read.done) break;
      for (let at = 0; at < read.value.length && !failure; at += SLICE_BYTES) {
        if (!parser.write(read.value.subarray(at, at + SLICE_BYTES))) await settled(parser, "drain");
      }
    }
    if (!failure) {
      parser.end();
      await settled(parser, "finish"); // every file part has ended by then
    }
  } catch (error) {
    fail(error instanceof RetouchError ? error : malformed((error as Error).message));
  }
  if (failure) {
    parser.destroy();
    // Whatever is left is not read; the HTTP server drains or closes the connection after the answer.
    reader.cancel().catch(() => {});
    throw failure;
  }
  reader.releaseLock();

  const form = new Map<string, (string | Uint8Array)[]>();
  for (const { name, value } of parts) {
    const values = form.get(name) ?? [];
    values.push(typeof value === "string" ? value : joined(value));
    form.set(name, values);
  }
  return form;
}

/**
 * A file part's chunks copied once into an array of its own: not a view of node's shared pool of
 * small buffers, and one copy of an upload rather than two (Buffer.concat, then a copy out of it).
 */
function joined(chunks: readonly Buffer[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

function createParser(contentType: string, limits: MultipartLimits): busboy.Busboy {
  try {
    return busboy({
      headers: { "content-type": contentType },
      // Part headers need no limit here: busboy caps each part's at 16 KiB, and there are few parts.
      limits: {
        parts: limits.parts + 1,
        files: limits.files,
        fields: limits.fields,
        fieldSize: limits.largeBytes,
        fileSize: limits.largeBytes,
      },
    });
  } catch (error) {
    const message = (error as Error).message;
    throw /boundary/i.test(message)
      ? invalidRequest(null, 'a multipart/form-data body needs a boundary: Content-Type: multipart/form-data; boundary=...', "invalid_multipart")
      : malformed(message);
  }
}

async function nextChunk(reader: ReadableStreamDefaultReader<Uint8Array>) {
  try {
    return await reader.read();
  } catch (error) {
    if (error instanceof RetouchError) throw error; // the size limit, crossed while streaming
    throw malformed(`the body could not be read to its end (${(error as Error).message})`);
  }
}

/** Resolves on `event`, or when the parser closes instead (destroyed by an error, which "error" records). */
function settled(parser: Writable, event: "drain" | "finish"): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      parser.off(event, done);
      parser.off("close", done);
      resolve();
    };
    parser.once(event, done);
    parser.once("close", done);
  });
}

function malformed(reason: string): RetouchError {
  return invalidRequest(null, `request body is not a valid multipart/form-data body: ${reason}`, "invalid_multipart");
}

function tooMany(what: "parts" | "files" | "fields", found: string, limits: MultipartLimits): RetouchError {
  return new RetouchError(
    `multipart body has ${found}; this endpoint takes at most ${limits.files} files and ${limits.fields} text fields, ${limits.parts} parts in all`,
    { status: 413, type: "invalid_request_error", code: `too_many_${what}` },
  );
}

function tooLarge(name: string, max: number, kind: "text field" | "file"): RetouchError {
  return new RetouchError(`${name} is over ${max} bytes, the limit for a ${kind} of this form`, {
    status: 413,
    type: "invalid_request_error",
    code: kind === "file" ? "file_too_large" : "field_too_large",
    param: name,
  });
}
