// The x402 facilitator running inside the gateway against the devchain:
// real signature checks, real EVM and SVM execution, no HTTP hop.

import { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { ExactEvmSchemeV1 } from "@x402/evm/exact/v1/facilitator";
import { SettlementCache, toFacilitatorSvmSigner } from "@x402/svm";
import { ExactSvmScheme } from "@x402/svm/exact/facilitator";
import { ExactSvmSchemeV1 } from "@x402/svm/exact/v1/facilitator";
import { BASE, SOLANA, type Devchain } from "../../chains/index.ts";
import type { SolanaFeeLimits } from "../solana-transaction.ts";
import type { Facilitator } from "./types.ts";

/** x402's own ceilings, used when no limits are given (the HTTP facilitator of the tests). */
const X402_FEE_LIMITS: SolanaFeeLimits = { maxComputeUnits: 1_400_000, maxPriorityFeeMicroLamports: 5_000_000 };

/** The x402Facilitator object itself, for the loopback HTTP facilitator of the tests. */
export function devchainX402Facilitator(devchain: Devchain, solanaFees: SolanaFeeLimits = X402_FEE_LIMITS): x402Facilitator {
  const client = devchain.evm.facilitator.client;
  const evmSigner = toFacilitatorEvmSigner({
    address: client.account.address,
    readContract: (args) => client.readContract(args as never),
    verifyTypedData: (args) => client.verifyTypedData(args as never),
    writeContract: (args) => client.writeContract(args as never),
    sendTransaction: (args) => client.sendTransaction(args as never),
    waitForTransactionReceipt: (args) => client.waitForTransactionReceipt(args as never),
    getCode: (args) => client.getCode(args as never),
  });
  // A map, not the Rpc itself: x402 tests `"getBalance" in rpc`, which a kit Rpc proxy fails.
  // Keyed by both names: the v1 scheme looks the network up as "solana".
  const svmSigner = toFacilitatorSvmSigner(devchain.solana.facilitator.signer, {
    [devchain.solana.network]: devchain.solana.rpc,
    [SOLANA.name]: devchain.solana.rpc,
  } as never);
  // One duplicate cache for v1 and v2 (the ledger is what really refuses a second use).
  const settlements = new SettlementCache();
  return new x402Facilitator()
    .register(BASE.caip2, new ExactEvmScheme(evmSigner))
    .registerV1(BASE.name as never, new ExactEvmSchemeV1(evmSigner) as never)
    .register(SOLANA.caip2, new ExactSvmScheme(svmSigner, settlements, solanaFees))
    .registerV1(SOLANA.name as never, new ExactSvmSchemeV1(svmSigner, settlements) as never);
}

export function inProcessFacilitator(devchain: Devchain, solanaFees: SolanaFeeLimits): Facilitator {
  const facilitator = devchainX402Facilitator(devchain, solanaFees);
  return {
    verify: (payload, requirements) => facilitator.verify(payload as PaymentPayload, requirements as PaymentRequirements),
    settle: (payload, requirements) => facilitator.settle(payload as PaymentPayload, requirements as PaymentRequirements),
    supported: async () => facilitator.getSupported() as never,
  };
}
