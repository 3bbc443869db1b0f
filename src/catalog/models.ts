// The built-in model table: what each model is, which sizes it offers, what one
// image costs upstream. Operators override or extend it from a config file.

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
}

/** OpenAI's image models: their API always answers with the image itself (b64_json), which code written for it reads. */
export function answersInBase64(model: ModelEntry): boolean {
  return model.provider === "openai" && /^(gpt-image|chatgpt-image)/.test(model.upstreamModel);
}

/** "auto" keeps the first source image's own width and height. */
export const AUTO_SIZE = "auto";

export const DEFAULT_MODEL_ID = "openai/gpt-image-1";

const LOCAL_FILL_COST = "0.001";

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
