// The gateway's API as the page uses it: the model list, an edit request
// (unpaid for its quote, or with a payment header), and OpenAI-style errors.

export interface Model {
  id: string;
  description: string;
  sizes: string[];
  default_size: string;
  mask: "required" | "optional" | "unsupported";
  max_images: number;
  max_n: number;
  uses_prompt: boolean;
  prices: Record<string, string>;
  available: boolean;
  unavailable_reason?: string;
}

export interface EditBody {
  model: string;
  prompt: string;
  image: string | string[];
  mask?: string;
  size?: string;
  n?: number;
}

export interface EditResult {
  data: { url?: string; revised_prompt?: string }[];
  price?: { amount: string; currency: string };
  size?: string;
  payment?: { status: string; tx_hash: string | null; network: string | null };
}

/** An API error as the page shows it: the message, and the field it names. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    message: string,
    readonly status: number,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export async function listModels(): Promise<Model[]> {
  const response = await fetch("/api/v1/models");
  if (!response.ok) throw await apiError(response);
  return ((await response.json()) as { data: Model[] }).data;
}

export const EDIT_URL = "/api/v1/images/image2image";

export function sendEdit(body: EditBody, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(EDIT_URL, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** The error in an answer that is not a success (OpenAI's envelope, or x402's 402 body). */
export async function apiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { message?: string; param?: string | null; code?: string | null } | string };
    if (typeof body.error === "object" && body.error?.message) return new ApiError(body.error.message, response.status, body.error.param ?? null, body.error.code ?? null);
    if (typeof body.error === "string") return new ApiError(body.error, response.status);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(`the gateway answered HTTP ${response.status}`, response.status);
}
