// Proves the paying wallet to a job's poll URL with Sign-In-With-X (x402's
// `sign-in-with-x` extension, CAIP-122): finds the gateway's challenge, checks that it
// is bound to the gateway's own origin and to this job's poll URL, and signs it with
// the wallet that paid (SIWE personal_sign on Base, SIWS ed25519 on Solana). A login
// message, never a payment: nothing it signs can move money.

import { decodePaymentRequiredHeader } from "@x402/core/http";
import { assertSIWxChallengeBoundToOrigin, createSIWxPayload, encodeSIWxHeader, SIGN_IN_WITH_X, type SIWxSigner } from "@x402/extensions/sign-in-with-x";
import { z } from "zod";
import type { Network } from "../chains/index.ts";
import type { Wallet } from "./wallet-file.ts";

/** The request header that carries a signed challenge (x402 v2). */
export const SIWX_HEADER = "SIGN-IN-WITH-X";

const line = z.string().refine((s) => !/[\r\n]/.test(s), "must be one line");

const Challenge = z.object({
  info: z.object({
    domain: line,
    uri: line,
    statement: line.optional(),
    version: line,
    nonce: line,
    issuedAt: line,
    expirationTime: line.optional(),
    notBefore: line.optional(),
    requestId: line.optional(),
    resources: z.array(line).optional(),
  }),
  supportedChains: z.array(z.object({ chainId: z.string(), type: z.enum(["eip191", "ed25519"]), signatureScheme: z.string().optional() })).min(1),
});

export type SiwxChallenge = z.infer<typeof Challenge>;

/** Why a challenge was not signed; the caller names the gateway and the job. */
export class ChallengeRefused extends Error {
  override name = "ChallengeRefused";
}

/**
 * The SIWx challenge of an answer: in PAYMENT-REQUIRED's `extensions` (a 401/402), else
 * in the JSON body's `extensions` (a 202); undefined when there is none or it is malformed.
 */
export function challengeIn(headers: Headers, body?: unknown): SiwxChallenge | undefined {
  const candidates: unknown[] = [];
  const required = headers.get("payment-required");
  if (required) {
    try {
      candidates.push(decodePaymentRequiredHeader(required).extensions?.[SIGN_IN_WITH_X]);
    } catch {
      // not x402: no challenge there
    }
  }
  if (body && typeof body === "object") candidates.push((body as { extensions?: Record<string, unknown> }).extensions?.[SIGN_IN_WITH_X]);
  for (const candidate of candidates) {
    const parsed = Challenge.safeParse(candidate);
    if (parsed.success) return parsed.data;
  }
  return undefined;
}

/**
 * The SIGN-IN-WITH-X header value for `pollUrl`, signed on `network` by `signer`: the wallet that
 * paid (a viem account or wallet client on Base, a @solana/kit signer or a wallet's signMessage on Solana).
 * @throws ChallengeRefused when the challenge is for another origin, another resource or another chain.
 */
export async function signPollChallenge(params: {
  challenge: SiwxChallenge;
  gateway: string;
  pollUrl: string;
  signer: SIWxSigner;
  network: Pick<Network, "caip2" | "family">;
}): Promise<string> {
  const { challenge, pollUrl, network } = params;
  const origin = new URL(params.gateway).origin;
  const { info } = challenge;
  try {
    assertSIWxChallengeBoundToOrigin(info, origin);
  } catch (error) {
    throw new ChallengeRefused(`its sign-in challenge is for another site (${(error as Error).message})`);
  }
  const onGateway = (url: string) => {
    try {
      return new URL(url).origin === origin;
    } catch {
      return false;
    }
  };
  if (!(info.resources ?? []).every(onGateway)) throw new ChallengeRefused(`its sign-in challenge lists resources of another site (${info.resources!.join(", ")})`);
  if (!isFor(info.uri, pollUrl) && !(info.resources ?? []).some((r) => isFor(r, pollUrl))) {
    throw new ChallengeRefused(`its sign-in challenge is for ${info.uri}, not for this job's ${pollUrl}`);
  }
  const type = network.family === "evm" ? "eip191" : "ed25519";
  const chain = challenge.supportedChains.find((c) => c.chainId === network.caip2 && c.type === type);
  if (!chain) {
    throw new ChallengeRefused(`its sign-in challenge does not take the wallet that paid (${network.caip2}; it offers ${challenge.supportedChains.map((c) => c.chainId).join(", ")})`);
  }
  try {
    const payload = await createSIWxPayload({ ...info, chainId: chain.chainId, type: chain.type }, params.signer, origin);
    return encodeSIWxHeader(payload);
  } catch (error) {
    throw new ChallengeRefused(`its sign-in challenge cannot be signed (${(error as Error).message})`);
  }
}

/** What signs sign-in messages on `network` in a wallet file: its viem account or its Solana key pair signer. */
export function siwxSigner(wallet: Wallet, network: Pick<Network, "family">): SIWxSigner {
  return (network.family === "evm" ? wallet.evm : wallet.solana) as unknown as SIWxSigner;
}

/** Same origin and path (a query string does not make it another resource). */
function isFor(uri: string, pollUrl: string): boolean {
  try {
    const a = new URL(uri);
    const b = new URL(pollUrl);
    return a.origin === b.origin && a.pathname === b.pathname;
  } catch {
    return false;
  }
}
