// Wallets for browser tests, built the way extensions present themselves to a
// page, over devchain keys: an EIP-1193 provider (what MetaMask injects as
// window.ethereum) and a Wallet Standard Solana wallet (how Phantom and Solflare
// announce themselves). The page's own wallet code talks to them unchanged.
// Bundled for the browser with esbuild; runs there only.

import { createKeyPairFromBytes, getAddressFromPublicKey, getBase58Encoder, getTransactionDecoder, getTransactionEncoder, partiallySignTransaction, signBytes } from "@solana/kit";
import { numberToHex, type EIP1193Provider, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** An injected wallet as a page sees it: accounts, the chain, and eth_signTypedData_v4 / personal_sign. */
export function eip1193Wallet(key: Hex, chainId: number): EIP1193Provider & { isMetaMask: boolean } {
  const account = privateKeyToAccount(key);
  let chain = chainId;
  const request = async ({ method, params }: { method: string; params?: unknown }) => {
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return [account.address];
      case "eth_chainId":
        return numberToHex(chain);
      case "wallet_switchEthereumChain":
        chain = Number((params as [{ chainId: string }])[0].chainId);
        return null;
      case "eth_signTypedData_v4": {
        const [from, json] = params as [string, string];
        if (from.toLowerCase() !== account.address.toLowerCase()) throw Object.assign(new Error("unknown account"), { code: 4100 });
        const { domain, types, primaryType, message } = JSON.parse(json) as {
          domain: Record<string, unknown>;
          types: Record<string, { name: string; type: string }[]>;
          primaryType: string;
          message: Record<string, unknown>;
        };
        if (Number(domain.chainId) !== chain) throw Object.assign(new Error(`typed data for chain ${domain.chainId}, wallet on ${chain}`), { code: -32603 });
        const { EIP712Domain: _, ...messageTypes } = types;
        return account.signTypedData({ domain, types: messageTypes, primaryType, message });
      }
      case "personal_sign": {
        const [message] = params as [Hex, string];
        return account.signMessage({ message: { raw: message } });
      }
      default:
        throw Object.assign(new Error(`${method} is not supported by this wallet`), { code: 4200 });
    }
  };
  return { request, isMetaMask: true, on() {}, removeListener() {} } as unknown as EIP1193Provider & { isMetaMask: boolean };
}

/** Registers a Wallet Standard wallet named `name` that signs Solana transactions and messages with `secretKey` (base58, 64 bytes). */
export async function registerSolanaWallet(name: string, secretKey: string): Promise<void> {
  const keyPair = await createKeyPairFromBytes(getBase58Encoder().encode(secretKey));
  const address = await getAddressFromPublicKey(keyPair.publicKey);
  const publicKey = new Uint8Array(getBase58Encoder().encode(address));
  const account = { address, publicKey, chains: ["solana:mainnet"], features: ["solana:signTransaction", "solana:signMessage"] } as const;
  const wallet = {
    version: "1.0.0",
    name,
    icon: "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=",
    chains: ["solana:mainnet"],
    accounts: [account],
    features: {
      "standard:connect": { version: "1.0.0", connect: async () => ({ accounts: [account] }) },
      "standard:events": { version: "1.0.0", on: () => () => {} },
      "solana:signTransaction": {
        version: "1.0.0",
        supportedTransactionVersions: ["legacy", 0],
        signTransaction: async (...inputs: { transaction: Uint8Array }[]) =>
          Promise.all(
            inputs.map(async ({ transaction }) => {
              const signed = await partiallySignTransaction([keyPair], getTransactionDecoder().decode(transaction));
              return { signedTransaction: new Uint8Array(getTransactionEncoder().encode(signed)) };
            }),
          ),
      },
      "solana:signMessage": {
        version: "1.0.0",
        signMessage: async (...inputs: { message: Uint8Array }[]) =>
          Promise.all(inputs.map(async ({ message }) => ({ signedMessage: message, signature: new Uint8Array(await signBytes(keyPair.privateKey, message)) }))),
      },
    },
  };
  // The Wallet Standard's registration handshake, from the wallet's side.
  const register = ({ register }: { register(wallet: unknown): void }) => register(wallet);
  window.addEventListener("wallet-standard:app-ready", (event) => register((event as CustomEvent).detail));
  window.dispatchEvent(new CustomEvent("wallet-standard:register-wallet", { detail: register }));
}

declare const window: {
  addEventListener(type: string, listener: (event: unknown) => void): void;
  dispatchEvent(event: unknown): boolean;
};
declare const CustomEvent: new (type: string, init: { detail: unknown }) => unknown;
