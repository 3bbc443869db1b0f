// The in-process EVM (ganache 7, chosen by measurement: see docs/devchain.md), behind an
// EIP-1193 `request` whose errors look like a real node's, so viem neither retries nor misreads them.
import { createMutex } from "../../mutex.ts";
import { RpcError, METHOD_NOT_FOUND } from "../rpc-server.ts";

export interface Eip1193Request {
  method: string;
  params?: unknown;
}

/** Minimal EIP-1193 provider: what viem's `custom()` transport and the HTTP server need. */
export interface Eip1193Provider {
  request(args: Eip1193Request): Promise<unknown>;
}

export interface EvmNode {
  provider: Eip1193Provider;
  close(): Promise<void>;
}

interface GanacheProvider {
  request(args: { method: string; params: unknown[] }): Promise<unknown>;
  disconnect(): Promise<void>;
}

// Enough gas headroom for any x402 settlement; the real Base limit is far higher but irrelevant here.
const BLOCK_GAS_LIMIT = "0x1c9c380"; // 30,000,000

/**
 * Ganache 7 never answers an eth_estimateGas that runs while it mines a block (measured: one in
 * forty under four concurrent settlements hung until the caller's timeout). A real node has no such
 * flaw, so the devchain keeps estimates and the calls that mine apart instead of asking clients to.
 */
const MINES_OR_ESTIMATES = new Set(["eth_estimateGas", "eth_sendRawTransaction", "eth_sendTransaction"]);

export async function startEvmNode(chainId: number): Promise<EvmNode> {
  // Loaded on demand: ganache is a 55 MB bundle that only the devchain needs.
  const ganache = (await import("ganache")).default;
  const raw = ganache.provider({
    chain: { chainId, networkId: chainId, hardfork: "shanghai" },
    // Mine each transaction as it arrives, before eth_sendRawTransaction returns: a receipt is there at once.
    miner: { instamine: "eager", blockGasLimit: BLOCK_GAS_LIMIT },
    wallet: { totalAccounts: 0 },
    logging: { quiet: true },
  }) as unknown as GanacheProvider;
  const apart = createMutex();
  // Requests still running when the node closes (a client's background work, a request of a
  // process that is shutting down) finish first: ganache fails them from inside its own code,
  // where nobody can catch it, if its database closes under them.
  const running = new Set<Promise<unknown>>();
  let closed = false;
  const provider: Eip1193Provider = {
    async request({ method, params }) {
      if (closed) throw new RpcError(-32000, "the devchain is shutting down");
      const call = () => raw.request({ method, params: Array.isArray(params) ? params : [] });
      const answer = MINES_OR_ESTIMATES.has(method) || method.startsWith("evm_") ? apart(call) : call();
      running.add(answer);
      try {
        return await answer;
      } catch (error) {
        throw normalizeError(method, error);
      } finally {
        running.delete(answer);
      }
    },
  };
  // The first request waits for ganache's initialisation, so start-up cost is paid here, not later.
  await provider.request({ method: "eth_blockNumber" });
  return {
    provider,
    async close() {
      closed = true;
      await Promise.allSettled([...running]);
      await raw.disconnect();
    },
  };
}

interface GanacheError {
  message?: string;
  code?: number;
  data?: unknown;
}

/**
 * Maps ganache's errors to what geth/reth answer: unknown methods as -32601 (ganache throws a bare
 * Error, which viem retries three times with back-off: 1.1 s lost per call to eth_fillTransaction),
 * reverts as code 3 with the revert data as a hex string (ganache nests it in an object for eth_estimateGas).
 */
function normalizeError(method: string, error: unknown): RpcError {
  const e = (error ?? {}) as GanacheError;
  const message = e.message ?? String(error);
  if (/does not exist\/is not available/.test(message)) {
    return new RpcError(METHOD_NOT_FOUND, `the method ${method} does not exist/is not available`);
  }
  const revertData = typeof e.data === "string" ? e.data : (e.data as { result?: unknown } | undefined)?.result;
  if (/revert/.test(message) && typeof revertData === "string") {
    const reason = /revert (.+)$/.exec(message)?.[1];
    return new RpcError(3, reason ? `execution reverted: ${reason}` : "execution reverted", revertData);
  }
  return new RpcError(typeof e.code === "number" ? e.code : -32000, message);
}
