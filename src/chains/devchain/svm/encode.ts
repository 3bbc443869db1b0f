// Account encodings of Solana RPC (base64, base58, jsonParsed for SPL-Token mints and accounts),
// so kit, @x402/svm and wallets read LiteSVM accounts exactly as they read a real node's.
import { getBase58Decoder, type Address } from "@solana/kit";
import type { LiteSVM } from "litesvm";
import { formatUnits } from "viem";
import { TOKEN_PROGRAM_ADDRESS, readMint, readToken } from "./token.ts";
import { RpcError, INVALID_PARAMS } from "../rpc-server.ts";

/** What real RPC reports as rentEpoch for rent-exempt accounts (u64::MAX). */
const RENT_EXEMPT_EPOCH = 18446744073709551615n;

export interface AccountConfig {
  encoding?: string;
  dataSlice?: { offset: number | bigint; length: number | bigint };
}

export interface UiAccount {
  data: [string, string] | string | { program: string; parsed: unknown; space: number };
  executable: boolean;
  lamports: bigint;
  owner: string;
  rentEpoch: bigint;
  space: number;
}

export function encodeAccount(svm: LiteSVM, address: Address, config: AccountConfig = {}): UiAccount | null {
  const account = svm.getAccount(address);
  if (!account.exists) return null;
  return {
    data: encodeData(svm, address, account.programAddress, account.data, config),
    executable: account.executable,
    lamports: account.lamports,
    owner: account.programAddress,
    rentEpoch: RENT_EXEMPT_EPOCH,
    space: account.data.length,
  };
}

function encodeData(svm: LiteSVM, address: Address, owner: Address, data: Uint8Array, config: AccountConfig): UiAccount["data"] {
  const encoding = config.encoding ?? "base64";
  if (encoding === "jsonParsed") {
    const parsed = owner === TOKEN_PROGRAM_ADDRESS ? parseTokenAccount(svm, address) : undefined;
    // Real RPC falls back to base64 for accounts it cannot parse.
    return parsed ? { program: "spl-token", parsed, space: data.length } : [Buffer.from(data).toString("base64"), "base64"];
  }
  // In-process callers may pass bigints where HTTP callers pass numbers.
  const start = Number(config.dataSlice?.offset ?? 0);
  const slice = config.dataSlice ? data.subarray(start, start + Number(config.dataSlice.length)) : data;
  if (encoding === "base64") return [Buffer.from(slice).toString("base64"), "base64"];
  if (encoding === "base58") return [getBase58Decoder().decode(slice), "base58"];
  throw new RpcError(INVALID_PARAMS, `Invalid params: unsupported encoding ${encoding} (use base64, base58 or jsonParsed)`);
}

/** `{ amount, decimals, uiAmount, uiAmountString }`, the UiTokenAmount of Solana RPC. */
export function uiTokenAmount(amount: bigint, decimals: number): { amount: string; decimals: number; uiAmount: number; uiAmountString: string } {
  const uiAmountString = formatUnits(amount, decimals);
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}

function parseTokenAccount(svm: LiteSVM, address: Address): unknown {
  const mint = readMint(svm, address);
  if (mint) {
    return {
      type: "mint",
      info: {
        decimals: mint.decimals,
        freezeAuthority: mint.freezeAuthority.__option === "Some" ? mint.freezeAuthority.value : null,
        isInitialized: mint.isInitialized,
        mintAuthority: mint.mintAuthority.__option === "Some" ? mint.mintAuthority.value : null,
        supply: mint.supply.toString(),
      },
    };
  }
  const token = readToken(svm, address);
  if (!token) return undefined;
  const decimals = readMint(svm, token.mint)?.decimals ?? 0;
  return {
    type: "account",
    info: {
      isNative: token.isNative.__option === "Some",
      mint: token.mint,
      owner: token.owner,
      state: token.state === 2 ? "frozen" : token.state === 1 ? "initialized" : "uninitialized",
      tokenAmount: uiTokenAmount(token.amount, decimals),
    },
  };
}
