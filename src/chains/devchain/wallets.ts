// Dev wallet key files: creates them once, then reuses them so a buyer's wallet file
// stays valid across devchain restarts. Files are 0600 and appear atomically, complete or not at all.
import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import {
  createKeyPairSignerFromBytes,
  createKeyPairSignerFromPrivateKeyBytes,
  getBase58Decoder,
  getBase58Encoder,
  getAddressEncoder,
  type KeyPairSigner,
} from "@solana/kit";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { RetouchError } from "../../errors.ts";

/** The on-disk format of `dev-wallets.json` (and `dev-facilitator.json`). */
export interface DevWalletFile {
  evm: { address: `0x${string}`; privateKey: `0x${string}` };
  /** secretKey: base58 of the 64-byte secret (32-byte seed followed by the public key), as Solana CLI/Phantom export it. */
  solana: { address: string; secretKey: string };
}

/** A wallet ready to sign on both chains. */
export interface DevWallet {
  /** The key file this wallet lives in. */
  file: string;
  evm: PrivateKeyAccount;
  solana: KeyPairSigner;
  /** Exactly what the key file holds (contains private keys: never print it). */
  keys: DevWalletFile;
}

export const BUYER_WALLET_FILE = "dev-wallets.json";
export const FACILITATOR_WALLET_FILE = "dev-facilitator.json";

/** Loads the wallet in `dataDir/fileName`, creating it with fresh keys when the file does not exist. */
export async function loadOrCreateWallet(dataDir: string, fileName: string): Promise<DevWallet> {
  const file = join(dataDir, fileName);
  const existing = await readWalletFile(file);
  if (existing) return toWallet(file, existing);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const created = await writeIfAbsent(file, await generateKeys());
  return toWallet(file, created);
}

async function generateKeys(): Promise<DevWalletFile> {
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

async function readWalletFile(file: string): Promise<DevWalletFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  // A wallet file that was edited by hand must not be silently replaced: it may hold the only copy of a key.
  const keys = parseWalletFile(text);
  if (!keys) throw walletFileError(file, "is not a dev wallet file ({ evm: { address, privateKey }, solana: { address, secretKey } })");
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return keys;
}

function parseWalletFile(text: string): DevWalletFile | undefined {
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

async function toWallet(file: string, keys: DevWalletFile): Promise<DevWallet> {
  const evm = privateKeyToAccount(keys.evm.privateKey);
  if (evm.address.toLowerCase() !== keys.evm.address.toLowerCase()) {
    throw walletFileError(file, `evm.address ${keys.evm.address} does not belong to evm.privateKey (${evm.address})`);
  }
  let solana: KeyPairSigner;
  try {
    // Checks that the public half of the secret matches the private half.
    solana = await createKeyPairSignerFromBytes(getBase58Encoder().encode(keys.solana.secretKey));
  } catch (error) {
    throw walletFileError(file, "solana.secretKey is not a base58 64-byte Solana secret key", error);
  }
  if (solana.address !== keys.solana.address) {
    throw walletFileError(file, `solana.address ${keys.solana.address} does not belong to solana.secretKey (${solana.address})`);
  }
  return { file, evm, solana, keys };
}

/**
 * Writes `keys` to `file` unless the file already exists, and returns what the file holds.
 * link() of a finished temp file is atomic and refuses to overwrite, so two devchains
 * starting at once agree on one set of keys instead of the later one clobbering the first.
 */
async function writeIfAbsent(file: string, keys: DevWalletFile): Promise<DevWalletFile> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(keys, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
    return keys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const winner = await readWalletFile(file);
    if (!winner) throw error;
    return winner;
  } finally {
    await unlink(temp);
  }
}

function walletFileError(file: string, problem: string, cause?: unknown): RetouchError {
  return new RetouchError(`dev wallet file ${file} ${problem}; fix or delete it (deleting creates new keys)`, {
    status: 500,
    type: "server_error",
    code: "dev_wallet_invalid",
    cause,
  });
}
