// Picks the network to pay on and signs for it: the gateway's offers, narrowed to
// --network or to those where the wallet holds enough USDC, and an x402 client
// that knows only that one network, so it can never pay on another.

import { x402Client } from "@x402/core/client";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { createPublicClient, http } from "viem";
import { base, baseSepolia } from "viem/chains";
import { NETWORKS } from "../chains/index.ts";
import { formatUnits, readBalance } from "./balances.ts";
import { CliError, EXIT, shortReason } from "./errors.ts";
import type { Offer } from "./gateway.ts";
import type { Wallet } from "./wallet-file.ts";

export function quoteOf(offer: Offer): bigint {
  return BigInt(offer.requirements.amount);
}

export function usd(atomic: bigint): string {
  return `$${formatUnits(atomic, 6, 2)}`;
}

/** "eip155:8453" -> "base"; an unknown network as given. */
export function networkName(network: string): string {
  return Object.values(NETWORKS).find((n) => n.caip2 === network)?.name ?? network;
}

/**
 * The first offer (in the gateway's order) the wallet can pay; --network forces one
 * without checking the balance (the facilitator then says why, if it cannot).
 */
export async function chooseOffer(params: {
  offers: Offer[];
  wallet: Wallet;
  network?: string;
  rpcUrl(offer: Offer): string;
}): Promise<Offer> {
  const { offers, wallet, network } = params;
  if (network) {
    const forced = offers.find((o) => o.network.name === network || o.network.caip2 === network);
    if (!forced) {
      throw new CliError(`the gateway does not take payment on ${network}; it accepts ${offers.map((o) => o.network.name).join(", ")}`, EXIT.usage);
    }
    return forced;
  }
  const reasons: string[] = [];
  for (const offer of offers) {
    try {
      const balance = await readBalance({ network: offer.network, wallet, rpcUrl: params.rpcUrl(offer), asset: offer.requirements.asset });
      if (balance.usdc >= quoteOf(offer)) return offer;
      reasons.push(`${offer.network.name}: ${formatUnits(balance.usdc, 6)} USDC at ${balance.address}`);
    } catch (error) {
      reasons.push(`${offer.network.name}: balance unreadable from ${params.rpcUrl(offer)} (${shortReason(error)})`);
    }
  }
  throw new CliError(`the wallet cannot pay ${usd(quoteOf(offers[0]))} on any network the gateway accepts (${reasons.join("; ")})`, EXIT.payment);
}

/** An x402 v2 client that signs with `wallet` on `offer`'s network only. */
export function clientFor(offer: Offer, wallet: Wallet, rpcUrl: string): x402Client {
  const { network } = offer;
  if (network.family === "evm") {
    const chain = network.chainId === baseSepolia.id ? baseSepolia : base;
    const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
    return new x402Client().register(network.caip2, new ExactEvmScheme(toClientEvmSigner(wallet.evm, publicClient)));
  }
  return new x402Client().register(network.caip2, new ExactSvmScheme(wallet.solana, { rpcUrl }));
}
