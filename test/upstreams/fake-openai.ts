// A stand-in for OpenAI's POST /v1/images/edits that speaks its wire format:
// multipart/form-data in, `{created, data:[{b64_json}], usage}` or the
// `{error:{message,type,param,code}}` envelope out. Like the real API it refuses
// a missing key, unknown parameters, files typed application/octet-stream and
// masks without alpha or of the wrong size, so a test fails if the adapter sends them.

import type { IncomingMessage, ServerResponse } from "node:http";
import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";
import { json, startFakeServer, type FakeServer, type Reply } from "./fake-server.ts";

export interface UploadedFile {
  field: string;
  name: string;
  type: string;
  bytes: Buffer;
}

export interface EditForm {
  /** Every field name in the order sent (files included). */
  fieldNames: string[];
  fields: Record<string, string>;
  files: UploadedFile[];
}

export type FakeOpenAi = FakeServer<EditForm> & { baseUrl: string };

/** The fields POST /images/edits documents for GPT image models. */
const KNOWN_FIELDS = new Set([
  "image",
  "image[]",
  "prompt",
  "mask",
  "model",
  "n",
  "size",
  "quality",
  "background",
  "input_fidelity",
  "output_format",
  "output_compression",
  "partial_images",
  "stream",
  "user",
]);

const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/webp"]);

export const USAGE = {
  input_tokens: 1_050,
  input_tokens_details: { image_tokens: 1_036, text_tokens: 14 },
  output_tokens: 4_160,
  total_tokens: 5_210,
};

export async function startFakeOpenAi(apiKey: string, result: Buffer): Promise<FakeOpenAi> {
  const fake = await startFakeServer<EditForm>({ accept: (req, body, res) => accept(req, body, res, apiKey), fallback: success([result]) });
  return Object.assign(fake, { baseUrl: `${fake.origin}/v1` });
}

/** 200 with the given images, one per requested n (cycling), as base64; streamed as OpenAI's events when asked. */
export function success(images: Buffer[], usage: object = USAGE): Reply<EditForm> {
  return (res, received) => {
    if (received.body.fields.stream === "true") return streamEvents(res, received.body.fields, images[0], usage);
    const n = Number(received.body.fields.n ?? 1);
    const data = Array.from({ length: n }, (_, i) => ({ b64_json: images[i % images.length].toString("base64") }));
    const { size } = received.body.fields;
    json(res, 200, { created: 1_760_000_000, background: "opaque", output_format: "png", quality: "medium", size, data, usage });
  };
}

/**
 * OpenAI's streamed edit: `partial_images` previews (the image at a quarter of its size), then the
 * completed event, each as `event: <type>` + `data: <json>`.
 */
export async function streamEvents(res: ServerResponse, fields: Record<string, string>, image: Buffer, usage: object): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream" });
  const common = { background: "opaque", output_format: "png", quality: "medium", size: fields.size ?? "1024x1024", created_at: 1_760_000_000 };
  const { width } = await sharp(image).metadata();
  const preview = await sharp(image).resize(Math.max(1, Math.round(width! / 4))).png().toBuffer();
  for (let i = 0; i < Number(fields.partial_images ?? 0); i++) {
    const event = { type: "image_edit.partial_image", b64_json: preview.toString("base64"), partial_image_index: i, ...common };
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }
  const done = { type: "image_edit.completed", b64_json: image.toString("base64"), usage, ...common };
  res.end(`event: ${done.type}\ndata: ${JSON.stringify(done)}\n\n`);
}

/** 200 with solid pictures of the size asked for (1024x1024 when none), one per n. */
export function sizedSuccess(usage: object = USAGE): Reply<EditForm> {
  return async (res, received) => {
    const n = Number(received.body.fields.n ?? 1);
    const size = received.body.fields.size ?? "1024x1024";
    const [width, height] = size.split("x").map(Number);
    const format = (received.body.fields.output_format ?? "png") as "png" | "jpeg" | "webp";
    const image = await sharp({ create: { width, height, channels: 3, background: "#48c" } }).toFormat(format).toBuffer();
    if (received.body.fields.stream === "true") return streamEvents(res, received.body.fields, image, usage);
    const data = Array.from({ length: n }, () => ({ b64_json: image.toString("base64") }));
    json(res, 200, { created: 1_760_000_000, output_format: format, quality: received.body.fields.quality ?? "medium", size, data, usage });
  };
}

/** 200 with exactly these images, however many were asked for. */
/**
 * A success the test holds back: `arrived` resolves when the request reaches the upstream, and the
 * answer goes out only when the test calls `letGo` (an edit that runs as long as the test needs).
 */
export function heldSuccess(images: Buffer[]): { reply: Reply<EditForm>; arrived: Promise<void>; letGo(): void } {
  let letGo!: () => void;
  const held = new Promise<void>((resolve) => (letGo = resolve));
  let reached!: () => void;
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  const reply: Reply<EditForm> = async (res, received, req) => {
    reached();
    await held;
    await success(images)(res, received, req);
  };
  return { reply, arrived, letGo };
}

