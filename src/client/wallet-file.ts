// The buyer's key file: one EVM key and one Solana key, in the same format as the
// devchain's dev-wallets.json, so either file works wherever a wallet is asked for.

import { mkdir, open, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { generateWalletKeys, parseWalletKeys, WALLET_FORMAT, walletFromKeys, type Wallet, type WalletKeys } from "../chains/index.ts";
import { CliError, EXIT } from "./errors.ts";

export type { Wallet };
export type WalletFile = WalletKeys;

/** --wallet, else RETOUCH_WALLET, else ~/.retouch/wallet.json; `~` is expanded. */
export function walletPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return expandHome(flag || env.RETOUCH_WALLET || "~/.retouch/wallet.json");
}

export function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return resolve(path);
}

/** Creates a new key file; refuses (exit 2) when `file` exists, as it may hold the only copy of a key. */
export async function createWalletFile(file: string): Promise<Wallet> {
  const keys = await generateWalletKeys();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let handle;
  try {
    handle = await open(file, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CliError(`${file} already exists; not overwriting a wallet (use --wallet FILE for another one)`, EXIT.usage);
    }
    throw error;
  }
  try {
    await handle.writeFile(`${JSON.stringify(keys, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return toWallet(file, keys);
}

/** Reads and checks a key file (exit 2 when it is missing or malformed). */
export async function loadWalletFile(file: string): Promise<Wallet> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CliError(`no wallet at ${file}; create one with \`retouch wallet new\` or pass --wallet FILE`, EXIT.usage);
    }
    throw new CliError(`cannot read wallet ${file}: ${(error as Error).message}`, EXIT.usage);
  }
  const keys = parseWalletKeys(text);
  if (!keys) throw new CliError(`${file} is not a wallet file (${WALLET_FORMAT})`, EXIT.usage);
  return toWallet(file, keys);
}

function toWallet(file: string, keys: WalletKeys): Promise<Wallet> {
  return walletFromKeys(file, keys, (what, cause) => new CliError(`${file}: ${what}`, EXIT.usage, { cause }));
}
