// What a wallet holds on one network: USDC (atomic units, 6 decimals) and the
// chain's gas coin, read over JSON-RPC (viem for EVM, @solana/kit for Solana).

import { address, createSolanaRpc } from "@solana/kit";
import { createPublicClient, erc20Abi, http } from "viem";
import type { Network } from "../chains/index.ts";
import { rpcUnreachable, type RpcEndpoint } from "./rpc.ts";
import type { Wallet } from "./wallet-file.ts";

export interface Balance {
  network: Network;
  address: string;
  /** USDC atomic units (6 decimals). */
  usdc: bigint;
  /** wei (ETH, 18 decimals) or lamports (SOL, 9 decimals). */
  gas: bigint;
  gasSymbol: "ETH" | "SOL";
  gasDecimals: number;
}

/** `asset` overrides the network's USDC address/mint (the gateway's 402 names the one it wants). */
export async function readBalance(params: { network: Network; wallet: Wallet; rpcUrl: string; asset?: string }): Promise<Balance> {
  const { network, wallet, rpcUrl } = params;
  if (network.family === "evm") {
    const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) });
    const owner = wallet.evm.address;
    const token = (params.asset ?? network.usdc.address) as `0x${string}`;
    const [gas, usdc] = await Promise.all([
      client.getBalance({ address: owner }),
      client.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [owner] }),
    ]);
    return { network, address: owner, usdc, gas, gasSymbol: "ETH", gasDecimals: 18 };
  }
  const rpc = createSolanaRpc(rpcUrl);
  const owner = wallet.solana.address;
  const mint = address(params.asset ?? network.usdc.mint);
  const [{ value: lamports }, { value: accounts }] = await Promise.all([
    rpc.getBalance(owner).send(),
    rpc.getTokenAccountsByOwner(owner, { mint }, { encoding: "base64" }).send(),
  ]);
  const amounts = await Promise.all(accounts.map(async ({ pubkey }) => BigInt((await rpc.getTokenAccountBalance(pubkey).send()).value.amount)));
  return { network, address: owner, usdc: amounts.reduce((a, b) => a + b, 0n), gas: lamports, gasSymbol: "SOL", gasDecimals: 9 };
}

/** 1234567n, 6 -> "1.234567"; trailing zeros trimmed, at least 2 decimals. */
export function formatUnits(value: bigint, decimals: number, minDecimals = 2): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  let fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
  fraction = fraction.padEnd(Math.min(minDecimals, decimals), "0");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** readBalance from a planned endpoint; an RPC that does not answer is exit 5 naming what to set. */
export async function readBalanceFrom(params: { network: Network; wallet: Wallet; endpoint: RpcEndpoint; asset?: string }): Promise<Balance> {
  try {
    return await readBalance({ network: params.network, wallet: params.wallet, rpcUrl: params.endpoint.url, asset: params.asset });
  } catch (error) {
    throw rpcUnreachable(params.network, params.endpoint, error);
  }
}
