// The built-in model table: what each model is, which sizes it offers, what one
// image costs upstream. Operators override or extend it from a config file.

import { parseDecimal } from "./money.ts";

export type MaskSupport = "required" | "optional" | "unsupported";

/** Optional request fields passed through to upstreams that take them. */
export const EDIT_OPTIONS = ["quality", "background", "output_format", "output_compression", "input_fidelity"] as const;
export type EditOptionName = (typeof EDIT_OPTIONS)[number];
export type Quality = "low" | "medium" | "high";

export interface ModelEntry {
  /** Public id, "<provider>/<name>". */
  id: string;
  /** Other names callers may use for it: OpenAI's own model names, so that code written for OpenAI works unchanged. */
  aliases?: string[];
  /** Which Provider runs it (see src/providers). */
  provider: string;
  /** The name the upstream API knows it by. */
  upstreamModel: string;
  description: string;
  /** Offered sizes -> upstream cost of one image in USD (decimal string). */
  sizes: Record<string, string>;
  defaultSize: string;
  mask: MaskSupport;
  /** Source images one request may carry. */
  maxImages: number;
  /** Largest n (images out) per request. */
  maxN: number;
  /** Overrides the global margin for this model ("0" = sell at cost). */
  margin?: string;
  /** False when the model ignores the prompt (the embedded engine). */
  usesPrompt: boolean;
  /**
   * Models to try, in order, when this one answers 429 or 5xx (off unless
   * configured). The caller still pays this model's quote, never more.
   */
  fallbacks?: string[];
  /** The optional fields (EDIT_OPTIONS) this model takes; others are a 400. */
  options?: EditOptionName[];
  /**
   * Upstream cost per size when the caller picks a quality. Without `quality`
   * the `sizes` costs apply and none is sent (the upstream's default).
   */
  qualityCosts?: Partial<Record<Quality, Record<string, string>>>;
  /** Sizes other than those listed that the model makes (WIDTHxHEIGHT within limits), and how they are priced. */
  customSizes?: SizeRule;
  /** False when the model refuses `background: "transparent"` (gpt-image-2). */
  transparentBackground?: boolean;
}

/**
 * Any WIDTHxHEIGHT within these limits, priced by its area: the upstream bills output tokens in
 * proportion to the pixels, so the cost per megapixel times the megapixels (rounded up to a whole
 * USDC unit by the quote) is never below cost.
 */
export interface SizeRule {
  /** Both sides must be multiples of this. */
  multiple: number;
  maxSide: number;
  maxPixels: number;
  minPixels: number;
  /** Longest side over shortest side, at most. */
  maxAspect: number;
  /** Upstream cost of output per megapixel (10^6 pixels), without a quality and by quality. */
  costPerMegapixel: string;
  qualityCostPerMegapixel?: Partial<Record<Quality, string>>;
  /** Added to every image's cost: what its input images cost upstream, at most. */
  inputCost?: string;
}

/** OpenAI's image models: their API always answers with the image itself (b64_json), which code written for it reads. */
export function answersInBase64(model: ModelEntry): boolean {
  return model.provider === "openai" && /^(gpt-image|chatgpt-image)/.test(model.upstreamModel);
}

/** "auto" keeps the first source image's own width and height. */
export const AUTO_SIZE = "auto";

export const DEFAULT_MODEL_ID = "openai/gpt-image-1";

const LOCAL_FILL_COST = "0.001";

/** gpt-image-2's output cost per megapixel by quality: OpenAI's 1024x1024 figures / 1.048576. */
const GPT_IMAGE_2_PER_MEGAPIXEL = { low: "0.0058", medium: "0.0506", high: "0.2013" } as const;
const GPT_IMAGE_2_INPUT_COST = "0.015";

const GPT_IMAGE_2_RULE: SizeRule = {
  multiple: 16,
  maxSide: 3840,
  maxPixels: 3840 * 2160,
  minPixels: 512 * 512,
  maxAspect: 3,
  costPerMegapixel: GPT_IMAGE_2_PER_MEGAPIXEL.high,
  qualityCostPerMegapixel: GPT_IMAGE_2_PER_MEGAPIXEL,
  inputCost: GPT_IMAGE_2_INPUT_COST,
};

/** The sizes gpt-image-2's table lists (the rest are priced by the rule). */
const GPT_IMAGE_2_LISTED = ["1024x1024", "1536x1024", "1024x1536", "2048x2048", "2048x1152", "3840x2160", "2160x3840"];

function gptImage2Sizes(quality?: Quality): Record<string, string> {
  return Object.fromEntries(GPT_IMAGE_2_LISTED.map((size) => [size, sizeRuleCost(GPT_IMAGE_2_RULE, size, quality)]));
}

const GPT_IMAGE_2_SIZES = gptImage2Sizes();

/**
 * A size's upstream cost under a rule, as an exact decimal string: the cost per megapixel times the
 * megapixels, plus the input cost. (The quote rounds the price up to a whole USDC unit.)
 */
