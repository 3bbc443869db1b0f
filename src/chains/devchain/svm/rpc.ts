// Solana JSON-RPC methods answered from LiteSVM: the subset that @x402/svm's client and
// facilitator, @solana/kit and a wallet call, with real RPC's shapes (context.slot, base64 data, ...).
import { address, getBase58Encoder, type Address, type ReadonlyUint8Array } from "@solana/kit";
import type { LiteSVM } from "litesvm";
import { RpcError, INVALID_PARAMS, METHOD_NOT_FOUND, type RpcHandler } from "../rpc-server.ts";
import { encodeAccount, uiTokenAmount, type AccountConfig } from "./encode.ts";
import { readMint, readToken, TOKEN_PROGRAM_ADDRESS } from "./token.ts";
import { BLOCKHASH_VALIDITY_SLOTS, TransactionRunner } from "./transactions.ts";

/** Mainnet-beta's genesis hash: the devchain poses as mainnet, as its CAIP-2 id does. */
const MAINNET_GENESIS_HASH = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d";
const LAMPORTS_PER_SIGNATURE = 5000n;

type Params = unknown[];
type Method = (params: Params) => unknown;

interface ProgramAccountsConfig extends AccountConfig {
  filters?: ({ dataSize: number | bigint } | { memcmp: { offset: number | bigint; bytes: string; encoding?: string } })[];
  withContext?: boolean;
}

export function createSolanaRpcHandler(svm: LiteSVM, runner: TransactionRunner): RpcHandler {
  const context = () => ({ slot: runner.slot(), apiVersion: "2.2.0" });
  const withContext = <T>(value: T) => ({ context: context(), value });
  const blockhash = () => ({ blockhash: svm.latestBlockhash(), lastValidBlockHeight: runner.slot() + BLOCKHASH_VALIDITY_SLOTS });

  const methods: Record<string, Method> = {
    getHealth: () => "ok",
    getVersion: () => ({ "solana-core": "2.2.0", "feature-set": 0 }),
    getGenesisHash: () => MAINNET_GENESIS_HASH,
    getSlot: () => runner.slot(),
    getBlockHeight: () => runner.slot(),
    getEpochInfo: () => {
      const clock = svm.getClock();
      return { absoluteSlot: clock.slot, blockHeight: clock.slot, epoch: clock.epoch, slotIndex: 0n, slotsInEpoch: 432000n, transactionCount: null };
    },
    getLatestBlockhash: () => withContext(blockhash()),
    isBlockhashValid: ([hash]) => withContext(hash === svm.latestBlockhash()),
    getFeeForMessage: ([message]) => {
      const bytes = Buffer.from(stringParam(message, "message"), "base64");
      const signatures = BigInt(bytes[0]! & 0x80 ? (bytes[1] ?? 0) : (bytes[0] ?? 0));
      return withContext(signatures * LAMPORTS_PER_SIGNATURE);
    },
    getRecentPrioritizationFees: () => [],
    getMinimumBalanceForRentExemption: ([size]) => svm.minimumBalanceForRentExemption(BigInt(numberParam(size, "size"))),
    getBalance: ([owner]) => withContext(svm.getBalance(addressParam(owner)) ?? 0n),
    getAccountInfo: ([account, config]) => withContext(encodeAccount(svm, addressParam(account), config as AccountConfig)),
    getMultipleAccounts: ([accounts, config]) => {
      if (!Array.isArray(accounts)) throw invalid("expected an array of addresses");
      return withContext(accounts.map((a) => encodeAccount(svm, addressParam(a), config as AccountConfig)));
    },
    getProgramAccounts: ([program, rawConfig]) => {
      const config = (rawConfig ?? {}) as ProgramAccountsConfig;
      const found = programAccounts(svm, addressParam(program), config);
      return config.withContext ? withContext(found) : found;
    },
    getTokenAccountBalance: ([account]) => {
      const token = readToken(svm, addressParam(account));
      if (!token) throw invalid("could not find account");
      return withContext(uiTokenAmount(token.amount, readMint(svm, token.mint)?.decimals ?? 0));
    },
    getTokenSupply: ([mintParam]) => {
      const mint = readMint(svm, addressParam(mintParam));
      if (!mint) throw invalid("not a Token mint");
      return withContext(uiTokenAmount(mint.supply, mint.decimals));
    },
    getTokenAccountsByOwner: ([owner, filter, config]) => {
      const wanted = addressParam(owner);
      const { mint, programId } = (filter ?? {}) as { mint?: string; programId?: string };
      if (mint === undefined && programId === undefined) throw invalid("expected { mint } or { programId }");
      if (programId !== undefined && programId !== TOKEN_PROGRAM_ADDRESS) return withContext([]);
      const matches = programAccounts(svm, TOKEN_PROGRAM_ADDRESS, { ...(config as AccountConfig), filters: [{ dataSize: 165 }] }).filter(
        ({ pubkey }) => {
          const token = readToken(svm, pubkey);
          return token !== undefined && token.owner === wanted && (mint === undefined || token.mint === mint);
        },
      );
      return withContext(matches);
    },
    simulateTransaction: ([tx, rawConfig]) => {
      const config = (rawConfig ?? {}) as { encoding?: string; sigVerify?: boolean; replaceRecentBlockhash?: boolean; innerInstructions?: boolean };
      return withContext(runner.simulate(wireParam(tx, config.encoding), config));
    },
    sendTransaction: ([tx, rawConfig]) => {
      const config = (rawConfig ?? {}) as { encoding?: string; skipPreflight?: boolean };
      return runner.send(wireParam(tx, config.encoding), config);
    },
    getSignatureStatuses: ([signatures]) => {
      if (!Array.isArray(signatures)) throw invalid("expected an array of signatures");
      return withContext(
        signatures.map((signature) => {
          const status = runner.status(String(signature));
          if (!status) return null;
          // Every LiteSVM transaction is final the moment it runs.
          return {
            slot: status.slot,
            confirmations: null,
            err: status.err,
            status: status.err === null ? { Ok: null } : { Err: status.err },
            confirmationStatus: "finalized",
          };
        }),
      );
    },
    requestAirdrop: ([to, amount]) => runner.airdrop(addressParam(to), BigInt(numberParam(amount, "lamports"))),
  };

  return async (method, params) => {
    // Own properties only: "toString" or "constructor" must not reach Object.prototype.
    const run = Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (!run) throw new RpcError(METHOD_NOT_FOUND, `Method not found: ${method} is not served by the retouch devchain`);
    return run(Array.isArray(params) ? params : []);
  };
}

