// POST /v1/images/edits: OpenAI's multipart edit (image / image[] files, mask, prompt,
// model, size, n, and OpenAI's other fields), turned into the gateway's JSON so the
// OpenAI SDK works unmodified. Every text field goes to the gateway, which honours it or
// refuses it by name; gpt-image models answer b64_json unless asked for url, as OpenAI does.

import type { Context } from "hono";
import { invalidRequest } from "../../../errors.ts";
import { readBoundedBody } from "../body.ts";
import type { ProxyContext } from "../context.ts";
import { forwardEdit, openAiDefaultFormat } from "../forward-edit.ts";

/** The gateway's OpenAI route: masks there are read as OpenAI reads them. */
const OPENAI_EDIT_PATH = "/v1/images/edits";
import { resolvePicture } from "./image2image.ts";

export function edits(ctx: ProxyContext) {
  return async (c: Context): Promise<Response> => {
    const type = c.req.header("content-type") ?? "";
    if (!type.startsWith("multipart/form-data")) throw invalidRequest(null, "send multipart/form-data (as the OpenAI SDK's images.edit does)");
    const bytes = await readBoundedBody(c.req.raw, ctx.settings.maxBodyBytes);
    let form: FormData;
    try {
      form = await new Request("http://proxy.local/", { method: "POST", headers: { "content-type": type }, body: bytes }).formData();
    } catch {
      throw invalidRequest(null, "the multipart body cannot be read");
    }
    const files = [...form.getAll("image"), ...form.getAll("image[]")];
    if (files.length === 0) throw invalidRequest("image", "image is required: one or more picture files");
    const prompt = text(form, "prompt");
    if (!prompt) throw invalidRequest("prompt", "prompt is required: say what to change");
    const images = await Promise.all(files.map((file, i) => upload(file, files.length === 1 ? "image" : `image[${i}]`)));
    const mask = form.get("mask");
    const model = text(form, "model");
    const fields: Record<string, unknown> = {};
    for (const [name, value] of form.entries()) {
      if (FILE_FIELDS.has(name) || name === "prompt") continue;
      if (typeof value !== "string") throw invalidRequest(name, `${name} must be a text field, not a file`);
      const given = value.trim();
      if (given === "") continue;
      fields[name] = NUMBER_FIELDS.has(name) && /^\d+$/.test(given) ? Number(given) : name === "stream" && /^(true|false)$/.test(given) ? given === "true" : given;
    }
    if (fields.n !== undefined && typeof fields.n !== "number") throw invalidRequest("n", `n must be a whole number, got "${String(fields.n)}"`);
    return forwardEdit(ctx, {
      response_format: openAiDefaultFormat(model),
      ...fields,
      prompt,
      image: images.length === 1 ? images[0] : images,
      ...(mask !== null ? { mask: await upload(mask, "mask") } : {}),
    }, OPENAI_EDIT_PATH);
  };
}

const FILE_FIELDS = new Set(["image", "image[]", "mask"]);
/** OpenAI's whole-number fields, sent as text in a form and as numbers in the gateway's JSON. */
const NUMBER_FIELDS = new Set(["n", "output_compression", "partial_images"]);

function text(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}

/** A file field as a checked data URI; its content decides the format, not its name or type. */
async function upload(value: File | string, param: string): Promise<string> {
  if (typeof value === "string") {
    throw invalidRequest(param, `${param} must be a file upload`);
  }
  const base64 = Buffer.from(await value.arrayBuffer()).toString("base64");
  try {
    return await resolvePicture(`data:application/octet-stream;base64,${base64}`, param);
  } catch (error) {
    const e = error as Error;
    e.message = e.message.replace(/^data:\S*\.\.\. /, `${param} file "${value.name}" `);
    throw e;
  }
}
