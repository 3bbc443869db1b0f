// The optional upstream fields a caller may set (quality, background, output
// format and compression, input fidelity): checked against what the model
// takes before any money moves.

import type { ModelEntry, Quality } from "../catalog/index.ts";
import { invalidRequest } from "../errors.ts";

export const QUALITIES = ["low", "medium", "high"] as const;
export const BACKGROUNDS = ["transparent", "opaque", "auto"] as const;
export const OUTPUT_FORMATS = ["png", "jpeg", "webp"] as const;
export const INPUT_FIDELITIES = ["high", "low"] as const;
/** url: a link to the stored result; b64_json: the image itself in the answer. */
export const RESPONSE_FORMATS = ["url", "b64_json"] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];
/** OpenAI's `user` (an end-user id for abuse monitoring): bounded, it is only an id. */
export const MAX_USER_CHARS = 256;

export interface EditOptions {
  quality?: Quality;
  background?: (typeof BACKGROUNDS)[number];
  output_format?: (typeof OUTPUT_FORMATS)[number];
  output_compression?: number;
  input_fidelity?: (typeof INPUT_FIDELITIES)[number];
}

export function checkOptions(options: EditOptions, model: ModelEntry): void {
  const given = (Object.keys(options) as (keyof EditOptions)[]).filter((name) => options[name] !== undefined);
  for (const name of given) {
    if (!model.options?.includes(name)) {
      const takes = model.options?.length ? `; it takes ${model.options.join(", ")}` : "";
      throw invalidRequest(name, `${model.id} does not take ${name}${takes}. Remove ${name}.`, "unsupported_parameter");
    }
  }
  if (options.quality && !model.qualityCosts?.[options.quality]) {
    const priced = Object.keys(model.qualityCosts ?? {});
    throw invalidRequest("quality", `quality "${options.quality}" has no price for ${model.id}; choose one of ${priced.join(", ") || "(none)"}`);
  }
  const format = options.output_format ?? "png";
  if (options.output_compression !== undefined && format === "png") {
    throw invalidRequest("output_compression", "output_compression applies to output_format jpeg or webp only");
  }
  if (options.background === "transparent" && model.transparentBackground === false) {
    throw invalidRequest("background", `${model.id} does not make transparent backgrounds; use opaque or auto`);
  }
  if (options.background === "transparent" && format === "jpeg") {
    throw invalidRequest("background", "a transparent background needs output_format png or webp, not jpeg");
  }
}
