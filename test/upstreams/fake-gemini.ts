// A stand-in for the Gemini API's POST /v1beta/models/{model}:generateContent:
// JSON in (contents with inlineData and text parts), `{candidates, usageMetadata}`
// or the `{error:{code,message,status,details}}` envelope out. Like the real API
// it refuses a missing key and inline data that is not the image type it claims.

import type { IncomingMessage, ServerResponse } from "node:http";
import { sniffImageFormat, CONTENT_TYPES } from "../../src/edits/index.ts";
import { json, startFakeServer, type FakeServer, type Reply } from "./fake-server.ts";

export interface GeminiRequest {
  model: string;
  contents: { role?: string; parts: { text?: string; inlineData?: { mimeType: string; data: string } }[] }[];
  generationConfig?: { responseModalities?: string[]; imageConfig?: { aspectRatio?: string; imageSize?: string } };
}

export type FakeGemini = FakeServer<GeminiRequest>;

export const USAGE_METADATA = { promptTokenCount: 1_300, candidatesTokenCount: 1_290, totalTokenCount: 2_590 };

export function startFakeGemini(apiKey: string, result: Buffer): Promise<FakeGemini> {
  return startFakeServer<GeminiRequest>({ accept: (req, body, res) => accept(req, body, res, apiKey), fallback: success(result) });
}

/** 200 with a text part and the image as inlineData, finishReason STOP. */
export function success(image: Buffer, mimeType = "image/png"): Reply<GeminiRequest> {
  const parts = [{ text: "Here is the edited image." }, { inlineData: { mimeType, data: image.toString("base64") } }];
  return candidate({ parts, finishReason: "STOP" });
}

/** 200 with one candidate made of these parts and finish reason. */
export function candidate(options: { parts: object[]; finishReason: string }): Reply<GeminiRequest> {
  return (res, received) =>
    json(res, 200, {
      candidates: [{ content: { role: "model", parts: options.parts }, finishReason: options.finishReason, index: 0 }],
      usageMetadata: USAGE_METADATA,
      modelVersion: received.body.model,
    });
}

/** 200 whose prompt was blocked before any candidate was made. */
export function promptBlocked(blockReason: string): Reply<GeminiRequest> {
  return (res) => json(res, 200, { promptFeedback: { blockReason }, usageMetadata: { promptTokenCount: 1_300, totalTokenCount: 1_300 } });
}

/** An error in Google's envelope. */
export function failure(
  code: number,
  status: string,
  message: string,
  details: object[] = [],
  headers: Record<string, string> = {},
): Reply<GeminiRequest> {
  return (res) => json(res, code, { error: { code, message, status, details } }, headers);
}

async function accept(req: IncomingMessage, body: Buffer, res: ServerResponse, apiKey: string): Promise<GeminiRequest | undefined> {
  const refuse = (code: number, status: string, message: string, details: object[] = []) => {
    json(res, code, { error: { code, message, status, details } });
    return undefined;
  };
  const match = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(req.url ?? "");
  if (req.method !== "POST" || !match) return refuse(404, "NOT_FOUND", `no route ${req.method} ${req.url}`);
  if (req.headers["x-goog-api-key"] !== apiKey) {
    return refuse(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
      { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com" },
    ]);
  }
  const request = { ...(JSON.parse(body.toString("utf8")) as Omit<GeminiRequest, "model">), model: match[1] };
  for (const part of request.contents.flatMap((content) => content.parts)) {
    if (!part.inlineData) continue;
    const format = sniffImageFormat(Buffer.from(part.inlineData.data, "base64"));
    if (!format || CONTENT_TYPES[format] !== part.inlineData.mimeType) {
      return refuse(400, "INVALID_ARGUMENT", `Unable to process input image (declared ${part.inlineData.mimeType}).`);
    }
  }
  return request;
}
