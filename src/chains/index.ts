// Public face of chains/: network definitions, and the devchain (local Base + Solana).
// Other folders import from here, never from the files behind it.

export * from "./networks.ts";
import type { Devchain, DevchainOptions } from "./devchain/index.ts";

/** Starts the devchain; loaded on first use, so importing chains/ for network facts stays cheap (no EVM bundle). */
export async function startDevchain(options?: DevchainOptions): Promise<Devchain> {
  const devchain = await import("./devchain/index.ts");
  return devchain.startDevchain(options);
}
export type { Devchain, DevchainOptions, DevNetwork } from "./devchain/index.ts";
export { loadOrCreateWallet, SELLER_WALLET_FILE } from "./devchain/wallets.ts";
export type { DevWallet } from "./devchain/wallets.ts";
export { devFaucet, FAUCET_LIMITS, FaucetRefusal, type DevFaucet, type FaucetGift } from "./devchain/faucet.ts";
export { generateWalletKeys, parseWalletKeys, WALLET_FORMAT, walletFromKeys, type Wallet, type WalletKeys } from "./wallet-keys.ts";
