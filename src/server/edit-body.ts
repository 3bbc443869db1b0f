// Reads an edit request's body, JSON or OpenAI multipart, into a RawEdit.
// Its size is bounded as it streams (streamed-limit.ts); this checks the
// content type, the shape (parts, nesting, counts) before building anything,
// then the syntax and the field types, naming the field at fault.

import type { z } from "@hono/zod-openapi";
import { DEFAULT_MODEL_ID } from "../catalog/index.ts";
import type { Quality } from "../catalog/index.ts";
import { decodeDataUri, MAX_PROMPT_CHARS, type RawEdit, type RawImage } from "../edits/index.ts";
import { invalidRequest, RetouchError } from "../errors.ts";
import { JsonBoundsScanner, type JsonBounds } from "./json-bounds.ts";
import { limitedBody } from "./streamed-limit.ts";
import { readMultipart, type MultipartForm, type MultipartLimits } from "./multipart.ts";
import { EDIT_FIELDS, ImageEditMultipart, ImageToImageJson, MAX_SOURCE_IMAGES } from "./schemas.ts";

/** Generous for the dozen fields of an edit (prompt, model, size, n, the options, and what the OpenAI SDK adds). */
const MAX_FORM_FIELDS = 32;
/** The images and the mask as files, and the text fields, together. */
const MAX_FORM_PARTS = 40;
/** UTF-8 takes at most 3 bytes per UTF-16 unit, so a prompt at its character limit fits. */
const MAX_TEXT_FIELD_BYTES = 3 * MAX_PROMPT_CHARS;
/** Fields that may carry an image as a data URI instead of a file: as large as the body allows. */
const IMAGE_FIELDS = ["image", "image[]", "mask"] as const;

/** An edit request is one object of a dozen fields, `image` the only array. */
const JSON_BOUNDS: JsonBounds = { depth: 8, arrayItems: 64, values: 1000 };

/** `maxBodyBytes` bounds the body as it streams in (413 beyond), and so any one image in it. */
export async function readEditBody(request: Request, maxBodyBytes: number): Promise<RawEdit> {
  const contentType = request.headers.get("content-type") ?? "";
  const mediaType = contentType.split(";", 1)[0].trim().toLowerCase();
  if (mediaType === "application/json") return fromJson(await readJson(limitedBody(request, maxBodyBytes)));
  if (mediaType === "multipart/form-data") {
    return fromMultipart(await readMultipart(limitedBody(request, maxBodyBytes), contentType, formLimits(maxBodyBytes)));
  }
  throw new RetouchError(
    `Content-Type must be application/json or multipart/form-data, got "${contentType.toLowerCase() || "none"}"`,
    { status: 415, type: "invalid_request_error", code: "unsupported_media_type" },
  );
}

function formLimits(maxBodyBytes: number): MultipartLimits {
  return {
    parts: MAX_FORM_PARTS,
    files: MAX_SOURCE_IMAGES + 1,
    fields: MAX_FORM_FIELDS,
    fieldBytes: MAX_TEXT_FIELD_BYTES,
    largeFields: IMAGE_FIELDS,
    largeBytes: maxBodyBytes,
  };
}

/** Decodes the body as it arrives and checks its shape piece by piece: a body far out of bounds is refused at its first piece over. */
async function readJson(body: ReadableStream<Uint8Array> | null): Promise<unknown> {
  const scanner = new JsonBoundsScanner(JSON_BOUNDS);
  const decoder = new TextDecoder();
  const pieces: string[] = [];
  const take = (piece: string) => {
    scanner.feed(piece);
    pieces.push(piece);
  };
  if (body) {
    const reader = body.getReader();
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) take(decoder.decode(read.value, { stream: true }));
    } catch (error) {
      reader.cancel().catch(() => {});
      if (error instanceof RetouchError) throw error; // over a bound or the size limit
      throw invalidRequest(null, "the request body could not be read to its end", "invalid_json");
    }
  }
  take(decoder.decode());
  try {
    return JSON.parse(pieces.join(""));
  } catch (error) {
    throw invalidRequest(null, `request body is not valid JSON: ${(error as Error).message}`, "invalid_json");
  }
}

