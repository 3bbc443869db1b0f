// Wallet key files, one format everywhere (dev-wallets.json, ~/.retouch/wallet.json):
// an EVM key and a Solana key. Generating, parsing, and turning keys into signers.

import { randomBytes } from "node:crypto";
import {
  createKeyPairSignerFromBytes,
  createKeyPairSignerFromPrivateKeyBytes,
  getAddressEncoder,
  getBase58Decoder,
  getBase58Encoder,
  type KeyPairSigner,
} from "@solana/kit";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";

/** `{ evm: { address, privateKey }, solana: { address, secretKey } }`; secretKey is base58 of the 64-byte secret (seed, then public key), as Solana CLI/Phantom export it. */
export interface WalletKeys {
  evm: { address: `0x${string}`; privateKey: `0x${string}` };
  solana: { address: string; secretKey: string };
}

/** A wallet ready to sign on both chains. `keys` holds private keys: never print it. */
export interface Wallet {
  /** The key file this wallet lives in. */
  file: string;
  evm: PrivateKeyAccount;
  solana: KeyPairSigner;
  keys: WalletKeys;
}

export const WALLET_FORMAT = "{ evm: { address, privateKey }, solana: { address, secretKey } }";

export async function generateWalletKeys(): Promise<WalletKeys> {
  const privateKey = generatePrivateKey();
  const seed = randomBytes(32);
  const signer = await createKeyPairSignerFromPrivateKeyBytes(seed);
  const secret = new Uint8Array(64);
  secret.set(seed, 0);
  secret.set(getAddressEncoder().encode(signer.address), 32);
  return {
    evm: { address: privateKeyToAccount(privateKey).address, privateKey },
    solana: { address: signer.address, secretKey: getBase58Decoder().decode(secret) },
  };
}

/** The keys in a key file's text, or undefined when it is not one. */
export function parseWalletKeys(text: string): WalletKeys | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = value as { evm?: Record<string, unknown>; solana?: Record<string, unknown> } | null;
  const evm = v?.evm;
  const solana = v?.solana;
  if (typeof evm?.address !== "string" || typeof evm.privateKey !== "string") return undefined;
  if (typeof solana?.address !== "string" || typeof solana.secretKey !== "string") return undefined;
  if (!/^0x[0-9a-fA-F]{64}$/.test(evm.privateKey)) return undefined;
  return {
    evm: { address: evm.address as `0x${string}`, privateKey: evm.privateKey as `0x${string}` },
    solana: { address: solana.address, secretKey: solana.secretKey },
  };
}

/** Signers for the keys; `problem` builds the caller's own error from what is wrong. */
export async function walletFromKeys(file: string, keys: WalletKeys, problem: (what: string, cause?: unknown) => Error): Promise<Wallet> {
  const evm = privateKeyToAccount(keys.evm.privateKey);
  if (evm.address.toLowerCase() !== keys.evm.address.toLowerCase()) {
    throw problem(`evm.address ${keys.evm.address} does not belong to evm.privateKey (${evm.address})`);
  }
  let solana: KeyPairSigner;
  try {
    // Checks that the public half of the secret matches the private half.
    solana = await createKeyPairSignerFromBytes(getBase58Encoder().encode(keys.solana.secretKey));
  } catch (error) {
    throw problem("solana.secretKey is not a base58 64-byte Solana secret key", error);
  }
  if (solana.address !== keys.solana.address) {
    throw problem(`solana.address ${keys.solana.address} does not belong to solana.secretKey (${solana.address})`);
  }
  return { file, evm, solana, keys };
}
