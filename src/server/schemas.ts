// The HTTP shapes of the API as zod schemas. The same objects validate the
// requests and generate /openapi.json, so the document cannot drift.

import { z } from "@hono/zod-openapi";
import { BACKGROUNDS, INPUT_FIDELITIES, MAX_N, MAX_USER_CHARS, OUTPUT_FORMATS, QUALITIES, RESPONSE_FORMATS } from "../edits/index.ts";

const required = (field: string, what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${field} is required: ${what}` : `${field} must be ${what}`;

const oneOf = <T extends readonly [string, ...string[]]>(field: string, values: T) =>
  z.enum(values, { error: `${field} must be one of ${values.join(", ")}` });

/** The optional fields passed through to upstream models that take them (see each model's `options`). */
const optionFields = {
  quality: oneOf("quality", [...QUALITIES, "auto"] as const)
    .optional()
    .openapi({ description: "Priced per quality where the model lists it; auto (the default) lets the model choose, at the model's size prices" }),
  background: oneOf("background", BACKGROUNDS).optional(),
  output_format: oneOf("output_format", OUTPUT_FORMATS).optional(),
  input_fidelity: oneOf("input_fidelity", INPUT_FIDELITIES).optional(),
  response_format: oneOf("response_format", RESPONSE_FORMATS)
    .optional()
    .openapi({
      description:
        "url: data[].url, a link to the stored result. b64_json: data[].b64_json, the image itself (base64). " +
        "Default: b64_json for GPT Image models on /v1/images/edits (as OpenAI answers), url otherwise",
    }),
  user: z
    .string({ error: `user must be a string of at most ${MAX_USER_CHARS} characters` })
    .max(MAX_USER_CHARS, { error: `user must be at most ${MAX_USER_CHARS} characters` })
    .optional()
    .openapi({ description: "Your end-user's id, passed to OpenAI models for abuse monitoring (other models have no such field)" }),
};
const compressionError = "output_compression must be a whole number from 0 to 100";
const partialImagesError = "partial_images must be a whole number from 0 to 3";

/** The fields of an edit request. Others are refused, not dropped: a caller must learn that something it asked for is not done. */
export const EDIT_FIELDS = [
  "model",
  "prompt",
  "image",
  "mask",
  "size",
  "n",
  ...Object.keys(optionFields),
  "output_compression",
  "stream",
  "partial_images",
] as const;


/** The most source images any model takes (the catalog allows no more), in `image` or as `image[]` parts. */
export const MAX_SOURCE_IMAGES = 16;

const dataUri = z.string().openapi({
  description: "A base64 data URI of a PNG, JPEG or WebP picture",
  example: "data:image/png;base64,iVBORw0KGgo...",
});

export const ImageToImageJson = z
  .object({
    model: z
      .string({ error: "model must be a string such as \"openai/gpt-image-1\"" })
      .max(200, { error: "model must be at most 200 characters" })
      .optional()
      .openapi({ description: "Model id (see GET /api/v1/models)", example: "local/content-aware-fill" }),
    prompt: z
      .string({ error: required("prompt", "a text describing the edit") })
      .openapi({ description: "What to change (up to 32,000 characters)", example: "remove the red ball" }),
    image: z
      .union([dataUri, z.array(dataUri).min(1).max(MAX_SOURCE_IMAGES)], {
        error: required("image", "a data URI string, or an array of data URIs"),
      })
      .openapi({ description: "The picture to edit, or several where the model takes several" }),
    mask: dataUri
      .optional()
      .openapi({ description: "White = area to edit, black = keep; same aspect ratio as the image" }),
    size: z
      .string({ error: "size must be a string such as \"1024x1024\"" })
      .max(20, { error: "size must look like \"1024x1024\"" })
      .optional()
      .openapi({ description: "Output size; one of the model's sizes", example: "1024x1024" }),
    n: z
      .number({ error: `n must be a whole number from 1 to ${MAX_N}` })
      .int({ error: `n must be a whole number from 1 to ${MAX_N}` })
      .min(1, { error: `n must be a whole number from 1 to ${MAX_N}` })
      .max(MAX_N, { error: `n must be a whole number from 1 to ${MAX_N}` })
      .optional()
      .openapi({ description: "How many images to make", example: 1 }),
    ...optionFields,
    output_compression: z
      .number({ error: compressionError })
      .int({ error: compressionError })
      .min(0, { error: compressionError })
      .max(100, { error: compressionError })
      .optional(),
    stream: z
      .boolean({ error: "stream must be true or false" })
      .optional()
      .openapi({
        description:
          "true: the answer is server-sent events as OpenAI's: image_edit.partial_image previews, then image_edit.completed " +
          "(with the payment, settled before it is written) or error; n must be 1. A paid stream is verified (402) before it opens",
      }),
    partial_images: z
      .number({ error: partialImagesError })
      .int({ error: partialImagesError })
      .min(0, { error: partialImagesError })
      .max(3, { error: partialImagesError })
      .optional()
      .openapi({ description: "Partial images while streaming (with stream: true)" }),
  })
  .strict()
  .openapi("ImageToImageRequest");

const binary = z.string().openapi({ type: "string", format: "binary" });

/** OpenAI's multipart form (POST /v1/images/edits); text fields arrive as strings. */
export const ImageEditMultipart = z
  .object({
    prompt: z.string({ error: required("prompt", "a text describing the edit") }),
    model: z.string().max(200, { error: "model must be at most 200 characters" }).optional(),
    size: z.string().max(20, { error: "size must look like \"1024x1024\"" }).optional(),
    n: z
      .string()
      .regex(/^\d{1,2}$/, { error: `n must be a whole number from 1 to ${MAX_N}` })
      .optional()
      .openapi({ type: "integer" }),
    ...optionFields,
    output_compression: z
      .string()
      .regex(/^(100|\d{1,2})$/, { error: compressionError })
      .optional()
      .openapi({ type: "integer" }),
    stream: z.enum(["true", "false"], { error: "stream must be true or false" }).optional().openapi({ type: "boolean" }),
    partial_images: z.string().regex(/^[0-3]$/, { error: partialImagesError }).optional().openapi({ type: "integer" }),
    image: binary.optional().openapi({ description: "The picture to edit" }),
    "image[]": z.array(binary).optional().openapi({ description: "Several pictures, where the model takes several" }),
    mask: binary.optional().openapi({ description: "White = area to edit, black = keep" }),
  })
  .strict()
  .openapi("ImageEditMultipartRequest");

export const ErrorBody = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string(),
    }),
  })
  .openapi("Error");

export const Price = z.object({ amount: z.string().openapi({ example: "0.021" }), currency: z.literal("USD") });

export const ImageToImageResult = z
  .object({
    created: z.number().int().openapi({ example: 1764000000 }),
    data: z.array(
      z.object({
        url: z.string().url().optional().openapi({ description: "With response_format url: where the stored result is served" }),
        b64_json: z.string().optional().openapi({ description: "With response_format b64_json: the image itself, base64" }),
        revised_prompt: z.string().optional(),
      }),
    ),
    price: Price,
    size: z.string().optional().openapi({ description: "The size made", example: "1024x1024" }),
    output_format: z.enum(["png", "jpeg", "webp"]).optional(),
    quality: z.string().optional().openapi({ description: "The quality the model used, where known" }),
    background: z.string().optional().openapi({ description: "The background the model used, where known" }),
    usage: z.record(z.string(), z.unknown()).optional().openapi({ description: "The upstream's token counts, in OpenAI's shape, where it gave them" }),
    payment: z
      .object({
        status: z.enum(["settled", "already_settled"]),
        tx_hash: z.string(),
        network: z.string().openapi({ example: "eip155:8453" }),
      })
      .optional()
      .openapi({ description: "Present when payments are on; the tx hash is also in X-Payment-Receipt" }),
  })
  .openapi("ImageToImageResult");

export const SignInChallenge = z
  .object({
    info: z
      .object({
        domain: z.string(),
        uri: z.string().url(),
        statement: z.string().optional(),
        version: z.string(),
        nonce: z.string(),
        issuedAt: z.string(),
        expirationTime: z.string().optional(),
        resources: z.array(z.string()).optional(),
      })
      .openapi({ description: "The CAIP-122 message fields: bound to this gateway's origin, the job's poll URL and a nonce that works once" }),
    supportedChains: z
      .array(z.object({ chainId: z.string(), type: z.enum(["eip191", "ed25519"]), signatureScheme: z.string().optional() }))
      .openapi({ description: "The chain of the wallet that paid: SIWE (eip191) on Base, SIWS (ed25519) on Solana" }),
    schema: z.record(z.string(), z.unknown()),
  })
  .openapi("SignInWithXChallenge", {
    description:
      'x402\'s sign-in-with-x extension: sign it with the wallet that paid and send the proof as the SIGN-IN-WITH-X header (base64 JSON) on the next poll',
  });

export const Extensions = z.object({ "sign-in-with-x": SignInChallenge }).openapi({ description: "x402 extensions offered with this answer" });

export const JobEnvelope = z
  .object({
    id: z.string(),
    object: z.literal("image.edit.job"),
    status: z.enum(["queued", "in_progress", "failed"]),
    model: z.string().optional(),
    size: z.string().optional(),
    n: z.number().int().optional(),
    price: Price.optional(),
    payment_status: z.enum(["verified", "not_charged"]),
    created: z.number().int().optional(),
    poll_url: z.string().url().optional(),
    error: z.unknown().optional(),
    extensions: Extensions.optional(),
  })
  .openapi("ImageEditJob");

export const PaymentRequiredBody = z
  .object({
    x402Version: z.literal(1),
    error: z.string().openapi({ description: "Why payment is required or was refused" }),
    accepts: z.array(z.record(z.string(), z.unknown())).openapi({ description: "x402 v1 payment requirements, one per network" }),
    extensions: Extensions.optional(),
  })
  .openapi("PaymentRequired");

export const DevchainInfo = z
  .object({
    evm: z.object({
      rpcUrl: z.string().url(),
      chainId: z.number().int().openapi({ example: 8453 }),
      network: z.string().openapi({ description: "CAIP-2 id", example: "eip155:8453" }),
    }),
    solana: z.object({
      rpcUrl: z.string().url(),
      network: z.string().openapi({ description: "CAIP-2 id", example: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" }),
    }),
  })
  .openapi("Devchain", { description: "The local chains of a gateway started with RETOUCH_PAYMENTS=devchain" });

export const FaucetRequest = z.object({ address: z.string().min(1).max(100) }).strict().openapi("FaucetRequest");

export const FaucetGiftBody = z
  .object({
    network: z.enum(["base", "solana"]),
    address: z.string(),
    usdc: z.string().openapi({ description: "USDC given now, atomic units (6 decimals)", example: "10000000" }),
    usdc_total: z.string().openapi({ description: "USDC given to this address so far, atomic units" }),
    gas: z.string().openapi({ description: "Gas given now: wei on Base, lamports on Solana" }),
  })
  .openapi("FaucetGift");

export const ModelInfo = z
  .object({
    id: z.string(),
    object: z.literal("model"),
    aliases: z.array(z.string()).openapi({ description: "Other names the model answers to in requests: OpenAI's own model names (\"gpt-image-1\")" }),
    provider: z.string(),
    description: z.string(),
    sizes: z.array(z.string()),
    default_size: z.string(),
    mask: z.enum(["required", "optional", "unsupported"]),
    max_images: z.number().int(),
    max_n: z.number().int(),
    uses_prompt: z.boolean(),
    prices: z.record(z.string(), z.string()).openapi({ description: "USD per image, by size" }),
    prices_by_quality: z
      .record(z.string(), z.record(z.string(), z.string()))
      .optional()
      .openapi({ description: "USD per image by quality and size, when the caller sets quality" }),
    custom_sizes: z
      .object({
        multiple: z.number().int(),
        max_side: z.number().int(),
        max_pixels: z.number().int(),
        min_pixels: z.number().int(),
        max_aspect: z.number(),
        price_per_megapixel: z.string(),
        prices_per_megapixel_by_quality: z.record(z.string(), z.string()).optional(),
        price_per_image_for_inputs: z.string().optional(),
      })
      .optional()
      .openapi({
        description:
          "Sizes beyond the listed ones (any WIDTHxHEIGHT within these limits), priced per image at price_per_megapixel x the megapixels " +
          "(by quality when set) + price_per_image_for_inputs, rounded up to a whole USDC unit (0.000001)",
      }),
    options: z.array(z.string()).openapi({ description: "Optional fields this model takes" }),
    available: z.boolean(),
    unavailable_reason: z.string().optional(),
  })
  .openapi("Model");

export const ModelList = z.object({ object: z.literal("list"), data: z.array(ModelInfo) }).openapi("ModelList");

export const Health = z.object({ status: z.literal("ok"), version: z.string(), uptime_seconds: z.number() });

export const Readiness = z.object({
  status: z.enum(["ready", "not_ready"]),
  checks: z.record(z.string(), z.enum(["ok", "failed"])).openapi({ example: { database: "ok", redis: "ok", bucket: "failed" } }),
});
