// The x402 facilitator running inside the gateway against the devchain:
// real signature checks, real EVM and SVM execution, no HTTP hop.

import type { x402Facilitator } from "@x402/core/facilitator";
import { BASE, SOLANA, type Devchain } from "../../chains/index.ts";
import type { SolanaFeeLimits } from "../solana-transaction.ts";
import { chainX402Facilitator, localFacilitator, X402_FEE_LIMITS, type ChainAccess } from "./chain.ts";
import type { Facilitator } from "./types.ts";

/** The devchain's facilitator wallet on its two chains, through in-process clients. */
export function devchainAccess(devchain: Devchain): ChainAccess {
  return {
    evm: [{ network: BASE, client: devchain.evm.facilitator.client }],
    svm: [{ network: SOLANA, rpc: devchain.solana.rpc }],
    svmSigner: devchain.solana.facilitator.signer,
  };
}

/** The x402Facilitator object itself, for `retouch devchain`'s facilitator service and the tests' HTTP facilitator. */
export function devchainX402Facilitator(devchain: Devchain, solanaFees: SolanaFeeLimits = X402_FEE_LIMITS): x402Facilitator {
  return chainX402Facilitator(devchainAccess(devchain), solanaFees);
}

export function inProcessFacilitator(devchain: Devchain, solanaFees: SolanaFeeLimits): Facilitator {
  return localFacilitator(devchainX402Facilitator(devchain, solanaFees));
}
