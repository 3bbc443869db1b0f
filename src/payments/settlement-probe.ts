// What the chain says about a payment whose settlement ended without a clear
// answer (the facilitator threw, timed out or refused): did the transfer land,
// can it still land, or can we not tell. The ledger follows this, never a guess.

import { getBase58Decoder, signBytes, type KeyPairSigner, type Rpc, type SolanaRpcApiMainnet, type Signature } from "@solana/kit";
import { parseAbiItem, type Address, type Hex, type PublicClient } from "viem";
import type { AnyPayload } from "./facilitator/types.ts";
import { readSolanaPayment } from "./solana-transaction.ts";

export type OnChain =
  | { state: "landed"; transaction?: string }
  /** Not on chain; `final` when it can never land any more (expired, cancelled or failed). */
  | { state: "absent"; final: boolean }
  | { state: "unknown"; why: string };

export interface SettlementProbe {
  check(payload: AnyPayload): Promise<OnChain>;
}

const AUTHORIZATION_USED = parseAbiItem("event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)");
const AUTHORIZATION_STATE = parseAbiItem("function authorizationState(address authorizer, bytes32 nonce) view returns (bool)");
/** How far back a settlement is looked for: about a day of Base blocks. */
const LOOKBACK_BLOCKS = 50_000n;

/** EIP-3009 USDC: the AuthorizationUsed event of (payer, nonce) is the transfer; a used nonce without it was cancelled. */
/** The reads a probe makes: any viem client with public actions (a public client, or a wallet client extended with them). */
export type ChainReader = Pick<PublicClient, "readContract" | "getBlockNumber" | "getLogs" | "getBlock">;

export function evmSettlementProbe(client: ChainReader, usdc: Address): SettlementProbe {
  return {
    async check(payload) {
      const { from, nonce, validBefore } = (payload.payload as { authorization: { from: Address; nonce: Hex; validBefore: string } }).authorization;
      // State first, then the logs up to a block read afterwards (never viem's cached block number):
      // a transfer that spent the nonce before the state was read is always within the logs searched.
      const spent = await client.readContract({ address: usdc, abi: [AUTHORIZATION_STATE], functionName: "authorizationState", args: [from, nonce] });
      const latest = await client.getBlockNumber({ cacheTime: 0 });
      const fromBlock = latest > LOOKBACK_BLOCKS ? latest - LOOKBACK_BLOCKS : 0n;
      const [used] = await client.getLogs({ address: usdc, event: AUTHORIZATION_USED, args: { authorizer: from, nonce }, fromBlock, toBlock: latest });
      if (used) return { state: "landed", transaction: used.transactionHash ?? undefined };
      if (spent) {
        // Cancelled, or used longer ago than the look-back: only the first is certain.
        return latest > LOOKBACK_BLOCKS
          ? { state: "unknown", why: `the authorization is spent but its transfer is not in the last ${LOOKBACK_BLOCKS} blocks` }
          : { state: "absent", final: true };
      }
      const { timestamp } = await client.getBlock({ blockTag: "latest" });
      return { state: "absent", final: timestamp >= BigInt(validBefore) };
    },
  };
}

/**
 * Solana: the transaction's id is the fee payer's signature, which only a fee payer key we hold can
 * reproduce (Ed25519 signatures are deterministic). Without it the probe cannot tell.
 */
export function svmSettlementProbe(rpc: Rpc<SolanaRpcApiMainnet>, feePayers: KeyPairSigner[]): SettlementProbe {
  return {
    async check(payload) {
      const transaction = readSolanaPayment(String(payload.payload.transaction));
      const feePayer = feePayers.find((signer) => signer.address === transaction.feePayer);
      if (!feePayer) return { state: "unknown", why: `fee payer ${transaction.feePayer} is not a key this server holds` };
      const signature = getBase58Decoder().decode(await signBytes(feePayer.keyPair.privateKey, transaction.messageBytes)) as Signature;
      const { value } = await rpc.getSignatureStatuses([signature], { searchTransactionHistory: true }).send();
      const status = value[0];
      if (status) return status.err === null ? { state: "landed", transaction: signature } : { state: "absent", final: true };
      const { value: valid } = await rpc.isBlockhashValid(transaction.blockhash as never, { commitment: "processed" }).send();
      return { state: "absent", final: !valid };
    },
  };
}
