// The wallets a person can pay with from the page, each as x402's client needs
// it (a scheme for one network) and as Sign-In-With-X needs it (to poll a slow
// edit): an injected EIP-1193 wallet on Base (MetaMask, Coinbase Wallet,
// Rabby ...), a Wallet Standard wallet on Solana (Phantom, Solflare ...), and on
// the devchain a dev wallet made here, its key in localStorage. Loaded only
// when a price is shown, so the page's first load stays small.

import type { SchemeNetworkClient } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import type { SIWxSigner } from "@x402/extensions/sign-in-with-x";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { getWallets } from "@wallet-standard/app";
import type { Wallet as StandardWallet, WalletAccount } from "@wallet-standard/base";
import { address as solanaAddress, getTransactionDecoder, getTransactionEncoder, type SignatureDictionary, type Transaction, type TransactionPartialSigner } from "@solana/kit";
import { createPublicClient, createWalletClient, custom, erc20Abi, http, numberToHex, type EIP1193Provider, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

export const BASE_CAIP2 = "eip155:8453";
export const SOLANA_CAIP2 = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";
const BASE_CHAIN_ID = 8453;
const BASE_USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";

export interface PayingWallet {
  kind: "dev" | "injected" | "solana";
  /** What the page calls it: "Dev wallet", "MetaMask", "Phantom" ... */
  label: string;
  /** CAIP-2 id of the network it pays on. */
  network: string;
  address: string;
  scheme(): SchemeNetworkClient;
  siwx: SIWxSigner;
}

// --- the dev wallet (devchain only) ---

const DEV_WALLET_KEY = "retouch.devWallet";

export function storedDevWallet(): PayingWallet | undefined {
  const key = localStorage.getItem(DEV_WALLET_KEY);
  return key && /^0x[0-9a-f]{64}$/i.test(key) ? devWalletFrom(key as Hex) : undefined;
}

export function createDevWallet(): PayingWallet {
  const key = generatePrivateKey();
  localStorage.setItem(DEV_WALLET_KEY, key);
  return devWalletFrom(key);
}

function devWalletFrom(key: Hex): PayingWallet {
  const account = privateKeyToAccount(key);
  return { kind: "dev", label: "Dev wallet", network: BASE_CAIP2, address: account.address, scheme: () => new ExactEvmScheme(account), siwx: account };
}

/** Asks the devchain's faucet for test USDC; answers how much was given. */
export async function fundFromFaucet(address: string): Promise<bigint> {
  const response = await fetch("/api/v1/devchain/faucet", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ address }) });
  const body = (await response.json()) as { usdc?: string; error?: { message: string } };
  if (!response.ok) throw new Error(body.error?.message ?? `the faucet answered HTTP ${response.status}`);
  return BigInt(body.usdc ?? "0");
}

/** USDC of `address` on the devchain's Base, read over its JSON-RPC. */
export async function devchainUsdc(rpcUrl: string, address: string): Promise<bigint> {
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) });
  return client.readContract({ address: BASE_USDC, abi: erc20Abi, functionName: "balanceOf", args: [address as Hex] });
}

// --- an injected EIP-1193 wallet on Base ---

export function injectedProvider(): EIP1193Provider | undefined {
  return (globalThis as { ethereum?: EIP1193Provider }).ethereum;
}

