// An init script for the playground's browser tests: before the page loads,
// installs the test's wallets as extensions would (window.ethereum, and a
// Wallet Standard Solana wallet) over the keys the test put in
// globalThis.__testWallets. Bundled with esbuild.

import type { Hex } from "viem";
import { eip1193Wallet, registerSolanaWallet } from "./test-wallets.ts";

// Init scripts also run in the blank document a tab starts with; wallets live in real pages only.
const inPage = (globalThis as { location?: { protocol: string } }).location?.protocol.startsWith("http") ?? false;
const keys = (inPage && (globalThis as { __testWallets?: { evmKey?: Hex; solanaSecretKey?: string } }).__testWallets) || {};
if (keys.evmKey) (globalThis as { ethereum?: unknown }).ethereum = eip1193Wallet(keys.evmKey, 1);
if (keys.solanaSecretKey) void registerSolanaWallet("Test Solana Wallet", keys.solanaSecretKey);
