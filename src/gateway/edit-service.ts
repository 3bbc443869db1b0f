// The use case of the gateway: validate an edit, run it on its provider within
// the time budget, prove the result good, store it, answer with URLs.
// (Payments wrap run() in the next layer: quote before, settle after success.)

import type { Catalog, ModelEntry } from "../catalog/index.ts";
import { outputSize, validateEdit, type EditRequest, type RawEdit } from "../edits/index.ts";
import { editTimedOut, RetouchError } from "../errors.ts";
import {
  checkResult,
  expectedResult,
  providerName,
  resultLimits,
  upstreamFailed,
  type EditedImage,
  type EditOutput,
  type PartialImage,
  type ProviderRegistry,
} from "../providers/index.ts";
import { BLOB_KEY, type BlobStore } from "../storage/index.ts";

export interface EditResult {
  created: number;
  data: { url: string; revised_prompt?: string }[];
  price: { amount: string; currency: "USD" };
  /** What was made, in OpenAI's answer shape: the size, the format, and the quality and background where known. */
  size?: string;
  output_format?: string;
  quality?: string;
  background?: string;
  /** The upstream's token counts, where it gave them (OpenAI's `usage`). */
  usage?: Record<string, unknown>;
}

/** A finished edit: the answer for the caller, and the upstream's usage for the ledger. */
export interface EditRun {
  result: EditResult;
  usage?: Record<string, unknown>;
}

/**
 * The result with its URLs as this process hands them out. A result made elsewhere (a worker, another
 * gateway, an earlier version) names its stored files by key, the last segment of each URL.
 */
export function withFileUrls<T extends EditResult>(result: T, fileUrl: (key: string) => string): T {
  const data = result.data.map((item) => {
    const key = item.url.slice(item.url.lastIndexOf("/") + 1);
    return BLOB_KEY.test(key) ? { ...item, url: fileUrl(key) } : item;
  });
  return { ...result, data };
}

export interface EditService {
  /** Why a model cannot run here, or undefined when it can. */
  unavailableReason(model: ModelEntry): string | undefined;
  /** Validates everything that can be validated before any money or work. */
  prepare(raw: RawEdit): Promise<EditRequest>;
  /**
   * Runs the edit within `timeoutMs` (default: the service's own budget; a resumed job gets what is
   * left of it). A streamed request's previews go to `onPartial` as the provider makes them.
   */
  run(request: EditRequest, timeoutMs?: number, onPartial?: (partial: PartialImage) => void): Promise<EditRun>;
}

export interface EditServiceOptions {
  catalog: Catalog;
  providers: ProviderRegistry;
  blobs: BlobStore;
  /** The URL a stored result is fetched from: this gateway's /api/v1/files, or the bucket's own. */
  fileUrl(key: string): string;
  timeoutMs: number;
  maxImageSide: number;
  /** Called after every run, for metrics. */
  onFinished?(model: string, seconds: number, outcome: "ok" | "error"): void;
  /** Called when a model failed and its fallback is tried, for logs. */
  onFallback?(from: string, to: string, error: RetouchError): void;
  /** Called for every model that failed with a known error (its fallback tried or not), for metrics and alerts. */
  onModelFailed?(model: ModelEntry, error: RetouchError): void;
  /** Called when a finished edit's result could not be stored (the edit then fails, uncharged), for the log. */
  onStoreFailed?(error: unknown): void;
}