export function sizeRuleCost(rule: SizeRule, size: string, quality?: Quality): string {
  const [width, height] = size.split("x").map(Number);
  const perMegapixel = parseDecimal((quality && rule.qualityCostPerMegapixel?.[quality]) || rule.costPerMegapixel);
  const input = parseDecimal(rule.inputCost ?? "0");
  // Both denominators are powers of ten: the larger one holds the other.
  const output = { numerator: perMegapixel.numerator * BigInt(width * height), denominator: perMegapixel.denominator * 10n ** 6n };
  const denominator = output.denominator > input.denominator ? output.denominator : input.denominator;
  const units = output.numerator * (denominator / output.denominator) + input.numerator * (denominator / input.denominator);
  const digits = denominator.toString().length - 1;
  const text = units.toString().padStart(digits + 1, "0");
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`.replace(/\.?0+$/, "");
}

/** Why `size` is not a size the rule allows, or undefined when it is. */
export function sizeRuleProblem(rule: SizeRule, size: string): string | undefined {
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(size);
  if (!match) return "it is not WIDTHxHEIGHT";
  const [width, height] = [Number(match[1]), Number(match[2])];
  if (width % rule.multiple || height % rule.multiple) return `both sides must be multiples of ${rule.multiple}`;
  if (Math.max(width, height) > rule.maxSide) return `the longest side may be at most ${rule.maxSide}`;
  if (width * height > rule.maxPixels) return `at most ${rule.maxPixels.toLocaleString("en-US")} pixels`;
  if (width * height < rule.minPixels) return `at least ${rule.minPixels.toLocaleString("en-US")} pixels`;
  if (Math.max(width, height) > rule.maxAspect * Math.min(width, height)) return `the aspect ratio must be between 1:${rule.maxAspect} and ${rule.maxAspect}:1`;
  return undefined;
}

// Upstream costs are USD per output image at OpenAI's and Google's published
// per-image prices (OpenAI's pricing page as quoted by llmreference.com, runware.ai
// and docs.apiyi.com in 2025-2026; OpenAI's own page was not at hand when this was
// written). They leave out the input-image tokens an edit also pays, and OpenAI
// bills the quality tier the model picks (we send no `quality`, so "auto"):
// reconcile against the `usage` each adapter returns.
// - gpt-image-1: 0.02 / 0.04, BlockRun's resale price ($0.021 / $0.042 with the 5%
//   margin); OpenAI lists $0.011 low, $0.042 medium, $0.167 high at 1024x1024.
// - gpt-image-1-mini: OpenAI's medium tier, $0.011 square, $0.015 landscape/portrait.
// - gpt-image-1.5: OpenAI's medium tier, $0.034 square, $0.05 landscape, $0.051 portrait.
// - nano-banana (gemini-2.5-flash-image): 1290 output tokens at $30/M = $0.039 per
//   1024x1024 image, plus the input tokens; 0.05 covers both.
// - gpt-image-2 (OpenAI's pricing page as reported at its launch, 2026-04-21, by
//   ai-primer.com and xairouter.com): image output $30 per million tokens, image input
//   $8/M, text input $5/M; at 1024x1024 about $0.006 low, $0.053 medium, $0.211 high.
//   Output tokens grow with the pixels, so other sizes are priced per megapixel from
//   those (1024x1024 = 1.048576 MP). Without a quality OpenAI uses "auto", billed up to
//   high: priced as high. Each image adds $0.015 for the input images' tokens (a
//   1024x1024 input is about 1,000-1,600 tokens at $8/M).
// - Nano Banana Pro (gemini-3-pro-image-preview; Google's pricing as checked by
//   laozhang.ai and lumenfall.ai, 2026-07): $0.134 per 1K or 2K output image, $0.24 per
//   4K, plus $0.0011 per input image (560 tokens at $2/M); 0.14 and 0.25 cover up to
//   5 and 9 input images.
// - Nano Banana 2 (gemini-3.1-flash-image-preview, released 2026-02-26; Google's list
//   price as quoted by aifreeapi.com, 2026-03-08, and nanobananaapi.dev): about $0.067
//   per 1K image, $0.101 per 2K, $0.151 per 4K; rounded up with room for input tokens.
export const BUILTIN_MODELS: readonly ModelEntry[] = [
  {
    id: "openai/gpt-image-1",
    aliases: ["gpt-image-1"],
    provider: "openai",
    upstreamModel: "gpt-image-1",
    description: "OpenAI GPT Image 1: prompt-guided edits, optional mask, up to 4 source images",
    sizes: { "1024x1024": "0.02", "1536x1024": "0.04", "1024x1536": "0.04" },
    // Per-image output cost by quality (community.openai.com threads quoting OpenAI's price page).
    qualityCosts: {
      low: { "1024x1024": "0.011", "1536x1024": "0.016", "1024x1536": "0.016" },
      medium: { "1024x1024": "0.042", "1536x1024": "0.063", "1024x1536": "0.063" },
      high: { "1024x1024": "0.167", "1536x1024": "0.25", "1024x1536": "0.25" },
    },
    options: ["quality", "background", "output_format", "output_compression", "input_fidelity"],
    defaultSize: "1024x1024",
    mask: "optional",
    maxImages: 4,
    maxN: 10,
    usesPrompt: true,
  },
  {
    id: "openai/gpt-image-1-mini",
    aliases: ["gpt-image-1-mini"],
    provider: "openai",
    upstreamModel: "gpt-image-1-mini",
    description: "OpenAI GPT Image 1 Mini: the low-cost GPT Image model; optional mask, up to 4 source images",
    sizes: { "1024x1024": "0.011", "1536x1024": "0.015", "1024x1536": "0.015" },
    options: ["background", "output_format", "output_compression"],
    defaultSize: "1024x1024",
    mask: "optional",
    maxImages: 4,
    maxN: 10,
    usesPrompt: true,
  },
  {
    id: "openai/gpt-image-1.5",
    aliases: ["gpt-image-1.5"],
    provider: "openai",
    upstreamModel: "gpt-image-1.5",
    description: "OpenAI GPT Image 1.5: faster, more faithful edits than GPT Image 1; optional mask, up to 4 source images",
    sizes: { "1024x1024": "0.034", "1536x1024": "0.05", "1024x1536": "0.051" },
    options: ["background", "output_format", "output_compression", "input_fidelity"],
    defaultSize: "1024x1024",
    mask: "optional",
    maxImages: 4,
    maxN: 10,
    usesPrompt: true,
  },
  {
    id: "openai/gpt-image-2",
    aliases: ["gpt-image-2", "gpt-image-2-2026-04-21"],
    provider: "openai",
    upstreamModel: "gpt-image-2",
    description:
      "OpenAI GPT Image 2: the strongest instruction following and text rendering; any WIDTHxHEIGHT (multiples of 16, " +
      "aspect 1:3 to 3:1, up to 3840x2160); optional mask, up to 16 source images; no transparent background",
    sizes: GPT_IMAGE_2_SIZES,
    qualityCosts: {
      low: gptImage2Sizes("low"),
      medium: gptImage2Sizes("medium"),
      high: gptImage2Sizes("high"),
    },
    customSizes: GPT_IMAGE_2_RULE,
    transparentBackground: false,
    options: ["quality", "background", "output_format", "output_compression", "input_fidelity"],
    defaultSize: "1024x1024",
    mask: "optional",
    maxImages: 16,
    maxN: 10,
    usesPrompt: true,
  },
  {
    id: "google/nano-banana",
    provider: "google",
    upstreamModel: "gemini-2.5-flash-image",
    description: "Google Gemini 2.5 Flash Image: prompt-only edits (no mask), up to 3 source images",
    sizes: { "1024x1024": "0.05" },
    defaultSize: "1024x1024",
    mask: "unsupported",
    maxImages: 3,
    maxN: 1,
    usesPrompt: true,
  },
  {
    id: "google/nano-banana-pro",
    provider: "google",
    upstreamModel: "gemini-3-pro-image-preview",
    description: "Google Gemini 3 Pro Image (Nano Banana Pro): prompt-only edits (no mask), up to 14 reference images, 1K/2K/4K",
    sizes: { "1024x1024": "0.14", "2048x2048": "0.14", "4096x4096": "0.25" },
    defaultSize: "1024x1024",
    mask: "unsupported",
    maxImages: 14,
    maxN: 1,
    usesPrompt: true,
  },
  {
    id: "google/nano-banana-2",
    provider: "google",
    upstreamModel: "gemini-3.1-flash-image-preview",
    description: "Google Gemini 3.1 Flash Image (Nano Banana 2): prompt-only edits (no mask), up to 14 reference images, 1K/2K/4K",
    sizes: { "1024x1024": "0.07", "2048x2048": "0.105", "4096x4096": "0.16" },
    defaultSize: "1024x1024",
    mask: "unsupported",
    maxImages: 14,
    maxN: 1,
    usesPrompt: true,
  },
  {
    id: "local/content-aware-fill",
    provider: "local",
    upstreamModel: "patchmatch",
    description:
      "Embedded content-aware fill (multi-scale PatchMatch): removes what the mask covers and fills it from the " +
      "rest of the picture. Needs a mask; does not read the prompt. Runs offline.",
    sizes: {
      [AUTO_SIZE]: LOCAL_FILL_COST,
      "256x256": LOCAL_FILL_COST,
      "512x512": LOCAL_FILL_COST,
      "1024x1024": LOCAL_FILL_COST,
      "1536x1024": LOCAL_FILL_COST,
      "1024x1536": LOCAL_FILL_COST,
      "2048x2048": LOCAL_FILL_COST,
    },
    defaultSize: AUTO_SIZE,
    mask: "required",
    maxImages: 1,
    maxN: 1,
    margin: "0",
    usesPrompt: false,
  },
];
