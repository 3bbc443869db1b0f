// Google's Gemini image models (google/nano-banana = gemini-2.5-flash-image) as
// a Provider, through @google/genai's models.generateContent: the images go as
// inlineData parts, the prompt as text, the edited image comes back inline
// (read up to a byte limit).

import { GoogleGenAI, type GenerateContentResponse, type Part } from "@google/genai";
import { CONTENT_TYPES, outputSize, type EditRequest } from "../../edits/index.ts";
import { upstreamAnswerLimit } from "../answer-limits.ts";
import { boundedFetch } from "../bounded-fetch.ts";
import type { EditOutput, Provider } from "../types.ts";
import { decodeImage, DEFAULT_RETRY, withRetries, type RetryPolicy } from "../upstream.ts";
import { googleError, isTransientGoogleError, noImageError } from "./errors.ts";

export interface GoogleProviderOptions {
  apiKey: string;
  /** https://generativelanguage.googleapis.com (the SDK's default) or a stand-in. */
  baseUrl?: string;
  /** The gateway's budget for one edit; its AbortSignal ends the call, the SDK's timeout is only a backstop. */
  timeoutMs: number;
  retry?: RetryPolicy;
}

/** How much longer than the budget the SDK may wait on its own, should a signal ever be missed. */
const BACKSTOP_MS = 5_000;

/**
 * @example
 * googleProvider({ apiKey: process.env.GEMINI_API_KEY, timeoutMs: 120_000 })
 */
export function googleProvider(options: GoogleProviderOptions): Provider {
  // vertexai: false so that GOOGLE_GENAI_USE_VERTEXAI in the environment cannot
  // send the key elsewhere. No retryOptions: the SDK does not retry then.
  const ai = new GoogleGenAI({
    apiKey: options.apiKey,
    vertexai: false,
    httpOptions: { baseUrl: options.baseUrl, timeout: options.timeoutMs + BACKSTOP_MS },
  });
  const policy = options.retry ?? DEFAULT_RETRY;

  return {
    name: "google",
    unavailableReason: () => undefined,
    async edit(request: EditRequest, signal: AbortSignal): Promise<EditOutput> {
      // The SDK's ApiError has no headers: keep the last response's to read Retry-After.
      let lastHeaders: Headers | undefined;
      // The answer is read through a counter and cut off past the limit for n images.
      const limitedFetch = boundedFetch({
        maxBytes: upstreamAnswerLimit(request.n),
        onResponse: (response) => (lastHeaders = response.headers),
      });
      let response: GenerateContentResponse;
      try {
        response = await withRetries(
          () =>
            ai.models.generateContent({
              model: request.model.upstreamModel,
              contents: [{ role: "user", parts: requestParts(request) }],
              config: {
                abortSignal: signal,
                responseModalities: ["IMAGE", "TEXT"],
                ...imageConfig(request),
                httpOptions: { fetch: limitedFetch },
              },
            }),
          { signal, isTransient: isTransientGoogleError, policy },
        );
      } catch (error) {
        // A timeout stays a timeout: the gateway answers it with a 504.
        if (signal.aborted) throw signal.reason;
        throw googleError(error, options.apiKey, lastHeaders);
      }
      const parts = response.candidates?.[0]?.content?.parts ?? [];
      const images = parts
        .filter((part) => part.inlineData?.data && !part.thought)
        .map((part) => decodeImage("Google Gemini", part.inlineData!.data));
      if (images.length === 0) throw noImageError(response);
      return { images, usage: response.usageMetadata ? { ...response.usageMetadata } : undefined };
    },
  };
}

/** The source images as inlineData (type sniffed from their bytes), then the prompt. */
function requestParts(request: EditRequest): Part[] {
  return [
    ...request.images.map((image) => ({
      inlineData: { mimeType: CONTENT_TYPES[image.format], data: base64(image.bytes) },
    })),
    { text: request.prompt },
  ];
}

/** Aspect ratios Gemini image models accept in imageConfig. */
const ASPECT_RATIOS = new Set(["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]);

/**
 * Asks for the requested size's aspect ratio ("1024x1024" -> "1:1") when Gemini offers it, and on
 * Gemini 3 image models for its resolution tier ("2048x2048" -> "2K"), which sets the price.
 */
function imageConfig(request: EditRequest): { imageConfig?: { aspectRatio?: string; imageSize?: string } } {
  const { width, height } = outputSize(request);
  const divisor = gcd(width, height);
  const ratio = `${width / divisor}:${height / divisor}`;
  const config = {
    ...(ASPECT_RATIOS.has(ratio) ? { aspectRatio: ratio } : {}),
    ...(request.model.upstreamModel.startsWith("gemini-3") ? { imageSize: resolutionTier(Math.max(width, height)) } : {}),
  };
  return Object.keys(config).length > 0 ? { imageConfig: config } : {};
}

/** Gemini 3's resolution tiers by the longest side asked for. */
function resolutionTier(side: number): "1K" | "2K" | "4K" {
  return side <= 1024 ? "1K" : side <= 2048 ? "2K" : "4K";
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