export function createEditService(options: EditServiceOptions): EditService {
  const { catalog, providers, blobs, fileUrl, timeoutMs, maxImageSide } = options;

  const unavailableReason = (model: ModelEntry): string | undefined => {
    const provider = providers.get(model.provider);
    if (!provider) return `${model.id} names provider "${model.provider}", which this server does not have`;
    return provider.unavailableReason();
  };

  /** The requested model, then its configured fallbacks that can serve this request here. */
  function candidates(request: EditRequest): ModelEntry[] {
    const shape = { size: request.size, n: request.n, images: request.images.length, mask: request.mask !== undefined };
    const fallbacks = catalog.fallbacksFor(request.model, shape).filter((model) => unavailableReason(model) === undefined);
    return [request.model, ...fallbacks];
  }

  // The engine's "auto" results are as large as the largest input allowed.
  const limits = resultLimits(maxImageSide);

  /**
   * The n images of one model's output, each proven good (see result-check.ts),
   * or a 502: a bogus result is a failed edit that nobody pays for.
   */
  async function checkedOutput(output: EditOutput, request: EditRequest): Promise<EditOutput> {
    const provider = providerName(request.model.provider);
    if (output.images.length < request.n) {
      // The quote was for n images; delivering fewer is a failed edit, not a cheaper one.
      throw upstreamFailed(provider, `it returned ${output.images.length} of the ${request.n} images asked for; nothing was charged`);
    }
    const expected = expectedResult(request);
    const check = (image: EditedImage) => checkResult(image, expected, provider, limits);
    return { ...output, images: await Promise.all(output.images.slice(0, request.n).map(check)) };
  }

  async function runOnProvider(request: EditRequest, timeoutMs: number, onPartial?: (partial: PartialImage) => void): Promise<EditRun> {
    const signal = AbortSignal.timeout(timeoutMs);
    const models = candidates(request);
    let output;
    for (const [i, model] of models.entries()) {
      try {
        // A fallback runs the same request (and the same quote) on another model, within the same time budget.
        // Its output is checked inside that budget too; a bogus one counts as that model failing (502).
        const onModel = { ...request, model };
        const provider = providers.get(model.provider)!;
        output = await untilAborted(provider.edit(onModel, signal, onPartial).then((answer) => checkedOutput(answer, onModel)), signal);
        break;
      } catch (error) {
        if (error instanceof RetouchError) options.onModelFailed?.(model, error);
        if (signal.aborted && !(error instanceof RetouchError)) throw editTimedOut(timeoutMs);
        if (i === models.length - 1 || !worthFallingBack(error)) throw error;
        options.onFallback?.(model.id, models[i + 1].id, error as RetouchError);
      }
    }
    if (!output) throw new Error("no model ran");
    const keys = await Promise.all(output.images.map((image) => blobs.put(image.bytes, image.format))).catch((error: unknown) => {
      options.onStoreFailed?.(error);
      throw resultNotStored(error);
    });
    const made = outputSize(request);
    const settings = output.settings ?? {};
    const result: EditResult = {
      created: Math.floor(Date.now() / 1000),
      data: keys.map((key) => ({ url: fileUrl(key), revised_prompt: output.revisedPrompt })),
      price: { amount: request.quote.amount, currency: "USD" },
      size: settings.size ?? `${made.width}x${made.height}`,
      output_format: output.images[0].format,
      ...definedOnly({ quality: settings.quality ?? request.options.quality, background: settings.background ?? request.options.background }),
      ...(output.usage ? { usage: output.usage } : {}),
    };
    return { result, usage: output.usage };
  }

  return {
    unavailableReason,
    async prepare(raw) {
      const request = await validateEdit(raw, { catalog, maxImageSide, unavailableReason });
      providers.get(request.model.provider)!.precheck?.(request);
      return request;
    },

    async run(request, budgetMs = timeoutMs, onPartial) {
      const started = performance.now();
      const finished = (outcome: "ok" | "error") =>
        options.onFinished?.(request.model.id, (performance.now() - started) / 1000, outcome);
      try {
        const result = await runOnProvider(request, budgetMs, onPartial);
        finished("ok");
        return result;
      } catch (error) {
        finished("error");
        throw error;
      }
    },
  };
}

function definedOnly(fields: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Upstream overload or outage: another model may do. Bad input or a timeout would fail there too. */
function worthFallingBack(error: unknown): boolean {
  return error instanceof RetouchError && (error.status === 429 || error.status === 500 || error.status === 502 || error.status === 503);
}

/** Rejects as soon as the signal aborts, even if the work ignores it. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** 503: the edit ran but its result could not be stored, so it is not delivered and not charged. The cause goes to the log. */
function resultNotStored(cause: unknown): RetouchError {
  return new RetouchError("the edit ran but its result could not be stored; nothing was charged, try again shortly", {
    status: 503,
    type: "server_error",
    code: "result_not_stored",
    cause,
  });
}
