// POST /v1/images/image2image: the gateway's JSON, except that image and mask may also
// be a local path, ~/path or http(s) URL; each is loaded and checked before paying.

import type { Context } from "hono";
import { z } from "zod";
import { invalidRequest } from "../../../errors.ts";
import { loadInputImage } from "../../inputs.ts";
import { readBoundedBody } from "../body.ts";
import type { ProxyContext } from "../context.ts";
import { asRetouchError } from "../errors.ts";
import { forwardEdit } from "../forward-edit.ts";

const SeedEdit = z.looseObject({
  model: z.string().optional(),
  prompt: z.string(),
  image: z.union([z.string(), z.array(z.string()).min(1)]),
  mask: z.string().optional(),
  size: z.string().optional(),
  n: z.number().int().optional(),
});

/** A path, URL or data URI, loaded and checked; a bad one is a 400 naming `param`. */
export async function resolvePicture(spec: string, param: string): Promise<string> {
  try {
    return (await loadInputImage(spec)).dataUri;
  } catch (error) {
    throw asRetouchError(error, param);
  }
}

export function image2image(ctx: ProxyContext) {
  return async (c: Context): Promise<Response> => {
    const bytes = await readBoundedBody(c.req.raw, ctx.settings.maxBodyBytes);
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(bytes).toString("utf8"));
    } catch {
      throw invalidRequest(null, "the body is not JSON; send {model, prompt, image, mask, size, n}");
    }
    const parsed = SeedEdit.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalidRequest(issue.path.join(".") || null, `${issue.path.join(".") || "body"}: ${issue.message}`);
    }
    // Fields other than the pictures go as sent: the gateway honours them or refuses them by name.
    const { image, mask, ...fields } = parsed.data;
    const images = await Promise.all((Array.isArray(image) ? image : [image]).map((spec, i) => resolvePicture(spec, Array.isArray(image) ? `image[${i}]` : "image")));
    return forwardEdit(ctx, {
      ...fields,
      image: Array.isArray(image) ? images : images[0],
      ...(mask ? { mask: await resolvePicture(mask, "mask") } : {}),
    });
  };
}
