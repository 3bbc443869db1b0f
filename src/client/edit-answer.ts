// The gateway's final answer to an edit, as the buyer meets it: the result, or an
// error with the exit code its cause deserves and the gateway's reason said once.

import { CliError, EXIT, prefixed } from "./errors.ts";
import { RESUME_COMMAND } from "./interrupt.ts";

export interface EditResultBody {
  data?: { url: string }[];
  price?: { amount: string; currency: "USD" };
  payment?: { status: string; tx_hash: string; network: string };
  status?: string;
  poll_url?: string;
}

interface ErrorBody {
  error?: string | { message?: string; code?: string };
}

/**
 * The result of a final answer, or the error it means. `paid` says whether a signed
 * payment was sent with the request (a 4xx or 502/504 is never charged by the gateway;
 * another 5xx after paying may have been, so the payment is kept for --resume).
 */
export async function editResult(response: Response, paid: boolean): Promise<EditResultBody> {
  const text = await response.text();
  let body: EditResultBody & ErrorBody = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the status says enough
  }
  const status = response.status;
  const reason = (typeof body.error === "string" ? body.error : body.error?.message) ?? (text.slice(0, 200) || `HTTP ${status}`);
  const gatewayCode = typeof body.error === "object" ? body.error.code : undefined;
  const fail = (message: string, exit: CliError["exitCode"], code: string) => new CliError(message, exit, { code: gatewayCode ?? code });

  if (status === 402) throw fail(`${prefixed("payment refused", reason)}; not charged`, EXIT.payment, "payment_refused");
  if (status >= 400 && status < 500) {
    const charged = paid ? "not charged" : "nothing was paid";
    throw fail(`the gateway refused the request (HTTP ${status}, ${charged}): ${reason}`, paid ? EXIT.editFailed : EXIT.usage, "invalid_request");
  }
  if (status >= 500) {
    if (!paid || status === 502 || status === 504) {
      throw fail(`${prefixed("the edit failed", reason)} (HTTP ${status}, not charged)`, EXIT.editFailed, "edit_failed");
    }
    throw fail(
      `the gateway answered HTTP ${status} after the payment was sent (${reason}); it may be charged: the payment is kept, run \`${RESUME_COMMAND}\` later to fetch the result without paying again`,
      EXIT.editFailed,
      "payment_uncertain",
    );
  }
  if (body.status === "failed") throw fail(`${prefixed("the edit failed", reason)} (not charged)`, EXIT.editFailed, "edit_failed");
  if (body.status === "interrupted") {
    throw fail(`the edit was cut off by a restart of the gateway (not charged); the payment is kept: run \`${RESUME_COMMAND}\` to run it again`, EXIT.editFailed, "edit_interrupted");
  }
  if (!body.data?.length) throw fail(`the gateway answered ${status} without images`, EXIT.editFailed, "no_result");
  return body;
}
