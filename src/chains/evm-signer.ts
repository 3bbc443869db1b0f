// The facilitator's EVM wallet: a viem wallet client that can also read, whose
// sends go through one queue so that concurrent settlements never reuse a nonce.

import {
  createWalletClient,
  defineChain,
  encodeFunctionData,
  getContractError,
  http,
  publicActions,
  BaseError,
  NonceTooHighError,
  NonceTooLowError,
  type Hash,
  type Chain,
  type Client,
  type PublicActions,
  type SendTransactionParameters,
  type Transport,
  type WalletClient,
  type WriteContractParameters,
} from "viem";
import { getTransactionCount, prepareTransactionRequest, sendTransaction } from "viem/actions";
import type { PrivateKeyAccount } from "viem/accounts";
import { createMutex } from "./mutex.ts";
import type { EvmNetwork } from "./networks.ts";

/** A viem wallet client that can also read: what x402's toFacilitatorEvmSigner wraps. */
export type EvmSignerClient = WalletClient<Transport, Chain, PrivateKeyAccount> & PublicActions<Transport, Chain, PrivateKeyAccount>;

type SigningClient = Client<Transport, Chain, PrivateKeyAccount>;

const NONCE_RECOUNT_MS = 5_000;

/**
 * Routes the client's sends through one queue, so that concurrent settlements never reuse a nonce (the
 * "nonce too low" failures x402 facilitators are known for). Only the broadcast holds the queue: the
 * gas estimate and the fees are read before it, and the next nonce is counted here after one read of
 * the pending count, so one wallet is not limited to a few round trips' worth of settlements a second.
 * A send that fails drops the count, and the count is read again at least every NONCE_RECOUNT_MS (a
 * transaction a node dropped leaves no lasting gap); a send refused for its nonce (another process spent
 * it with the same key) is sent once more with a fresh count. The actions are called on the unwrapped client, so a
 * writeContract that sends does not wait for itself.
 */
export function serializedSignerClient(client: EvmSignerClient): EvmSignerClient {
  const exclusive = createMutex();
  let nextNonce: number | undefined;
  let countedAt = 0;
  const broadcast = async (inner: SigningClient, prepared: object): Promise<Hash> => {
    for (let attempt = 1; ; attempt++) {
      if (nextNonce === undefined || Date.now() - countedAt > NONCE_RECOUNT_MS) {
        nextNonce = await getTransactionCount(inner, { address: inner.account.address, blockTag: "pending" });
        countedAt = Date.now();
      }
      const nonce = nextNonce;
      try {
        const hash = await sendTransaction(inner, { ...prepared, nonce } as never);
        nextNonce = nonce + 1;
        return hash;
      } catch (error) {
        nextNonce = undefined;
        if (attempt === 1 && isNonceRefusal(error)) continue;
        throw error;
      }
    }
  };
  const send = async (inner: SigningClient, args: SendTransactionParameters<Chain, PrivateKeyAccount>) => {
    const prepared = await prepareTransactionRequest(inner, { ...args, parameters: ["chainId", "fees", "gas", "type"] } as never);
    return exclusive(() => broadcast(inner, prepared));
  };
  return client.extend((inner) => ({
    sendTransaction: ((args: SendTransactionParameters<Chain, PrivateKeyAccount>) => send(inner, args)) as EvmSignerClient["sendTransaction"],
    writeContract: (async (args: WriteContractParameters) => {
      const { abi, address, functionName, args: callArgs, ...rest } = args;
      const data = encodeFunctionData({ abi, functionName, args: callArgs } as never);
      try {
        return await send(inner, { ...rest, to: address, data } as never);
      } catch (error) {
        throw getContractError(error as BaseError, { abi, address, args: callArgs, functionName, sender: inner.account.address });
      }
    }) as EvmSignerClient["writeContract"],
  })) as EvmSignerClient;
}

/** A node's refusal of a transaction for its nonce: geth/reth words (viem's NonceTooLowError) and ganache's. */
function isNonceRefusal(error: unknown): boolean {
  if (error instanceof BaseError && error.walk((e) => e instanceof NonceTooLowError || e instanceof NonceTooHighError)) return true;
  return /nonce too low|correct nonce|already known|already imported/i.test(String((error as Error)?.message ?? error));
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

/** A contract call as x402's facilitator signer passes it to readContract and writeContract. */
interface ContractCall {
  address: `0x${string}`;
  abi: readonly unknown[];
  functionName: string;
  args?: readonly unknown[];
  dataSuffix?: `0x${string}`;
}

export interface GasAhead {
  /** Starts estimating `call` from the signer's account, in the background. */
  start(call: ContractCall): void;
  /** The gas limit to send `call` with, if it was estimated ahead (with headroom); else undefined. */
  take(call: ContractCall): Promise<bigint | undefined>;
}

/**
 * Gas estimated ahead of a settlement. x402 simulates a payment's transferWithAuthorization when it
 * verifies it, before the edit, then estimates its gas again when it settles, after the edit, where
 * every round trip to the node delays the answer. Estimating right after the simulation, while the
 * edit runs, takes that round trip off the settlement. The chain may move in between (the seller's
 * balance going from zero to not, which changes the gas of the transfer by about a fifth), so the
 * estimate is sent with half again as much headroom: a limit, not a price; only the gas used is paid.
 * Estimates are kept for `ttlMs` (an edit's budget and more), at most `max` at a time, oldest dropped.
 */
export function gasAhead(client: EvmSignerClient, { ttlMs = 10 * 60_000, max = 1_000 } = {}): GasAhead {
  const estimates = new Map<string, { at: number; gas: Promise<bigint | undefined> }>();
  const keyOf = (call: ContractCall) =>
    `${call.address.toLowerCase()}:${encodeFunctionData({ abi: call.abi, functionName: call.functionName, args: call.args } as never)}`;
  const dropStale = () => {
    for (const [key, entry] of estimates) {
      if (Date.now() - entry.at <= ttlMs && estimates.size < max) break;
      estimates.delete(key);
    }
  };
  return {
    start(call) {
      dropStale();
      const key = keyOf(call);
      if (estimates.has(key)) return;
      const data = key.slice(key.indexOf(":") + 1) as `0x${string}`;
      // A failed estimate only means the settlement estimates for itself, as without this.
      const gas = client.estimateGas({ account: client.account, to: call.address, data }).then(
        (units) => units,
        () => undefined,
      );
      estimates.set(key, { at: Date.now(), gas });
    },
    async take(call) {
      if (call.dataSuffix !== undefined && call.dataSuffix !== "0x") return undefined;
      const key = keyOf(call);
      const entry = estimates.get(key);
      if (entry === undefined) return undefined;
      estimates.delete(key);
      if (Date.now() - entry.at > ttlMs) return undefined;
      const units = await entry.gas;
      return units === undefined ? undefined : units + units / 2n;
    },
  };
}
