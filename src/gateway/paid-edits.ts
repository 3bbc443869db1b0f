// Paid edits, x402 style: quote (402), verify, claim the payment once in the
// ledger, run the edit, and settle only after it succeeded and while its client
// is still there to get the answer. Slow edits answer 202 and are settled by the
// first poll that sees them complete; a poll proves the paying wallet by
// Sign-In-With-X. Concurrent requests carrying one payment share one edit and
// one settlement: every decision is a conditional update of the ledger row, so
// processes agree too.

import { randomBytes } from "node:crypto";
import { declarePaymentIdentifierExtension, isValidPaymentId, PAYMENT_IDENTIFIER } from "@x402/extensions/payment-identifier";
import type { EditRequest } from "../edits/index.ts";
import { RetouchError } from "../errors.ts";
import {
  advertised,
  encodeHeader,
  explainReason,
  HEADERS,
  MalformedPaymentError,
  paymentIdentity,
  readExactPayment,
  readPaymentHeader,
  replayRefusal,
  signInRequired,
  SettleTimeout,
  SIWX_HEADER,
  type AnyRequirements,
  type ClientPayment,
  type ExactPayment,
  type Ledger,
  type PaidEdit,
  type PaymentRail,
  type PaymentTerms,
  type ResourceOffer,
  type SiwxGate,
  type SiwxJob,
  type StaleSettlement,
  type OnChain,
} from "../payments/index.ts";
import type { PartialImage } from "../providers/index.ts";
import type { EditRunner } from "./edit-jobs.ts";
import { withFileUrls, type EditResult } from "./edit-service.ts";
import { requestFingerprint } from "./fingerprint.ts";
import { restoredError } from "./stored-error.ts";
import type { Limits } from "./limits.ts";

export interface Reply {
  status: 200 | 202;
  body: unknown;
  headers: Record<string, string>;
}

export interface PaidEdits {
  /**
   * An edit request with (or without: 402) a payment header. `clientGone` is the request's
   * signal: once it has aborted, a completed edit is not settled (a replay settles it).
   */
  handle(request: EditRequest, headers: Headers, resourceUrl: string, clientGone?: AbortSignal, stream?: StreamHooks): Promise<Reply>;
  /**
   * GET poll_url with a SIGN-IN-WITH-X proof from the paying wallet (or, deprecated, a payment
   * header from it, verified and never settled): the job's state, settled on the first poll that sees it complete.
   */
  poll(jobId: string, headers: Headers, resourceUrl: string): Promise<Reply>;
  /**
   * Settles a row the sweep took over (see Ledger.takeStaleSettlements), as a replay would: an
   * unsettled edit is settled once; one whose settlement may have been sent is looked up on chain first.
   */
  resolve(stale: StaleSettlement): Promise<Settlement>;
  /** Resolves once no edit runs in this process (a shutdown waits for it). */
  idle(): Promise<void>;
}

/**
 * A streamed paid edit: `onStarted` is called once the payment is verified and claimed and the edit
 * runs (the answer can be opened then); previews go to `onPartial`; the answer waits up to
 * `windowMs` (instead of the inline window) before it is a 202.
 */
export interface StreamHooks {
  onStarted(): void;
  onPartial(partial: PartialImage): void;
  windowMs: number;
}

/** How a settlement attempt ended; the ledger row says the same. */
export type Settlement =
  | { outcome: "settled"; transaction: string; payer: string }
  /** Certain never to be charged: the result is withheld. */
  | { outcome: "failed"; reason: string }
  /** Neither the facilitator nor the chain could say: settled again on the next try. */
  | { outcome: "uncertain"; why: string };

/** The points of a settlement where a crash leaves different traces: before the facilitator is called, after the chain took the transfer, after the ledger recorded it. */
export type SettlementCheckpoint = "before-settle" | "after-broadcast" | "after-record";

