// Public face of chains/: network definitions, and the devchain (local Base + Solana).
// Other folders import from here, never from the files behind it.

export * from "./networks.ts";
export { startDevchain } from "./devchain/index.ts";
export type { Devchain, DevchainOptions, DevNetwork } from "./devchain/index.ts";
export { loadOrCreateWallet } from "./devchain/wallets.ts";
export type { DevWallet } from "./devchain/wallets.ts";