export function exactly(answer: Buffer[], usage: object = USAGE): Reply<EditForm> {
  return (res, received) => {
    const data = answer.map((image) => ({ b64_json: image.toString("base64") }));
    json(res, 200, { created: 1_760_000_000, output_format: "png", size: received.body.fields.size, data, usage });
  };
}

/** An error in OpenAI's envelope. */
export function failure(
  status: number,
  error: { message: string; type: string; code: string | null; param?: string | null },
  headers: Record<string, string> = {},
): Reply<EditForm> {
  return (res) => json(res, status, { error: { param: null, ...error } }, { "x-request-id": "req_fake", ...headers });
}

async function accept(req: IncomingMessage, body: Buffer, res: ServerResponse, apiKey: string): Promise<EditForm | undefined> {
  const refuse = (status: number, message: string, code: string | null, type = "invalid_request_error") => {
    json(res, status, { error: { message, type, param: null, code } });
    return undefined;
  };
  if (req.method !== "POST" || req.url !== "/v1/images/edits") return refuse(404, `Invalid URL (${req.method} ${req.url})`, null);
  if (req.headers.authorization !== `Bearer ${apiKey}`) {
    return refuse(401, `Incorrect API key provided: ${req.headers.authorization?.replace(/^Bearer /, "")}.`, "invalid_api_key");
  }
  const contentType = req.headers["content-type"] ?? "";
  if (!contentType.startsWith("multipart/form-data")) return refuse(400, `Unsupported content type: ${contentType}`, null);
  const form = await new Request("http://fake/", { method: "POST", headers: { "content-type": contentType }, body }).formData();

  const parsed: EditForm = { fieldNames: [], fields: {}, files: [] };
  for (const [field, value] of form.entries()) {
    parsed.fieldNames.push(field);
    if (typeof value === "string") parsed.fields[field] = value;
    else parsed.files.push({ field, name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
  }
  for (const field of parsed.fieldNames) {
    if (!KNOWN_FIELDS.has(field)) return refuse(400, `Unknown parameter: '${field}'.`, "unknown_parameter");
  }
  if (parsed.fields.model === "gpt-image-1-mini" && "input_fidelity" in parsed.fields) {
    return refuse(400, "input_fidelity is not supported for gpt-image-1-mini.", "unsupported_parameter");
  }
  if (!parsed.fields.prompt) return refuse(400, "Missing required parameter: 'prompt'.", "missing_required_parameter");
  const images = parsed.files.filter((file) => file.field === "image" || file.field === "image[]");
  if (images.length === 0) return refuse(400, "Missing required parameter: 'image'.", "missing_required_parameter");
  for (const file of [...parsed.files]) {
    if (!IMAGE_TYPES.has(file.type)) {
      const message =
        `Invalid file '${file.field}': unsupported mimetype ('${file.type}'). ` +
        "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.";
      return refuse(400, message, "invalid_image_file");
    }
  }
  const mask = parsed.files.find((file) => file.field === "mask");
  if (mask) {
    const [maskInfo, imageInfo] = await Promise.all([sharp(mask.bytes).metadata(), sharp(images[0].bytes).metadata()]);
    if (maskInfo.format !== "png" || !maskInfo.hasAlpha) {
      return refuse(400, "Invalid mask image format - mask image missing alpha channel", "invalid_mask_image_format");
    }
    if (maskInfo.width !== imageInfo.width || maskInfo.height !== imageInfo.height) {
      return refuse(400, "Invalid mask image format - mask size does not match image size", "invalid_mask_image_format");
    }
  }
  return parsed;
}

// Bogus answers, as a misbehaving upstream (or a proxy in front of one) sends them.

/** A real PNG bomb: 1-bit grey, all white; 400 megapixels in about 50 KB. */
export function pngBomb(width: number, height: number): Buffer {
  const row = Buffer.alloc(1 + Math.ceil(width / 8), 0xff);
  row[0] = 0; // filter type: none
  const rows = Buffer.alloc(row.length * height);
  for (let y = 0; y < height; y++) row.copy(rows, y * row.length);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth 1; colour type 0 (grey), deflate, no interlace
  return Buffer.concat([PNG_SIGNATURE, pngChunk("IHDR", header), pngChunk("IDAT", deflateSync(rows, { level: 9 })), pngChunk("IEND", Buffer.alloc(0))]);
}

/** The PNG with a private ancillary chunk of `bytes` bytes after its header: still a valid PNG, as large as wanted. */
export function padPng(png: Buffer, bytes: number): Buffer {
  const afterHeader = PNG_SIGNATURE.length + 25; // IHDR: length, type, 13 bytes, CRC
  return Buffer.concat([png.subarray(0, afterHeader), pngChunk("prVt", Buffer.alloc(bytes, 0x5a)), png.subarray(afterHeader)]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
