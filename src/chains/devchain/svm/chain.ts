// The local Solana: LiteSVM with the USDC mint at its mainnet address, funded wallets, JSON-RPC on
// loopback, and an in-process kit Rpc that answers through the very same method handlers.
import {
  address,
  createSolanaRpcFromTransport,
  lamports,
  type Address,
  type KeyPairSigner,
  type RpcMainnet,
  type RpcTransportMainnet,
  type SolanaRpcApiMainnet,
} from "@solana/kit";
import type { LiteSVM } from "litesvm";
import { SOLANA } from "../../networks.ts";
import { once } from "../once.ts";
import { PUBLIC_SOLANA_METHODS, publicMethodsOnly, type RpcAccess } from "../rpc-access.ts";
import { handleCall, startRpcServer } from "../rpc-server.ts";
import { createSolanaRpcHandler } from "./rpc.ts";
import { addTokens, installMint, tokenBalance } from "./token.ts";
import { TransactionRunner } from "./transactions.ts";

export interface SvmDevchain {
  /** JSON-RPC URL for x402 clients (`ExactSvmScheme(signer, { rpcUrl })`) and wallets (127.0.0.1 only). */
  readonly rpcUrl: string;
  /** CAIP-2 id of Solana mainnet, which the devchain poses as. */
  readonly network: `solana:${string}`;
  /** The LiteSVM instance itself, for direct state access in tests. */
  readonly svm: LiteSVM;
  /** USDC mint, at mainnet USDC's address. */
  readonly usdcMint: Address;
  /**
   * A kit Rpc served in-process (no HTTP hop), typed as mainnet like the devchain's CAIP-2 id.
   * Give it to x402 as a map, `toFacilitatorSvmSigner(signer, { [network]: rpc })`: passed bare, x402's
   * `"getBalance" in rpc` test fails on kit's Proxy and the Rpc is misread as a per-network map.
   */
  readonly rpc: RpcMainnet<SolanaRpcApiMainnet>;
  readonly facilitator: { readonly signer: KeyPairSigner };
  readonly buyer: { readonly signer: KeyPairSigner };
  /** USDC held by `owner` in its associated token account (0 when it has none). */
  usdcBalance(owner: Address | string): Promise<bigint>;
  solBalance(owner: Address | string): Promise<bigint>;
  /** Airdrops `sol` lamports and/or adds `usdc` atomic units; `usdc: 0n` just opens the owner's USDC account. */
  fund(owner: Address | string, amounts: { sol?: bigint; usdc?: bigint }): Promise<void>;
  close(): Promise<void>;
}

export interface SvmDevchainOptions {
  port: number;
  buyer: KeyPairSigner;
  facilitator: KeyPairSigner;
  buyerUsdc: bigint;
  gasLamports: bigint;
  /** Who may call the HTTP JSON-RPC, and what (the in-process `rpc` answers every method). */
  access: RpcAccess;
}

export async function startSvmDevchain(options: SvmDevchainOptions): Promise<SvmDevchain> {
  // Loaded on demand: a native module that only the devchain needs.
  const { LiteSVM } = await import("litesvm");
  const svm = new LiteSVM();
  const usdcMint = address(SOLANA.usdc.mint);
  installMint(svm, usdcMint, SOLANA.usdc.decimals);
  const runner = new TransactionRunner(svm);

  async function fund(owner: Address | string, { sol, usdc }: { sol?: bigint; usdc?: bigint }): Promise<void> {
    if (sol !== undefined && sol > 0n) runner.airdrop(address(owner), sol);
    if (usdc !== undefined) await addTokens(svm, usdcMint, address(owner), usdc);
  }
  await fund(options.buyer.address, { sol: options.gasLamports, usdc: options.buyerUsdc });
  await fund(options.facilitator.address, { sol: options.gasLamports });

  const handler = createSolanaRpcHandler(svm, runner);
  const server = await startRpcServer({
    port: options.port,
    allowedOrigins: options.access.allowedOrigins,
    handler: publicMethodsOnly(handler, (method) => PUBLIC_SOLANA_METHODS.has(method), options.access.adminRpc),
  });
  const transport = (async ({ payload }: { payload: unknown }) => {
    const { id, method, params } = payload as { id?: unknown; method: string; params?: unknown };
    return handleCall(id ?? null, method, params, handler);
  }) as RpcTransportMainnet;

  return {
    rpcUrl: server.url,
    network: SOLANA.caip2,
    svm,
    usdcMint,
    rpc: createSolanaRpcFromTransport(transport),
    facilitator: { signer: options.facilitator },
    buyer: { signer: options.buyer },
    usdcBalance: (owner) => tokenBalance(svm, usdcMint, address(owner)),
    solBalance: async (owner) => svm.getBalance(address(owner)) ?? lamports(0n),
    fund,
    close: once(() => server.close()),
  };
}
