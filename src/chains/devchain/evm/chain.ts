// The local Base: chain id 8453, dev USDC at Base's USDC address, Multicall3, JSON-RPC on loopback,
// and viem clients for in-process use, the facilitator's with sends serialized against nonce races.
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  publicActions,
  type Address,
  type Chain,
  type CustomTransport,
  type PublicClient,
  type Transport,
} from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { BASE } from "../../networks.ts";
import { isPublicEvmMethod, publicMethodsOnly, type RpcAccess } from "../rpc-access.ts";
import { startRpcServer } from "../rpc-server.ts";
import { serializedSignerClient, type EvmSignerClient } from "../../evm-signer.ts";
import { once } from "../once.ts";
import { MULTICALL3_ADDRESS, USDC_ABI, USDC_ADDRESS, loadArtifact } from "./contracts.ts";
import { addUsdc, setEthBalance } from "./fund.ts";
import { startEvmNode } from "./node.ts";

export type { EvmSignerClient };

export interface EvmDevchain {
  /** JSON-RPC URL for wallets and out-of-process clients (127.0.0.1 only). */
  readonly rpcUrl: string;
  readonly chainId: number;
  /** CAIP-2 id, `eip155:8453`. */
  readonly network: `eip155:${number}`;
  /** Dev USDC, at Base's real USDC address. */
  readonly usdc: Address;
  readonly multicall3: Address;
  /** viem chain definition pointing at this devchain (id 8453, Multicall3 set). */
  readonly chain: Chain;
  /** In-process EIP-1193 transport: no HTTP hop, same answers as rpcUrl. */
  readonly transport: CustomTransport;
  readonly publicClient: PublicClient<Transport, Chain>;
  readonly facilitator: {
    readonly account: PrivateKeyAccount;
    /** Safe to call concurrently: sendTransaction/writeContract run one at a time, so nonces never collide. */
    readonly client: EvmSignerClient;
  };
  readonly buyer: { readonly account: PrivateKeyAccount };
  usdcBalance(address: Address): Promise<bigint>;
  ethBalance(address: Address): Promise<bigint>;
  /** Tops the address up to `eth` wei and/or adds `usdc` atomic units. */
  fund(address: Address, amounts: { eth?: bigint; usdc?: bigint }): Promise<void>;
  close(): Promise<void>;
}

export interface EvmDevchainOptions {
  port: number;
  buyer: PrivateKeyAccount;
  facilitator: PrivateKeyAccount;
  buyerUsdc: bigint;
  gasEth: bigint;
  /** Who may call the HTTP JSON-RPC, and what (the in-process transport answers every method). */
  access: RpcAccess;
}

// In-process calls answer in microseconds; viem's 4 s default would make every receipt wait look slow.
const POLLING_INTERVAL_MS = 50;

export async function startEvmDevchain(options: EvmDevchainOptions): Promise<EvmDevchain> {
  const node = await startEvmNode(BASE.chainId);
  const { provider } = node;
  try {
    await provider.request({ method: "evm_setAccountCode", params: [USDC_ADDRESS, loadArtifact("DevUSDC").deployedBytecode] });
    await provider.request({ method: "evm_setAccountCode", params: [MULTICALL3_ADDRESS, loadArtifact("Multicall3").deployedBytecode] });
    await setEthBalance(provider, options.buyer.address, options.gasEth);
    await setEthBalance(provider, options.facilitator.address, options.gasEth);
    await addUsdc(provider, options.buyer.address, options.buyerUsdc);
  } catch (error) {
    await node.close();
    throw error;
  }
  const server = await startRpcServer({
    port: options.port,
    allowedOrigins: options.access.allowedOrigins,
    handler: publicMethodsOnly((method, params) => provider.request({ method, params }), isPublicEvmMethod, options.access.adminRpc),
  }).catch(async (error: unknown) => {
    await node.close();
    throw error;
  });

  const chain = defineChain({
    id: BASE.chainId,
    name: "Base (retouch devchain)",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [server.url] } },
    contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
  });
  const transport = custom(provider, { retryCount: 0 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: POLLING_INTERVAL_MS });
  const facilitatorClient = serializedSignerClient(
    createWalletClient({ account: options.facilitator, chain, transport, pollingInterval: POLLING_INTERVAL_MS }).extend(publicActions),
  );

  return {
    rpcUrl: server.url,
    chainId: BASE.chainId,
    network: BASE.caip2,
    usdc: USDC_ADDRESS,
    multicall3: MULTICALL3_ADDRESS,
    chain,
    transport,
    publicClient,
    facilitator: { account: options.facilitator, client: facilitatorClient },
    buyer: { account: options.buyer },
    usdcBalance: (address) => publicClient.readContract({ address: USDC_ADDRESS, abi: USDC_ABI, functionName: "balanceOf", args: [address] }),
    ethBalance: (address) => publicClient.getBalance({ address }),
    async fund(address, { eth, usdc }) {
      if (eth !== undefined) await setEthBalance(provider, address, eth);
      if (usdc !== undefined) await addUsdc(provider, address, usdc);
    },
    close: once(async () => {
      await server.close();
      await node.close();
    }),
  };
}