export interface PaidEditsOptions {
  /** Runs an edit and records its end in the ledger: in this process, or as a queued job. */
  runner: Pick<EditRunner, "runPaid">;
  ledger: Ledger;
  rail: PaymentRail;
  /** Issues and checks the Sign-In-With-X challenges of polls. */
  siwx: SiwxGate;
  publicUrl: string;
  /**
   * The URL this gateway gives a stored result (its files route or the bucket's), when every result
   * is reachable from here (a bucket, or a queue's workers on this disk): the process that made it
   * may have had another. Without it, a result keeps the URL of the process that stored it.
   */
  fileUrl?(key: string): string;
  inlineWindowMs: number;
  /** What a 402 of an edit route lists about it (discovery), by the URL it names; the description alone otherwise. */
  offers?: ReadonlyMap<string, ResourceOffer>;
  /** Paid edits at once per payer: a slot is taken after the payment is verified and held until its edit ends. */
  limits?: Pick<Limits, "payerSlot">;
  onError(error: unknown, jobId: string): void;
  /** Called at each checkpoint of a settlement; the crash tests pause the process there (RETOUCH_TEST_PAUSE). */
  checkpoint?: (point: SettlementCheckpoint) => Promise<void>;
}

/** A payment header as sent, and its `exact` payload read strictly. */
type Payment = ClientPayment & { exact: ExactPayment };

const WAIT_STEP_MS = 40;
const DESCRIPTION = "image edit";
/** Every edit 402 declares the payment-identifier extension: optional, honoured when sent. */
const PAYMENT_ID_DECLARATION = { [PAYMENT_IDENTIFIER]: declarePaymentIdentifierExtension(false) };