function fromJson(json: unknown): RawEdit {
  const body = parse(ImageToImageJson, json);
  const uris = Array.isArray(body.image) ? body.image : [body.image];
  const images = uris.map((uri, i) => {
    const param = Array.isArray(body.image) ? `image[${i}]` : "image";
    return { param, bytes: decodeDataUri(uri, param).bytes };
  });
  return {
    model: body.model ?? DEFAULT_MODEL_ID,
    prompt: body.prompt,
    images,
    mask: body.mask === undefined ? undefined : { param: "mask", bytes: decodeDataUri(body.mask, "mask").bytes },
    size: body.size,
    n: body.n ?? 1,
    options: {
      quality: chosenQuality(body.quality),
      background: body.background,
      output_format: body.output_format,
      output_compression: body.output_compression,
      input_fidelity: body.input_fidelity,
    },
    responseFormat: body.response_format,
    user: body.user,
    stream: body.stream,
    partialImages: body.partial_images,
  };
}

/** "auto" is the upstream's own default: nothing is sent, and the model's size prices apply. */
function chosenQuality(quality: Quality | "auto" | undefined): Quality | undefined {
  return quality === "auto" ? undefined : quality;
}

function fromMultipart(form: MultipartForm): RawEdit {
  const text = (name: string) => {
    const value = form.get(name)?.[0];
    return typeof value === "string" ? value : undefined;
  };
  const unknown = [...form.keys()].find((name) => !MULTIPART_FIELDS.has(name));
  if (unknown !== undefined) throw unknownField(unknown);
  const body = parse(ImageEditMultipart, {
    prompt: text("prompt"),
    model: text("model"),
    size: text("size"),
    n: text("n"),
    quality: text("quality") || undefined,
    background: text("background") || undefined,
    output_format: text("output_format") || undefined,
    output_compression: text("output_compression") || undefined,
    input_fidelity: text("input_fidelity") || undefined,
    response_format: text("response_format") || undefined,
    user: text("user") || undefined,
    stream: text("stream") || undefined,
    partial_images: text("partial_images") || undefined,
  });
  const parts = [...(form.get("image") ?? []), ...(form.get("image[]") ?? [])];
  const images = parts.map((part, i) => partBytes(part, parts.length > 1 ? `image[${i}]` : "image"));
  const mask = form.get("mask")?.[0];
  return {
    model: body.model || DEFAULT_MODEL_ID,
    prompt: body.prompt,
    images,
    mask: mask === undefined ? undefined : partBytes(mask, "mask"),
    size: body.size || undefined,
    n: body.n === undefined ? 1 : Number(body.n),
    options: {
      quality: chosenQuality(body.quality),
      background: body.background,
      output_format: body.output_format,
      output_compression: body.output_compression === undefined ? undefined : Number(body.output_compression),
      input_fidelity: body.input_fidelity,
    },
    responseFormat: body.response_format,
    user: body.user,
    stream: body.stream === undefined ? undefined : body.stream === "true",
    partialImages: body.partial_images === undefined ? undefined : Number(body.partial_images),
  };
}

/** The form's field names: OpenAI's multipart sends several images as `image[]`. */
const MULTIPART_FIELDS = new Set<string>([...EDIT_FIELDS, "image[]"]);

function unknownField(name: string): RetouchError {
  return invalidRequest(name, `unknown field "${name.slice(0, 64)}"; an edit takes ${EDIT_FIELDS.join(", ")}. Remove it.`, "unknown_parameter");
}

/** A multipart image is a file part, or (for convenience) a data URI text field. */
function partBytes(part: string | Uint8Array, param: string): RawImage {
  return { param, bytes: typeof part === "string" ? decodeDataUri(part, param).bytes : part };
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidRequest(null, "request body must be a JSON object", "invalid_json");
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue.code === "unrecognized_keys") throw unknownField(issue.keys[0]);
  const param = issue.path.map((key, i) => (typeof key === "number" ? `[${key}]` : i > 0 ? `.${String(key)}` : String(key))).join("");
  const message = issue.message.includes(param.replace(/\[\d+\]$/, "")) ? issue.message : `${param}: ${issue.message}`;
  throw invalidRequest(param || null, message);
}
