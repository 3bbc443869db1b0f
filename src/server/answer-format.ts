// An edit's answer in the form the caller asked for: links to the stored
// results (`url`), or the images themselves (`b64_json`, as OpenAI's gpt-image
// models always answer). The result is stored and priced the same either way;
// only the answer differs, so a replay or a poll may ask for either.

import { answersInBase64, type ModelEntry } from "../catalog/index.ts";
import type { ResponseFormat } from "../edits/index.ts";
import { BLOB_KEY, type BlobStore } from "../storage/index.ts";

/** The edit routes' paths: the seed's, and OpenAI's. */
export const OPENAI_EDIT_PATH = "/v1/images/edits";

/** What the caller asked for, or the route's default: OpenAI's route answers as OpenAI does for its gpt-image models. */
export function responseFormatFor(asked: ResponseFormat | undefined, path: string, model: ModelEntry): ResponseFormat {
  return asked ?? (path === OPENAI_EDIT_PATH && answersInBase64(model) ? "b64_json" : "url");
}

interface AnswerItem {
  url?: string;
  b64_json?: string;
  revised_prompt?: string;
}

/**
 * The answer body with each `data[].url` replaced by the stored image as `b64_json`; any other body
 * (a job still running, an error) unchanged.
 */
export async function inResponseFormat(body: unknown, format: ResponseFormat, blobs: BlobStore): Promise<unknown> {
  if (format === "url" || !isResult(body)) return body;
  const data = await Promise.all(
    body.data.map(async ({ url, ...rest }) => {
      const key = url!.slice(url!.lastIndexOf("/") + 1);
      const stored = BLOB_KEY.test(key) ? await blobs.get(key) : undefined;
      if (!stored) throw new Error(`the stored result ${key} could not be read back for b64_json`);
      const bytes = Buffer.from(await new Response(stored.body).arrayBuffer());
      return { b64_json: bytes.toString("base64"), ...rest };
    }),
  );
  return { ...body, data };
}

function isResult(body: unknown): body is { data: AnswerItem[] } {
  const data = (body as { data?: unknown } | null)?.data;
  return Array.isArray(data) && data.every((item: AnswerItem) => typeof item?.url === "string");
}
