// What the upstream tests read back from the gateway: the error envelope, checked.

import assert from "node:assert/strict";

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

export async function expectError(response: Response, status: number, code: string, message: RegExp): Promise<ErrorBody> {
  const body = (await response.json()) as ErrorBody;
  assert.equal(response.status, status, JSON.stringify(body));
  assert.equal(body.error.code, code);
  assert.match(body.error.message, message);
  return body;
}