export async function connectInjected(ethereum: EIP1193Provider): Promise<PayingWallet> {
  const [address] = (await ethereum.request({ method: "eth_requestAccounts" })) as Hex[];
  if (!address) throw new Error("the wallet shared no account");
  // Wallets sign typed data only for the chain they are on: Base.
  try {
    await ethereum.request({ method: "wallet_switchEthereumChain", params: [{ chainId: numberToHex(BASE_CHAIN_ID) }] });
  } catch (error) {
    if ((error as { code?: number }).code !== 4902) throw error;
    await ethereum.request({
      method: "wallet_addEthereumChain",
      params: [{ chainId: numberToHex(BASE_CHAIN_ID), chainName: "Base", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: ["https://mainnet.base.org"], blockExplorerUrls: ["https://basescan.org"] }],
    });
  }
  const client = createWalletClient({ account: address, transport: custom(ethereum) });
  const signer = { address, signTypedData: (typed: Parameters<typeof client.signTypedData>[0]) => client.signTypedData(typed) };
  const label = (ethereum as { isMetaMask?: boolean; isCoinbaseWallet?: boolean; isRabby?: boolean }).isRabby
    ? "Rabby"
    : (ethereum as { isCoinbaseWallet?: boolean }).isCoinbaseWallet
      ? "Coinbase Wallet"
      : (ethereum as { isMetaMask?: boolean }).isMetaMask
        ? "MetaMask"
        : "Browser wallet";
  return { kind: "injected", label, network: BASE_CAIP2, address, scheme: () => new ExactEvmScheme(signer as never), siwx: client as unknown as SIWxSigner };
}

// --- a Wallet Standard wallet on Solana ---

const SIGN_TRANSACTION = "solana:signTransaction";
const SIGN_MESSAGE = "solana:signMessage";
const CONNECT = "standard:connect";

interface SignTransactionFeature {
  signTransaction(...inputs: { account: WalletAccount; transaction: Uint8Array; chain?: string }[]): Promise<{ signedTransaction: Uint8Array }[]>;
}
interface SignMessageFeature {
  signMessage(...inputs: { account: WalletAccount; message: Uint8Array }[]): Promise<{ signature: Uint8Array }[]>;
}
interface ConnectFeature {
  connect(): Promise<{ accounts: readonly WalletAccount[] }>;
}

/** Solana wallets the browser has (those that can sign transactions). */
export function solanaWallets(): StandardWallet[] {
  return getWallets()
    .get()
    .filter((wallet) => SIGN_TRANSACTION in wallet.features && CONNECT in wallet.features && wallet.chains.some((chain) => chain.startsWith("solana:")));
}

export function onSolanaWallets(listener: () => void): void {
  getWallets().on("register", listener);
}

export async function connectSolana(wallet: StandardWallet, rpcUrl: string | undefined): Promise<PayingWallet> {
  const { accounts } = await (wallet.features[CONNECT] as ConnectFeature).connect();
  const account = accounts.find((candidate) => candidate.chains.some((chain) => chain.startsWith("solana:"))) ?? accounts[0];
  if (!account) throw new Error(`${wallet.name} shared no account`);
  const signTransaction = wallet.features[SIGN_TRANSACTION] as SignTransactionFeature;
  const owner = solanaAddress(account.address);
  const signer: TransactionPartialSigner = {
    address: owner,
    async signTransactions(transactions: readonly Transaction[]): Promise<SignatureDictionary[]> {
      const signed = await signTransaction.signTransaction(
        ...transactions.map((transaction) => ({ account, chain: "solana:mainnet", transaction: new Uint8Array(getTransactionEncoder().encode(transaction)) })),
      );
      return signed.map(({ signedTransaction }) => {
        const signature = getTransactionDecoder().decode(signedTransaction).signatures[owner];
        if (!signature) throw new Error(`${wallet.name} did not sign the payment`);
        return { [owner]: signature } as SignatureDictionary;
      });
    },
  };
  const signMessage = wallet.features[SIGN_MESSAGE] as SignMessageFeature | undefined;
  const siwx: SIWxSigner = {
    publicKey: account.address,
    signMessage: async (message: Uint8Array) => {
      if (!signMessage) throw new Error(`${wallet.name} cannot sign messages, so it cannot follow a slow edit`);
      return (await signMessage.signMessage({ account, message }))[0]!.signature;
    },
  };
  return { kind: "solana", label: wallet.name, network: SOLANA_CAIP2, address: account.address, scheme: () => new ExactSvmScheme(signer, rpcUrl ? { rpcUrl } : undefined), siwx };
}
