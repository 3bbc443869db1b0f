// The networks retouch can be paid on: their x402 v1 names, CAIP-2 ids, chain ids
// and real USDC deployments. The devchain impersonates `base` and `solana` with these values.

export type NetworkName = "base" | "base-sepolia" | "solana" | "solana-devnet";

export interface EvmNetwork {
  readonly name: NetworkName;
  readonly family: "evm";
  /** CAIP-2 id used by x402 v2 (`eip155:<chainId>`). */
  readonly caip2: `eip155:${number}`;
  readonly chainId: number;
  readonly testnet: boolean;
  /** USDC as an EIP-3009 token; name/version are its EIP-712 domain (x402 `extra`). */
  readonly usdc: { readonly address: `0x${string}`; readonly name: string; readonly version: string; readonly decimals: number };
  readonly publicRpcUrl: string;
}

export interface SvmNetwork {
  readonly name: NetworkName;
  readonly family: "svm";
  /** CAIP-2 id used by x402 v2 (`solana:<genesis hash prefix>`). */
  readonly caip2: `solana:${string}`;
  readonly testnet: boolean;
  /** USDC as an SPL token (classic Token program). */
  readonly usdc: { readonly mint: string; readonly decimals: number };
  readonly publicRpcUrl: string;
}

export type Network = EvmNetwork | SvmNetwork;

export const BASE: EvmNetwork = {
  name: "base",
  family: "evm",
  caip2: "eip155:8453",
  chainId: 8453,
  testnet: false,
  usdc: { address: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", name: "USD Coin", version: "2", decimals: 6 },
  publicRpcUrl: "https://mainnet.base.org",
};

export const BASE_SEPOLIA: EvmNetwork = {
  name: "base-sepolia",
  family: "evm",
  caip2: "eip155:84532",
  chainId: 84532,
  testnet: true,
  // Circle named the testnet token's EIP-712 domain "USDC", not "USD Coin".
  usdc: { address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", name: "USDC", version: "2", decimals: 6 },
  publicRpcUrl: "https://sepolia.base.org",
};

export const SOLANA: SvmNetwork = {
  name: "solana",
  family: "svm",
  caip2: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
  testnet: false,
  usdc: { mint: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", decimals: 6 },
  publicRpcUrl: "https://api.mainnet-beta.solana.com",
};

export const SOLANA_DEVNET: SvmNetwork = {
  name: "solana-devnet",
  family: "svm",
  caip2: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
  testnet: true,
  usdc: { mint: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", decimals: 6 },
  publicRpcUrl: "https://api.devnet.solana.com",
};

export const NETWORKS: Readonly<Record<NetworkName, Network>> = {
  base: BASE,
  "base-sepolia": BASE_SEPOLIA,
  solana: SOLANA,
  "solana-devnet": SOLANA_DEVNET,
};

/** Finds a network by its v1 name (`base`) or its CAIP-2 id (`eip155:8453`); undefined when unknown. */
export function findNetwork(nameOrCaip2: string): Network | undefined {
  if (Object.hasOwn(NETWORKS, nameOrCaip2)) return NETWORKS[nameOrCaip2 as NetworkName];
  return Object.values(NETWORKS).find((network) => network.caip2 === nameOrCaip2);
}
