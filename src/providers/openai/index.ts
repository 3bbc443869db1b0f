// OpenAI's image models (gpt-image-*) as a Provider, through the official SDK's
// images.edit: multipart upload, white mask turned into OpenAI's alpha mask,
// base64 results checked to be images, answers read up to a byte limit, failures mapped in errors.ts.

import OpenAI, { toFile } from "openai";
import type { ImageEditParamsNonStreaming, ImagesResponse } from "openai/resources/images";
import { CONTENT_TYPES, type EditRequest, type ImageFormat } from "../../edits/index.ts";
import { upstreamAnswerLimit } from "../answer-limits.ts";
import { boundedFetch } from "../bounded-fetch.ts";
import type { EditOutput, PartialImage, Provider } from "../types.ts";
import { isTransientOpenAiError, openAiError } from "./errors.ts";
import { toOpenAiMask } from "./mask.ts";
import { decodeImage, DEFAULT_RETRY, upstreamFailed, withRetries, type RetryPolicy } from "../upstream.ts";

export interface OpenAiProviderOptions {
  apiKey: string;
  /** e.g. https://api.openai.com/v1 (the SDK's default) or a compatible server. */
  baseUrl?: string;
  /** The gateway's budget for one edit; its AbortSignal ends the call, the SDK's timeout is only a backstop. */
  timeoutMs: number;
  retry?: RetryPolicy;
}

/** How much longer than the budget the SDK may wait on its own, should a signal ever be missed. */
const BACKSTOP_MS = 5_000;

const EXTENSIONS: Record<ImageFormat, string> = { png: "png", jpeg: "jpg", webp: "webp" };

/**
 * @example
 * openAiProvider({ apiKey: process.env.OPENAI_API_KEY, timeoutMs: 120_000 })
 */
export function openAiProvider(options: OpenAiProviderOptions): Provider {
  // The SDK's own retries are off: it would also retry 429s for up to a minute,
  // past the caller's budget. withRetries retries only 5xx and lost connections.
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl, maxRetries: 0, timeout: options.timeoutMs + BACKSTOP_MS });
  const policy = options.retry ?? DEFAULT_RETRY;
  // One client per answer limit (n images and previews: a dozen at most), made once: a client
  // made per edit would also make its SDK check each time whether its fetch can send FormData.
  const boundedClients = new Map<number, OpenAI>();
  const boundedClient = (maxBytes: number) => {
    let found = boundedClients.get(maxBytes);
    if (!found) boundedClients.set(maxBytes, (found = client.withOptions({ fetch: boundedFetch({ maxBytes }) })));
    return found;
  };

  return {
    name: "openai",
    unavailableReason: () => undefined,
    async edit(request: EditRequest, signal: AbortSignal, onPartial?: (partial: PartialImage) => void): Promise<EditOutput> {
      const params = await editParams(request);
      // The answer is read through a counter and cut off past the limit for n images (and a streamed one's previews).
      const previews = request.stream?.partialImages ?? 0;
      const bounded = boundedClient(upstreamAnswerLimit(request.n + previews));
      let response: OpenAiAnswer;
      try {
        const call = request.stream && onPartial ? () => streamed(bounded, params, previews, signal, onPartial) : () => bounded.images.edit(params, { signal });
        response = await withRetries(call, {
          signal,
          isTransient: isTransientOpenAiError,
          policy,
        });
      } catch (error) {
        // A timeout stays a timeout: the gateway answers it with a 504.
        if (signal.aborted) throw signal.reason;
        throw openAiError(error, options.apiKey);
      }
      const data = response.data ?? [];
      if (data.length === 0) throw upstreamFailed("OpenAI", "the answer carried no images");
      return {
        images: data.map((image) => decodeImage("OpenAI", image.b64_json)),
        revisedPrompt: data.find((image) => image.revised_prompt)?.revised_prompt,
        usage: response.usage ? { ...response.usage } : undefined,
        settings: { size: response.size, quality: response.quality, background: response.background },
      };
    },
  };
}

/** What the adapter reads from OpenAI's answer, whole or streamed. */
type OpenAiAnswer = Pick<ImagesResponse, "data" | "usage"> & { size?: string; quality?: string; background?: string };

/**
 * The edit as OpenAI's server-sent events: each partial image goes to `onPartial` as it arrives;
 * the completed event is the answer.
 */
async function streamed(
  client: OpenAI,
  params: ImageEditParamsNonStreaming,
  partialImages: number,
  signal: AbortSignal,
  onPartial: (partial: PartialImage) => void,
): Promise<OpenAiAnswer> {
  const events = await client.images.edit({ ...params, stream: true, partial_images: partialImages }, { signal });
  for await (const event of events) {
    if (event.type === "image_edit.partial_image") {
      onPartial({ image: decodeImage("OpenAI", event.b64_json), index: event.partial_image_index });
    } else if (event.type === "image_edit.completed") {
      const { b64_json, usage, size, quality, background } = event;
      const known = (value: string) => (value === "auto" ? undefined : value);
      return { data: [{ b64_json }], usage: usage as ImagesResponse["usage"], size: known(size), quality: known(quality), background: known(background) };
    }
  }
  throw upstreamFailed("OpenAI", "its stream ended without the finished image");
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * The multipart fields of POST /images/edits. Only what every gpt-image model
 * accepts: never response_format (they always answer base64), moderation
 * (generations only) or input_fidelity (refused by gpt-image-1-mini).
 */
async function editParams(request: EditRequest): Promise<ImageEditParamsNonStreaming> {
  const files = await Promise.all(
    request.images.map((image, i) =>
      toFile(image.bytes, `image-${i}.${EXTENSIONS[image.format]}`, { type: CONTENT_TYPES[image.format] }),
    ),
  );
  return {
    model: request.model.upstreamModel,
    prompt: request.prompt,
    // One file goes as `image`; an array goes as `image[]` parts.
    image: files.length === 1 ? files[0] : files,
    ...(request.mask ? { mask: await toFile(await toOpenAiMask(request.mask), "mask.png", { type: "image/png" }) } : {}),
    size: request.size as ImageEditParamsNonStreaming["size"],
    n: request.n,
    // Only what the caller set; the catalog has already refused options this model does not take.
    ...definedOnly(request.options),
    ...(request.user ? { user: request.user } : {}),
  };
}
