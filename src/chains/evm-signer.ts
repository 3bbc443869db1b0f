// The facilitator's EVM wallet: a viem wallet client that can also read, whose
// sends go through one queue so that concurrent settlements never reuse a nonce.

import { createWalletClient, defineChain, http, publicActions, type Chain, type PublicActions, type Transport, type WalletClient } from "viem";
import { sendTransaction, writeContract } from "viem/actions";
import type { PrivateKeyAccount } from "viem/accounts";
import { createMutex } from "./mutex.ts";
import type { EvmNetwork } from "./networks.ts";

/** A viem wallet client that can also read: what x402's toFacilitatorEvmSigner wraps. */
export type EvmSignerClient = WalletClient<Transport, Chain, PrivateKeyAccount> & PublicActions<Transport, Chain, PrivateKeyAccount>;

/**
 * Routes the client's sends through one queue. Each send reads the pending nonce and then broadcasts;
 * two settles interleaving those steps would reuse a nonce (the "nonce too low" failures x402
 * facilitators are known for). The actions are called on the unwrapped client, so a writeContract
 * that sends internally does not wait for itself.
 */
export function serializedSignerClient(client: EvmSignerClient): EvmSignerClient {
  const exclusive = createMutex();
  return client.extend((inner) => ({
    sendTransaction: ((args: Parameters<EvmSignerClient["sendTransaction"]>[0]) =>
      exclusive(() => sendTransaction(inner, args))) as EvmSignerClient["sendTransaction"],
    writeContract: ((args: Parameters<EvmSignerClient["writeContract"]>[0]) =>
      exclusive(() => writeContract(inner, args))) as EvmSignerClient["writeContract"],
  })) as EvmSignerClient;
}

/** The signer client of `account` on `network` through the JSON-RPC at `rpcUrl` (mainnet, a testnet, or a devchain posing as one). */
export function rpcSignerClient(account: PrivateKeyAccount, network: EvmNetwork, rpcUrl: string): EvmSignerClient {
  const chain = defineChain({
    id: network.chainId,
    name: network.name,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  // A second's polling: a Base block is 2 s, and a receipt is what a settlement waits for.
  const client = createWalletClient({ account, chain, transport: http(rpcUrl, { timeout: 30_000 }), pollingInterval: 1_000 }).extend(publicActions);
  return serializedSignerClient(client as EvmSignerClient);
}
