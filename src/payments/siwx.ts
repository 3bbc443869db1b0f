// Sign-In-With-X for polls (x402's `sign-in-with-x` extension, CAIP-122): a poll proves the
// wallet that paid by signing a login message bound to this gateway's origin, to one job's
// poll URL and to a single-use nonce the gateway issued; a login message cannot move money.

import { randomBytes } from "node:crypto";
import {
  buildSIWxSchema,
  parseSIWxHeader,
  SIGN_IN_WITH_X,
  validateSIWxMessage,
  verifySIWxSignature,
  type SIWxExtension,
  type SIWxPayload,
  type SIWxValidationCode,
} from "@x402/extensions/sign-in-with-x";
import { RetouchError } from "../errors.ts";
import type { SiwxNonces } from "./ledger/siwx-nonces.ts";
import { encodeHeader, HEADERS } from "./protocol.ts";
import { paymentRequired, type PaymentTerms } from "./requirements.ts";

/** The request header carrying a signed challenge: base64 of the JSON proof (x402 v2). */
export const SIWX_HEADER = "SIGN-IN-WITH-X";
/** The key of the challenge in `extensions` (PAYMENT-REQUIRED, and the 202 body). */
export const SIWX_EXTENSION = SIGN_IN_WITH_X;
export const DEFAULT_SIWX_TTL_SECONDS = 300;
const MAX_HEADER_CHARS = 16_384;

export type SiwxChallenge = SIWxExtension;

/** The job a poll asks about, as the ledger knows it. */
export interface SiwxJob {
  jobId: string;
  pollUrl: string;
  /** CAIP-2 network the job was paid on: only a wallet of that chain can be the payer. */
  network: string;
  payer: string;
}

export interface SiwxGate {
  /** A fresh challenge for polling `job`: its nonce is recorded for that job, expires after the TTL, and works once. */
  challenge(job: SiwxJob): Promise<SiwxChallenge>;
  /**
   * Checks a SIGN-IN-WITH-X header against `job` and spends its nonce.
   * @returns the address that signed, which is the job's payer
   * @throws RetouchError 400 when the header is not a proof, 403 saying which check failed otherwise
   */
  prove(header: string, job: SiwxJob): Promise<string>;
}

export interface SiwxGateOptions {
  /** RETOUCH_PUBLIC_URL: the origin every challenge is bound to (never the request's Host). */
  publicUrl: string;
  nonces: SiwxNonces;
  ttlSeconds?: number;
  /** The clock, in ms since the epoch. */
  now?: () => number;
}

/**
 * @example
 * const gate = createSiwxGate({ publicUrl: "https://edit.example", nonces: ledger.nonces });
 * const challenge = await gate.challenge(job); // goes out in the 202 and in the poll's 402
 * const payer = await gate.prove(request.headers.get(SIWX_HEADER)!, job);
 */
export function createSiwxGate(options: SiwxGateOptions): SiwxGate {
  const origin = new URL(new URL(options.publicUrl).origin);
  const ttlMs = (options.ttlSeconds ?? DEFAULT_SIWX_TTL_SECONDS) * 1000;
  const now = options.now ?? Date.now;
  const { nonces } = options;

  return {
    async challenge(job) {
      const issued = now();
      const nonce = randomBytes(16).toString("hex");
      const issuedAt = new Date(issued);
      const expiresAt = new Date(issued + ttlMs);
      await nonces.issue({ nonce, jobId: job.jobId, issuedAt, expiresAt });
      const solana = job.network.startsWith("solana:");
      return {
        info: {
          domain: origin.host,
          uri: job.pollUrl,
          statement: `Sign in to poll ${job.jobId}, the image edit you paid for. This is not a payment and cannot move money.`,
          version: "1",
          nonce,
          issuedAt: issuedAt.toISOString(),
          expirationTime: expiresAt.toISOString(),
          resources: [job.pollUrl],
        },
        supportedChains: [{ chainId: job.network, type: solana ? "ed25519" : "eip191", signatureScheme: solana ? "siws" : "eip191" }],
        schema: buildSIWxSchema(),
      };
    },

    async prove(header, job) {
      const proof = parse(header);
      const fields = await validateSIWxMessage(proof, origin, { maxAge: ttlMs });
      if (!fields.isValid) throw refusalOf(fields.invalidReason, fields.invalidMessage, proof, origin);
      if (!samePlace(proof.uri, job.pollUrl)) {
        throw forbidden("siwx_wrong_job", `this sign-in was signed for ${proof.uri}, not for this job (${job.pollUrl})`);
      }
      const issued = await nonces.find(proof.nonce);
      if (!issued) {
        throw forbidden("siwx_unknown_nonce", `this gateway never issued nonce ${proof.nonce}; sign the challenge of the job's latest 202 or 402`);
      }
      if (issued.jobId !== job.jobId) throw forbidden("siwx_wrong_job", `this sign-in's challenge was issued for another job, not ${job.jobId}`);
      if (issued.usedAt) throw replayed(issued.usedAt);
      if (issued.expiresAt.getTime() <= now()) {
        throw forbidden("siwx_expired", `this sign-in expired at ${issued.expiresAt.toISOString()}; sign a fresh challenge`);
      }
      if (proof.chainId !== job.network) {
        throw forbidden("wrong_wallet", `job ${job.jobId} was paid on ${job.network}; this sign-in is from a wallet on ${proof.chainId}`);
      }
      const address = await signer(proof);
      const evm = job.network.startsWith("eip155:");
      if (evm ? address.toLowerCase() !== job.payer.toLowerCase() : address !== job.payer) {
        throw forbidden("wrong_wallet", `job ${job.jobId} was paid for by another wallet`);
      }
      if (!(await nonces.use(proof.nonce, address))) throw replayed(new Date());
      return address;
    },
  };
}