export function createPaidEdits(options: PaidEditsOptions): PaidEdits {
  const { runner, ledger, rail, siwx, publicUrl, inlineWindowMs } = options;
  const checkpoint = options.checkpoint ?? (async () => {});
  /** Edits this process started (or waits for on the queue), so waiters here wake the moment they end. */
  const running = new Map<string, Promise<void>>();

  const pollUrl = (jobId: string) => `${publicUrl}/api/v1/images/jobs/${jobId}`;
  const jobOf = (row: PaidEdit): SiwxJob => ({ jobId: row.jobId, pollUrl: pollUrl(row.jobId), network: row.network, payer: row.payer });

  /**
   * The buyer's payment identifier (x402 payment-identifier extension, v2 only), if the payment
   * carries one; one that breaks the extension's rules is a 402 invalid_payment naming the rule.
   */
  function readPaymentId(payment: Payment, terms: PaymentTerms): string | undefined {
    if (payment.version !== 2) return undefined;
    const info = (payment.payload.extensions?.[PAYMENT_IDENTIFIER] as { info?: { id?: unknown } } | undefined)?.info;
    if (info?.id === undefined) return undefined;
    if (typeof info.id === "string" && isValidPaymentId(info.id)) return info.id;
    throw rail.refuse(
      terms,
      `invalid payment: extensions["${PAYMENT_IDENTIFIER}"].info.id must be 16 to 128 letters, digits, "-" or "_" (such as pay_7d5d747be160e280504c099d984bcfe0)`,
      "invalid_payment",
    );
  }

  /** The request's payment, read strictly: anything that is not a well-formed `exact` payment is a 402 invalid_payment. */
  function readPayment(headers: Headers, terms: PaymentTerms): Payment | undefined {
    try {
      const payment = readPaymentHeader(headers);
      return payment && { ...payment, exact: readExactPayment(payment) };
    } catch (error) {
      if (error instanceof MalformedPaymentError) throw rail.refuse(terms, `invalid payment: ${error.message}`, "invalid_payment");
      throw error;
    }
  }

  /** Runs the edit (here, or on a worker of the queue), which records its end in the row. */
  function start(jobId: string, request: EditRequest, release?: () => Promise<void>, onPartial?: (partial: PartialImage) => void): void {
    const job = runner.runPaid(jobId, request, onPartial).finally(() => {
      running.delete(jobId);
      return release?.();
    });
    running.set(jobId, job);
  }

  /**
   * An edit a restart cut off, its payment sent again (proven, same request): it runs again while
   * the authorization can still be settled; past that it fails, never charged. The first caller to
   * move the row back to `verified` runs it; the others wait for that run.
   */
  async function rerun(row: PaidEdit, request: EditRequest): Promise<void> {
    const expiry = authorizationExpiry(row.payload);
    if (expiry !== undefined && expiry - Date.now() < RERUN_MARGIN_MS) {
      const reason = "the edit was interrupted by a server restart and its payment has expired since; nothing was charged: sign a new payment";
      await ledger.transition(row.jobId, "interrupted", "failed", {
        error: { status: 402, message: reason, type: "payment_required", code: "payment_expired", param: null },
      });
      return;
    }
    if (await ledger.transition(row.jobId, "interrupted", "verified")) start(row.jobId, request);
  }

  /**
   * Settles a row this caller has just moved to `settling`, and records how it ended. The ledger
   * follows the facilitator's answer, and where that is missing or a refusal, what the chain says:
   * landed is settled; certain never to land is failed (not charged); anything else is `uncertain`,
   * settled again on the next try. On a `retry` (an earlier attempt may have landed) the chain is
   * asked first, and a refusal proves nothing: the first transfer spends the authorization, so the
   * second is refused whether or not the buyer was charged.
   */
  async function settleRow(row: PaidEdit, retry: boolean): Promise<Settlement> {
    const failed = async (why: string): Promise<Settlement> => {
      const reason = `settlement failed, nothing was charged and the result is withheld: ${why}`;
      await ledger.transition(row.jobId, "settling", "failed", {
        error: { status: 402, message: reason, type: "payment_required", code: "settlement_failed", param: null },
      });
      return { outcome: "failed", reason };
    };
    const landed = async (transaction: string, payer: string): Promise<Settlement> => {
      await ledger.transition(row.jobId, "settling", "settled", { txHash: transaction });
      await checkpoint("after-record");
      return { outcome: "settled", transaction, payer };
    };
    const onChain = () => rail.onChain(row.payload, row.network).catch((error: Error): OnChain => ({ state: "unknown", why: error.message }));

    await checkpoint("before-settle");
    if (retry) {
      const chain = await onChain();
      if (chain.state === "landed") return landed(chain.transaction ?? "", row.payer);
      if (chain.state === "absent" && chain.final) return failed("the payment expired before it could be settled");
    }
    let refusal: string | undefined;
    let silence: string | undefined;
    try {
      const answer = await rail.settle(row.payload, row.requirements);
      if (answer.success) {
        await checkpoint("after-broadcast");
        return landed(answer.transaction, answer.payer ?? row.payer);
      }
      refusal = explainReason(answer.errorReason, answer.errorMessage);
    } catch (error) {
      // Only our own words reach the client: a facilitator's exception can name hosts and internals.
      silence = error instanceof SettleTimeout ? error.message : "the facilitator failed before answering";
      if (!(error instanceof SettleTimeout)) options.onError(error, row.jobId);
    }
    const chain = await onChain();
    if (chain.state === "landed") return landed(chain.transaction ?? "", row.payer);
    if ((refusal !== undefined && !retry) || (chain.state === "absent" && chain.final)) return failed((refusal ?? silence)!);
    await ledger.transition(row.jobId, "settling", "uncertain");
    return { outcome: "uncertain", why: (silence ?? refusal)! };
  }

  /** Settles a row this caller has just moved to `settling`, answering the request (or poll) that got to it first. */
  async function settle(row: PaidEdit, version: number, retry: boolean): Promise<Reply> {
    const settlement = await settleRow(row, retry);
    if (settlement.outcome === "settled") {
      return success({ ...row, status: "settled", txHash: settlement.transaction }, "settled", version, settlement.payer);
    }
    if (settlement.outcome === "failed") throw rail.refuse(termsFor(row), settlement.reason, "settlement_failed");
    throw new RetouchError(
      `the payment was sent for settlement but its outcome is not known yet (${settlement.why}); the result is kept: ` +
        `send the same request with the same payment again to receive it (or poll ${pollUrl(row.jobId)}). You are charged at most once.`,
      { status: 503, type: "server_error", code: "settlement_unconfirmed", headers: { "Retry-After": "30" } },
    );
  }

  function editOffer(resourceUrl: string): ResourceOffer {
    const offer = options.offers?.get(resourceUrl) ?? { description: DESCRIPTION };
    return { ...offer, extensions: { ...offer.extensions, ...PAYMENT_ID_DECLARATION } };
  }

  function termsFor(row: PaidEdit, resourceUrl = pollUrl(row.jobId)): PaymentTerms {
    return rail.terms(BigInt(row.amount), resourceUrl, DESCRIPTION);
  }

  function resultOf(row: PaidEdit): EditResult {
    const result = row.result as EditResult;
    return options.fileUrl ? withFileUrls(result, options.fileUrl) : result;
  }

  function success(row: PaidEdit, status: "settled" | "already_settled", version: number, payer: string): Reply {
    const network = version === 1 ? (rail.networks.find((n) => n.network.caip2 === row.network)?.network.name ?? row.network) : row.network;
    const response = { success: true, transaction: row.txHash, network, payer };
    return {
      status: 200,
      body: { ...resultOf(row), payment: { status, tx_hash: row.txHash, network } },
      headers: {
        [version === 1 ? HEADERS.responseV1 : HEADERS.responseV2]: encodeHeader(response),
        [HEADERS.receipt]: row.txHash ?? "",
      },
    };
  }

  function restoreError(row: PaidEdit): RetouchError {
    const stored = row.error!;
    return stored.status === 402 ? rail.refuse(termsFor(row), stored.message, stored.code) : restoredError(stored);
  }

  /** A failed paid edit, answered to the request that paid for it (or its replay): the error it failed with. */
  function rethrow(row: PaidEdit): never {
    throw restoreError(row);
  }

  /** A failed (or interrupted) paid edit, answered to a poll: the job's state, not an error of the poll itself. */
  function failedJob(row: PaidEdit): Reply {
    return {
      status: 200,
      body: { id: row.jobId, object: "image.edit.job", status: row.status, error: row.error, payment_status: "not_charged" },
      headers: {},
    };
  }

  /** Still running: the job, and a fresh sign-in challenge so that the next poll can be signed at once. */
  async function envelope(row: PaidEdit): Promise<Reply> {
    const challenge = advertised(await siwx.challenge(jobOf(row)));
    return {
      status: 202,
      body: {
        id: row.jobId,
        object: "image.edit.job",
        status: row.status === "verified" ? "queued" : "in_progress",
        model: row.model,
        size: row.size,
        n: row.n,
        price: { amount: row.priceUsd, currency: "USD" },
        payment_status: "verified",
        created: Math.floor(row.createdAt.getTime() / 1000),
        poll_url: pollUrl(row.jobId),
        extensions: challenge.extensions,
      },
      headers: { "Retry-After": "2", ...challenge.header },
    };
  }

  /**
   * The client that paid has gone before its answer: the authorization stays unused (it expires
   * by itself) and the row stays as it is, with the reason, until a replay of the payment settles it.
   */
  async function keepForReplay(row: PaidEdit): Promise<never> {
    const reason = "the client disconnected before the answer was written";
    await ledger.annotate(row.jobId, row.status, `not settled at ${new Date().toISOString()}: ${reason}`);
    throw new RetouchError(`${reason}; nothing was charged. Send the same request with the same payment to receive the result (it is settled then).`, {
      status: 499,
      type: "invalid_request_error",
      code: "client_disconnected",
    });
  }

  /** Waits for the job to finish (up to the deadline), settling it if this caller is first to see it done. */
  async function outcome(
    jobId: string,
    deadline: number,
    version: number,
    failed: (row: PaidEdit) => Reply,
    clientGone?: AbortSignal,
  ): Promise<Reply> {
    for (;;) {
      const row = (await ledger.byJob(jobId))!;
      if (row.status === "completed" || row.status === "uncertain") {
        if (clientGone?.aborted) return keepForReplay(row);
        if (await ledger.transition(jobId, row.status, "settling")) return settle(row, version, row.status === "uncertain");
        continue;
      }
      if (row.status === "settled") return success(row, "already_settled", version, row.payer);
      if (row.status === "failed" || row.status === "interrupted") return failed(row);
      if (Date.now() >= deadline) return envelope(row);
      const local = running.get(jobId);
      const pause = new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
      await (local ? Promise.race([local, pause]) : pause);
    }
  }

  /** Deprecated proof of wallet: a payment header from the payer, verified and never settled. Returns its x402 version. */
  async function proveByPayment(row: PaidEdit, headers: Headers, resourceUrl: string): Promise<number> {
    const terms = termsFor(row, resourceUrl);
    const payment = readPayment(headers, terms);
    if (!payment) {
      const reason = `sign in to poll ${row.jobId}: send ${SIWX_HEADER} signed by the wallet that paid (the challenge is in extensions["sign-in-with-x"])`;
      throw signInRequired(terms, row.network, reason, await siwx.challenge(jobOf(row)));
    }
    const payer = await rail.verify(payment, rail.select(payment, terms), terms);
    if (payer.toLowerCase() !== row.payer.toLowerCase()) {
      throw new RetouchError(`job ${row.jobId} was paid for by another wallet`, { status: 403, type: "invalid_request_error", code: "wrong_wallet" });
    }
    return payment.version;
  }

  return {
    async handle(request, headers, resourceUrl, clientGone, stream) {
      const terms = rail.terms(request.quote.total, resourceUrl, editOffer(resourceUrl));
      const payment = readPayment(headers, terms);
      if (!payment) throw rail.refuse(terms, `payment required: ${request.quote.amount} USD in USDC for ${request.model.id}`);
      const identity = paymentIdentity(payment.exact);
      const fingerprint = requestFingerprint(request);
      const deadline = Date.now() + (stream?.windowMs ?? inlineWindowMs);

      /** A payment the ledger already holds: answered only when it proves the payer (payer and nonce are public). */
      const replay = async (row: PaidEdit): Promise<Reply> => {
        const refusal = await replayRefusal(payment.exact, row.payer, row.requirements as AnyRequirements);
        if (refusal) throw rail.refuse(terms, `payment refused: it was already used and does not prove its payer: ${refusal}`, "invalid_signature");
        if (row.fingerprint !== fingerprint) {
          throw rail.refuse(
            terms,
            `this payment was already used for job ${row.jobId} (${pollUrl(row.jobId)}); sign a new payment for a new edit`,
            "payment_already_used",
          );
        }
        if (row.status === "interrupted") await rerun(row, request);
        return outcome(row.jobId, deadline, payment.version, rethrow, clientGone);
      };

      /**
       * A new payment carrying the payment identifier of a live edit of its payer: a retry of that
       * request. It gets that edit's answer and is never settled, once it proves the wallet.
       */
      const retried = async (row: PaidEdit, id: string): Promise<Reply> => {
        const refusal = await replayRefusal(payment.exact, row.payer, rail.select(payment, terms));
        if (refusal) throw rail.refuse(terms, `payment refused: it carries the payment identifier ${id} of an earlier edit but does not prove its payer: ${refusal}`, "invalid_signature");
        if (row.fingerprint !== fingerprint) {
          throw new RetouchError(
            `payment identifier ${id} was already used for a different request (job ${row.jobId}); nothing was charged for this one: use a new identifier for a new edit`,
            { status: 409, type: "invalid_request_error", code: "payment_identifier_conflict", param: `extensions.${PAYMENT_IDENTIFIER}.info.id` },
          );
        }
        if (row.status === "interrupted") await rerun(row, request);
        return outcome(row.jobId, deadline, payment.version, rethrow, clientGone);
      };

      const existing = await ledger.byPayment(identity.id);
      if (existing) return replay(existing);
      const clientId = readPaymentId(payment, terms);
      const refs = clientId ? candidateRefs(payment.exact, clientId) : [];
      const earlier = await ledger.byReference(refs);
      if (earlier) return retried(earlier, clientId!);

      const requirements = rail.select(payment, terms);
      const payer = await rail.verify(payment, requirements, terms);
      // Over the payer's limit nothing is claimed, so the same payment works once a slot is free.
      const release = (await options.limits?.payerSlot(payer)) ?? (async () => {});
      const jobId = `job_${randomBytes(16).toString("base64url")}`;
      let claimed;
      try {
        claimed = await ledger.claim({
          paymentId: identity.id,
          jobId,
          x402Version: payment.version,
          network: identity.network,
          payer,
          amount: request.quote.total.toString(),
          priceUsd: request.quote.amount,
          model: request.model.id,
          size: request.size,
          n: request.n,
          fingerprint,
          payload: payment.payload,
          requirements,
          ...(clientId ? { paymentRef: paymentRef(payment.exact.family, payer, clientId) } : {}),
        });
      } finally {
        if (!claimed) await release();
      }
      if (!claimed) {
        // Another request claimed this payment, or this payment identifier, first.
        const first = await ledger.byPayment(identity.id);
        if (first) return replay(first);
        const holder = await ledger.byReference(refs);
        if (holder) return retried(holder, clientId!);
        throw new RetouchError(`payment identifier ${clientId} belongs to an edit that has just ended; send the request again`, {
          status: 503,
          type: "server_error",
          code: "payment_identifier_busy",
          headers: { "Retry-After": "1" },
        });
      }

      start(jobId, request, release, stream?.onPartial);
      stream?.onStarted();
      return outcome(jobId, deadline, payment.version, rethrow, clientGone);
    },

    async poll(jobId, headers, resourceUrl) {
      const row = await ledger.byJob(jobId);
      if (!row) {
        throw new RetouchError(`no job ${jobId}`, { status: 404, type: "invalid_request_error", code: "job_not_found", param: "id" });
      }
      const proof = headers.get(SIWX_HEADER);
      let version = row.x402Version;
      if (proof !== null) await siwx.prove(proof, jobOf(row));
      else version = await proveByPayment(row, headers, resourceUrl);
      // Read again inside outcome(): the edit may have failed while the wallet was proven.
      return outcome(jobId, Date.now(), version, failedJob);
    },

    resolve: ({ edit, was }) => settleRow(edit, was !== "completed"),

    async idle() {
      while (running.size > 0) await Promise.allSettled([...running.values()]);
    },
  };
}

/** A payment identifier in the ledger is its payer's: "payer:id" (EVM addresses in lower case). */
function paymentRef(family: ExactPayment["family"], payer: string, id: string): string {
  return `${family === "evm" ? payer.toLowerCase() : payer}:${id}`;
}

/** The keys this payment's identifier may be held under: its EVM payer, or any signer of its Solana transaction. */
function candidateRefs(payment: ExactPayment, id: string): string[] {
  return payment.family === "evm" ? [paymentRef("evm", payment.authorization.from, id)] : payment.solana.signers.map((signer) => paymentRef("svm", signer, id));
}

/** An interrupted edit runs again only if its authorization stays valid at least this long: time to edit and settle. */
const RERUN_MARGIN_MS = 60_000;

/** When an EVM authorization stops being valid (ms), from the payload the ledger holds; undefined on Solana (its blockhash decides). */
function authorizationExpiry(payload: unknown): number | undefined {
  const validBefore = (payload as { payload?: { authorization?: { validBefore?: unknown } } }).payload?.authorization?.validBefore;
  return typeof validBefore === "string" && /^\d+$/.test(validBefore) ? Number(validBefore) * 1000 : undefined;
}
