// A facilitator that verifies and settles on the chains itself, paying gas from
// its own wallet: x402's reference schemes (@x402/evm, @x402/svm) over viem and
// @solana/kit clients. The devchain mode (in-process clients), `self` mode and
// `retouch facilitator` (RPC URLs) all build theirs here.

import { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { ExactEvmSchemeV1 } from "@x402/evm/exact/v1/facilitator";
import { SettlementCache, toFacilitatorSvmSigner } from "@x402/svm";
import { ExactSvmScheme } from "@x402/svm/exact/facilitator";
import { ExactSvmSchemeV1 } from "@x402/svm/exact/v1/facilitator";
import type { KeyPairSigner, Rpc, SolanaRpcApiMainnet } from "@solana/kit";
import { gasAhead, type EvmSignerClient } from "../../chains/evm-signer.ts";
import type { EvmNetwork, SvmNetwork } from "../../chains/index.ts";
import type { SolanaFeeLimits } from "../solana-transaction.ts";
import type { Facilitator } from "./types.ts";

/** x402's own ceilings, used when no limits are given (the HTTP facilitator of the tests). */
export const X402_FEE_LIMITS: SolanaFeeLimits = { maxComputeUnits: 1_400_000, maxPriorityFeeMicroLamports: 5_000_000 };

/** The EIP-3009 call an exact EVM payment settles with. */
const SETTLING_FUNCTION = "transferWithAuthorization";

/** What the facilitator settles with: a signing client per EVM network, one Solana fee payer and an RPC per Solana network. */
export interface ChainAccess {
  evm: { network: EvmNetwork; client: EvmSignerClient }[];
  svm: { network: SvmNetwork; rpc: Rpc<SolanaRpcApiMainnet> }[];
  /** The Solana fee payer; required when `svm` is not empty. */
  svmSigner?: KeyPairSigner;
}

/** x402's facilitator object for these chains, exact scheme, x402 v1 and v2. */
export function chainX402Facilitator(chains: ChainAccess, solanaFees: SolanaFeeLimits = X402_FEE_LIMITS): x402Facilitator {
  const facilitator = new x402Facilitator();
  for (const { network, client } of chains.evm) {
    const ahead = gasAhead(client);
    const signer = toFacilitatorEvmSigner({
      address: client.account.address,
      readContract: async (args) => {
        const result = await client.readContract(args as never);
        // x402's verify simulates the transfer it will settle: its gas can be known before the edit.
        if (args.functionName === SETTLING_FUNCTION) ahead.start(args as never);
        return result;
      },
      verifyTypedData: (args) => client.verifyTypedData(args as never),
      writeContract: async (args) => {
        const gas = args.functionName === SETTLING_FUNCTION ? await ahead.take(args as never) : undefined;
        return client.writeContract((gas === undefined ? args : { ...args, gas }) as never);
      },
      sendTransaction: (args) => client.sendTransaction(args as never),
      waitForTransactionReceipt: (args) => client.waitForTransactionReceipt(args as never),
      getCode: (args) => client.getCode(args as never),
    });
    facilitator.register(network.caip2, new ExactEvmScheme(signer));
    facilitator.registerV1(network.name as never, new ExactEvmSchemeV1(signer) as never);
  }
  if (chains.svm.length > 0) {
    if (!chains.svmSigner) throw new TypeError("a Solana facilitator needs its fee payer's signer");
    // A map, not an Rpc: x402 tests `"getBalance" in rpc`, which a kit Rpc proxy fails.
    // Keyed by both names: the v1 scheme looks the network up by its v1 name.
    const rpcs = Object.fromEntries(chains.svm.flatMap(({ network, rpc }) => [[network.caip2, rpc], [network.name, rpc]]));
    const signer = toFacilitatorSvmSigner(chains.svmSigner, rpcs as never);
    // One duplicate cache for v1 and v2 (the ledger is what really refuses a second use).
    const settlements = new SettlementCache();
    for (const { network } of chains.svm) {
      facilitator.register(network.caip2, new ExactSvmScheme(signer, settlements, solanaFees));
      facilitator.registerV1(network.name as never, new ExactSvmSchemeV1(signer, settlements) as never);
    }
  }
  return facilitator;
}

/** The gateway's Facilitator port over an x402 facilitator object in this process. */
export function localFacilitator(facilitator: x402Facilitator): Facilitator {
  return {
    verify: (payload, requirements) => facilitator.verify(payload as PaymentPayload, requirements as PaymentRequirements),
    settle: (payload, requirements) => facilitator.settle(payload as PaymentPayload, requirements as PaymentRequirements),
    supported: async () => facilitator.getSupported() as never,
  };
}
