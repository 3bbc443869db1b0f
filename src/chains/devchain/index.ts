// startDevchain: a local Base and a local Solana in this process, with USDC at the real addresses,
// a funded dev buyer and a gas-funded facilitator, so unmodified x402 clients pay it as if it were mainnet.
import { resolve } from "node:path";
import type { Address as EvmAddress } from "viem";
import { BASE, SOLANA, findNetwork } from "../networks.ts";
import { startEvmDevchain, type EvmDevchain } from "./evm/chain.ts";
import { rpcAccessFrom, type RpcAccess } from "./rpc-access.ts";
import { startSvmDevchain, type SvmDevchain } from "./svm/chain.ts";
import { BUYER_WALLET_FILE, FACILITATOR_WALLET_FILE, loadOrCreateWallet, SELLER_WALLET_FILE, type DevWallet } from "./wallets.ts";

export type { EvmDevchain, EvmSignerClient } from "./evm/chain.ts";
export type { SvmDevchain } from "./svm/chain.ts";
export type { DevWallet, DevWalletFile } from "./wallets.ts";
export type { RpcAccess } from "./rpc-access.ts";
export { USDC_ABI } from "./evm/contracts.ts";

/** The networks a devchain answers for: v1 names or CAIP-2 ids of Base and Solana mainnet. */
export type DevNetwork = "base" | "solana" | typeof BASE.caip2 | typeof SOLANA.caip2;

export interface DevchainOptions {
  /** Where the wallet files live; default `$RETOUCH_DATA_DIR`, else `./.retouch`. */
  dataDir?: string;
  /** EVM JSON-RPC port on 127.0.0.1; default 8545, 0 picks a free one. */
  evmPort?: number;
  /** Solana JSON-RPC port on 127.0.0.1; default 8899, 0 picks a free one. */
  solanaPort?: number;
  /** USDC (atomic units) given to the buyer on each start; default 1,000 USDC. */
  buyerUsdc?: bigint;
  /**
   * Web origins whose pages may call the JSON-RPC, such as the gateway's own (default none); a URL
   * stands for its origin. Other pages get 403; clients that send no `Origin` header (node, curl, viem, kit) are served.
   */
  allowedOrigins?: readonly string[];
  /**
   * Serve the engines' admin methods over HTTP (evm_*, personal_*, eth_sendTransaction, requestAirdrop, …),
   * for tests that need them; default `RETOUCH_DEVCHAIN_ADMIN_RPC=1`. In-process clients always have them.
   */
  adminRpc?: boolean;
}

export interface Devchain {
  readonly evm: EvmDevchain;
  readonly solana: SvmDevchain;
  readonly wallets: {
    /** The buyer, whose keys are in `$RETOUCH_DATA_DIR/dev-wallets.json`. */
    readonly buyer: DevWallet;
    /** The facilitator (pays gas, settles), keys in `dev-facilitator.json`. */
    readonly facilitator: DevWallet;
    /** The seller (receives USDC; its Solana USDC account exists), keys in `dev-seller.json`. */
    readonly seller: DevWallet;
  };
  /** USDC of `address` on the network, in atomic units (6 decimals). */
  usdcBalance(network: DevNetwork, address: string): Promise<bigint>;
  /** Adds `usdc` atomic units to `address` (and opens its Solana token account, even for 0n). */
  fundUsdc(network: DevNetwork, address: string, usdc: bigint): Promise<void>;
  /** Who may call the JSON-RPC over HTTP, and what. */
  readonly rpcAccess: RpcAccess;
  /** How long start-up took, in milliseconds. */
  readonly startupMs: number;
  /** Stops both JSON-RPC servers and the chains. Chain state is gone afterwards. */
  close(): Promise<void>;
}

export const DEFAULT_BUYER_USDC = 1_000_000_000n; // 1,000 USDC
const GAS_ETH = 10n * 10n ** 18n;
const GAS_LAMPORTS = 10n * 10n ** 9n;

/**
 * Starts both chains and funds the wallets (the buyer's USDC, the facilitator's gas, the seller's Solana USDC account). Keys persist in the data dir; balances do not (chains
 * are in memory), so every start funds the buyer afresh.
 *
 * @example
 * const devchain = await startDevchain({ evmPort: 0, solanaPort: 0, dataDir, allowedOrigins: ["http://127.0.0.1:4021"] });
 * await devchain.usdcBalance("base", devchain.wallets.buyer.evm.address); // 1_000_000_000n
 * await devchain.close();
 */
export async function startDevchain(options: DevchainOptions = {}): Promise<Devchain> {
  const started = performance.now();
  const dataDir = resolve(options.dataDir ?? process.env.RETOUCH_DATA_DIR ?? ".retouch");
  const buyerUsdc = options.buyerUsdc ?? DEFAULT_BUYER_USDC;
  const buyer = await loadOrCreateWallet(dataDir, BUYER_WALLET_FILE);
  const facilitator = await loadOrCreateWallet(dataDir, FACILITATOR_WALLET_FILE);
  const seller = await loadOrCreateWallet(dataDir, SELLER_WALLET_FILE);
  const access = rpcAccessFrom(options);

  const [evmResult, svmResult] = await Promise.allSettled([
    startEvmDevchain({ port: options.evmPort ?? 8545, buyer: buyer.evm, facilitator: facilitator.evm, buyerUsdc, gasEth: GAS_ETH, access }),
    startSvmDevchain({
      port: options.solanaPort ?? 8899,
      buyer: buyer.solana,
      facilitator: facilitator.solana,
      buyerUsdc,
      gasLamports: GAS_LAMPORTS,
      access,
    }),
  ]);
  if (evmResult.status === "rejected" || svmResult.status === "rejected") {
    // One side may be up: stop it, or its port stays taken for the next try.
    if (evmResult.status === "fulfilled") await evmResult.value.close();
    if (svmResult.status === "fulfilled") await svmResult.value.close();
    throw evmResult.status === "rejected" ? evmResult.reason : (svmResult as PromiseRejectedResult).reason;
  }
  const evm = evmResult.value;
  const solana = svmResult.value;
  // A Solana payee needs its USDC account to exist, as on mainnet.
  await solana.fund(seller.solana.address, { usdc: 0n });

  const familyOf = (network: DevNetwork) => {
    const found = findNetwork(network);
    if (found !== BASE && found !== SOLANA) throw new RangeError(`the devchain serves base and solana, not ${network}`);
    return found.family;
  };

  return {
    evm,
    solana,
    wallets: { buyer, facilitator, seller },
    rpcAccess: access,
    startupMs: performance.now() - started,
    usdcBalance: (network, address) =>
      familyOf(network) === "evm" ? evm.usdcBalance(address as EvmAddress) : solana.usdcBalance(address),
    fundUsdc: (network, address, usdc) =>
      familyOf(network) === "evm" ? evm.fund(address as EvmAddress, { usdc }) : solana.fund(address, { usdc }),
    close: async () => {
      await Promise.all([evm.close(), solana.close()]);
    },
  };
}
