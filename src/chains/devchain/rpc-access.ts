// Which JSON-RPC methods the devchain serves over HTTP: the ones wallets and x402 clients call.
// The engines' admin methods (state writes, impersonation, keys the node holds) answer -32601 unless turned on for tests.
import { METHOD_NOT_FOUND, RpcError, webOrigin, type RpcHandler } from "./rpc-server.ts";

/** The environment variable that turns admin methods on when `startDevchain` is not told either way. */
export const ADMIN_RPC_ENV = "RETOUCH_DEVCHAIN_ADMIN_RPC";

/** Who may call a devchain's JSON-RPC over HTTP, and what. */
export interface RpcAccess {
  /** Web origins whose pages may call it (CORS). Requests without an `Origin` header are always served. */
  readonly allowedOrigins: readonly string[];
  /** Serve every method the engine has (evm_*, personal_*, requestAirdrop, …): tests only. */
  readonly adminRpc: boolean;
}

/** The access a devchain starts with: no web origin and no admin methods unless asked (or the env var is "1"); throws on a bad origin. */
export function rpcAccessFrom(
  options: { allowedOrigins?: readonly string[]; adminRpc?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): RpcAccess {
  return { allowedOrigins: (options.allowedOrigins ?? []).map(webOrigin), adminRpc: options.adminRpc ?? env[ADMIN_RPC_ENV] === "1" };
}

// Sending or signing with keys the node holds: ganache's evm_addAccount + personal_unlockAccount make
// any address such an account, so these would move funds without a key. Wallets sign locally and send raw.
const EVM_NODE_KEY_METHODS = /^eth_(sendTransaction|sign)/;
const EVM_OTHER_METHODS: ReadonlySet<string> = new Set(["net_version", "net_listening", "web3_clientVersion"]);

/** `eth_*` except sending and signing with node-held keys, plus net_version, net_listening, web3_clientVersion. */
export function isPublicEvmMethod(method: string): boolean {
  return (method.startsWith("eth_") && !EVM_NODE_KEY_METHODS.test(method)) || EVM_OTHER_METHODS.has(method);
}

/** Everything the Solana devchain answers except requestAirdrop, which mints SOL (mainnet, which it poses as, refuses it too). */
export const PUBLIC_SOLANA_METHODS: ReadonlySet<string> = new Set([
  "getHealth",
  "getVersion",
  "getGenesisHash",
  "getSlot",
  "getBlockHeight",
  "getEpochInfo",
  "getLatestBlockhash",
  "isBlockhashValid",
  "getFeeForMessage",
  "getRecentPrioritizationFees",
  "getMinimumBalanceForRentExemption",
  "getBalance",
  "getAccountInfo",
  "getMultipleAccounts",
  "getProgramAccounts",
  "getTokenAccountBalance",
  "getTokenSupply",
  "getTokenAccountsByOwner",
  "simulateTransaction",
  "sendTransaction",
  "getSignatureStatuses",
]);

/**
 * Wraps a chain's handler for HTTP: methods `isPublic` rejects answer -32601 naming the flag, unless
 * `adminRpc` is on. Each call of a batch goes through here on its own.
 *
 * @example
 * startRpcServer({ port, allowedOrigins, handler: publicMethodsOnly(handler, isPublicEvmMethod, false) });
 */
export function publicMethodsOnly(handler: RpcHandler, isPublic: (method: string) => boolean, adminRpc: boolean): RpcHandler {
  if (adminRpc) return handler;
  return async (method, params) => {
    if (!isPublic(method)) {
      throw new RpcError(
        METHOD_NOT_FOUND,
        `method ${method} is not available on this devchain RPC (admin methods are off; ${ADMIN_RPC_ENV}=1 turns them on for tests)`,
      );
    }
    return handler(method, params);
  };
}