function programAccounts(svm: LiteSVM, program: Address, config: ProgramAccountsConfig) {
  return svm
    .getProgramAccounts(program)
    .filter((account) => (config.filters ?? []).every((filter) => matches(account.data, filter)))
    .map((account) => ({ pubkey: account.address, account: encodeAccount(svm, account.address, config) }));
}

function matches(data: ReadonlyUint8Array, filter: NonNullable<ProgramAccountsConfig["filters"]>[number]): boolean {
  if ("dataSize" in filter) return data.length === Number(filter.dataSize);
  const { bytes, encoding } = filter.memcmp;
  const offset = Number(filter.memcmp.offset);
  const wanted = encoding === "base64" ? Buffer.from(bytes, "base64") : Buffer.from(getBase58Encoder().encode(bytes));
  return Buffer.from(data.subarray(offset, offset + wanted.length)).equals(wanted);
}

function wireParam(value: unknown, encoding = "base58"): Uint8Array {
  const text = stringParam(value, "transaction");
  if (encoding === "base64") return new Uint8Array(Buffer.from(text, "base64"));
  if (encoding === "base58") return new Uint8Array(getBase58Encoder().encode(text));
  throw invalid(`unsupported transaction encoding ${encoding}`);
}

function addressParam(value: unknown): Address {
  try {
    return address(stringParam(value, "address"));
  } catch {
    throw invalid(`not a base58 address: ${String(value)}`);
  }
}

function stringParam(value: unknown, name: string): string {
  if (typeof value !== "string") throw invalid(`${name} must be a string`);
  return value;
}

function numberParam(value: unknown, name: string): number | bigint {
  if (typeof value !== "number" && typeof value !== "bigint") throw invalid(`${name} must be a number`);
  return value;
}

function invalid(message: string): RpcError {
  return new RpcError(INVALID_PARAMS, `Invalid param: ${message}`);
}