/** A 402 for a poll without proof: a fresh challenge, and the job's terms for clients that still prove with a payment (deprecated). */
export function signInRequired(terms: PaymentTerms, network: string, reason: string, challenge: SiwxChallenge): RetouchError {
  // The job's own network first: @x402/extensions' fetch wrapper signs for the chain of accepts[0].
  const first = Math.max(0, terms.v2.findIndex((requirement) => requirement.network === network));
  const order = [first, ...terms.v2.map((_, i) => i).filter((i) => i !== first)];
  const ordered: PaymentTerms = { resource: terms.resource, v2: order.map((i) => terms.v2[i]), v1: order.map((i) => terms.v1[i]) };
  const { header, body } = paymentRequired(ordered, reason);
  const extensions = { [SIWX_EXTENSION]: challenge };
  return new RetouchError(reason, {
    status: 402,
    type: "payment_required",
    code: "sign_in_required",
    headers: { [HEADERS.required]: encodeHeader({ ...header, extensions }) },
    body: { ...body, extensions },
  });
}

/** The challenge on a 202: in the body's `extensions` and in a PAYMENT-REQUIRED header that asks for no payment (`accepts: []`). */
export function advertised(challenge: SiwxChallenge): { header: Record<string, string>; extensions: Record<string, SiwxChallenge> } {
  const extensions = { [SIWX_EXTENSION]: challenge };
  const resource = { url: challenge.info.uri, description: "poll of a paid image edit", mimeType: "application/json" };
  return { header: { [HEADERS.required]: encodeHeader({ x402Version: 2, resource, accepts: [], extensions }) }, extensions };
}

function parse(header: string): SIWxPayload {
  if (header.length > MAX_HEADER_CHARS) throw malformed(`it is longer than ${MAX_HEADER_CHARS} characters`);
  try {
    return parseSIWxHeader(header.trim());
  } catch (error) {
    throw malformed((error as Error).message.replace(/^Invalid SIWX header: /, ""));
  }
}

/** The address whose signature this is, by the chain's rules: SIWE (EIP-191) on eip155, SIWS (ed25519) on solana. */
async function signer(proof: SIWxPayload): Promise<string> {
  let verdict;
  try {
    verdict = await verifySIWxSignature(proof);
  } catch (error) {
    // The SIWE parser refuses what EIP-4361 forbids (an address that is not 20 bytes of hex, a short
    // nonce); its first line says where ("line 2: invalid address"), the rest is its parser's state.
    throw malformed(`it is not a valid sign-in message: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!verdict.isValid) throw forbidden("siwx_bad_signature", `the signature does not match the sign-in message and ${proof.address}: ${verdict.invalidMessage}`);
  return verdict.payer;
}

function refusalOf(reason: SIWxValidationCode, detail: string, proof: SIWxPayload, origin: URL): RetouchError {
  switch (reason) {
    case "invalid_siwx_domain_mismatch":
    case "invalid_siwx_uri_mismatch":
      return forbidden("siwx_wrong_origin", `this sign-in was signed for ${proof.domain} (${proof.uri}), not for this gateway (${origin.origin})`);
    case "invalid_siwx_expired":
    case "invalid_siwx_issued_at_too_old":
      return forbidden("siwx_expired", `this sign-in has expired (${detail}); sign a fresh challenge`);
    case "invalid_siwx_issued_at_in_future":
    case "invalid_siwx_not_yet_valid":
      return forbidden("siwx_not_yet_valid", `this sign-in is not valid yet (${detail})`);
    default:
      return malformed(detail);
  }
}

/** `proof` passed validateSIWxMessage, so its URI is a URL of this origin; `pollUrl` is one of ours. */
function samePlace(proofUri: string, pollUrl: string): boolean {
  return new URL(proofUri).href === new URL(pollUrl).href;
}

function replayed(at: Date): RetouchError {
  return forbidden("siwx_replayed", `this sign-in was already used (at ${at.toISOString()}); each poll signs a fresh challenge`);
}

function forbidden(code: string, message: string): RetouchError {
  return new RetouchError(message, { status: 403, type: "invalid_request_error", code, param: SIWX_HEADER });
}

function malformed(why: string): RetouchError {
  return new RetouchError(`${SIWX_HEADER} header is not a sign-in proof: ${why}`, {
    status: 400,
    type: "invalid_request_error",
    code: "siwx_malformed",
    param: SIWX_HEADER,
  });
}
