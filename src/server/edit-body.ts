// Reads an edit request's body, JSON or OpenAI multipart, into a RawEdit.
// The body-limit middleware has already bounded its size; this checks the
// content type, the syntax and the field types, naming the field at fault.

import type { z } from "@hono/zod-openapi";
import { DEFAULT_MODEL_ID } from "../catalog/index.ts";
import { decodeDataUri, type RawEdit, type RawImage } from "../edits/index.ts";
import { invalidRequest, RetouchError } from "../errors.ts";
import { ImageEditMultipart, ImageToImageJson } from "./schemas.ts";

export async function readEditBody(request: Request): Promise<RawEdit> {
  const contentType = (request.headers.get("content-type") ?? "").toLowerCase();
  if (contentType.startsWith("application/json")) return fromJson(await readJson(request));
  if (contentType.startsWith("multipart/form-data")) return fromMultipart(await readForm(request));
  throw new RetouchError(
    `Content-Type must be application/json or multipart/form-data, got "${contentType || "none"}"`,
    { status: 415, type: "invalid_request_error", code: "unsupported_media_type" },
  );
}

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidRequest(null, `request body is not valid JSON: ${(error as Error).message}`, "invalid_json");
  }
}

async function readForm(request: Request): Promise<FormData> {
  try {
    return await request.formData();
  } catch {
    throw invalidRequest(null, "request body is not a valid multipart/form-data body", "invalid_multipart");
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
      quality: body.quality,
      background: body.background,
      output_format: body.output_format,
      output_compression: body.output_compression,
      input_fidelity: body.input_fidelity,
    },
  };
}

async function fromMultipart(form: FormData): Promise<RawEdit> {
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === "string" ? value : undefined;
  };
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
  });
  const parts = [...form.getAll("image"), ...form.getAll("image[]")];
  const images: RawImage[] = [];
  for (const [i, part] of parts.entries()) {
    images.push(await partBytes(part, parts.length > 1 ? `image[${i}]` : "image"));
  }
  const mask = form.get("mask");
  return {
    model: body.model || DEFAULT_MODEL_ID,
    prompt: body.prompt,
    images,
    mask: mask === null ? undefined : await partBytes(mask, "mask"),
    size: body.size || undefined,
    n: body.n === undefined ? 1 : Number(body.n),
    options: {
      quality: body.quality,
      background: body.background,
      output_format: body.output_format,
      output_compression: body.output_compression === undefined ? undefined : Number(body.output_compression),
      input_fidelity: body.input_fidelity,
    },
  };
}

/** A multipart image is a file part, or (for convenience) a data URI text field. */
async function partBytes(part: File | string, param: string): Promise<RawImage> {
  if (typeof part === "string") return { param, bytes: decodeDataUri(part, param).bytes };
  return { param, bytes: new Uint8Array(await part.arrayBuffer()) };
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidRequest(null, "request body must be a JSON object", "invalid_json");
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue.path.map((key, i) => (typeof key === "number" ? `[${key}]` : i > 0 ? `.${String(key)}` : String(key))).join("");
  const message = issue.message.includes(param.replace(/\[\d+\]$/, "")) ? issue.message : `${param}: ${issue.message}`;
  throw invalidRequest(param || null, message);
}
