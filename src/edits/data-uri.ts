// Decodes the data URIs the JSON API carries images in. Strict: a value that is
// not a base64 data URI is refused with the fix, never guessed at.

import { invalidRequest } from "../errors.ts";

const DATA_URI = /^data:([\w.+-]+\/[\w.+-]+)?((?:;[\w-]+=[\w.+-]+)*);base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export interface DecodedDataUri {
  declaredType: string | undefined;
  bytes: Uint8Array;
}

export function decodeDataUri(value: string, param: string): DecodedDataUri {
  const header = DATA_URI.exec(value.slice(0, 256));
  if (!header) {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    throw invalidRequest(
      param,
      `${param} must be a base64 data URI such as "data:image/png;base64,iVBOR...", got "${shown}"`,
      "invalid_image",
    );
  }
  const payload = value.slice(header[0].length).replace(/[\r\n]/g, "");
  if (payload.length === 0 || payload.length % 4 === 1 || !BASE64.test(payload)) {
    throw invalidRequest(param, `${param} is a data URI whose payload is not valid base64`, "invalid_image");
  }
  return { declaredType: header[1]?.toLowerCase(), bytes: Buffer.from(payload, "base64") };
}
