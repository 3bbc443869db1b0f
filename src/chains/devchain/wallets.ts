// Dev wallet key files: creates them once, then reuses them so a buyer's wallet file
// stays valid across devchain restarts. Files are 0600 and appear atomically, complete or not at all.
import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { RetouchError } from "../../errors.ts";
import { generateWalletKeys, parseWalletKeys, WALLET_FORMAT, walletFromKeys, type Wallet, type WalletKeys } from "../wallet-keys.ts";

/** The on-disk format of `dev-wallets.json` (and `dev-facilitator.json`). */
export type DevWalletFile = WalletKeys;

/** A wallet ready to sign on both chains. */
export type DevWallet = Wallet;

export const BUYER_WALLET_FILE = "dev-wallets.json";
export const FACILITATOR_WALLET_FILE = "dev-facilitator.json";
/** The seller's own devchain wallet: where devchain payments go unless RETOUCH_PAY_TO_* say otherwise. */
export const SELLER_WALLET_FILE = "dev-seller.json";

/** Loads the wallet in `dataDir/fileName`, creating it with fresh keys when the file does not exist. */
export async function loadOrCreateWallet(dataDir: string, fileName: string): Promise<DevWallet> {
  const file = join(dataDir, fileName);
  const existing = await readWalletFile(file);
  if (existing) return walletFromKeys(file, existing, (what, cause) => walletFileError(file, what, cause));
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const created = await writeIfAbsent(file, await generateWalletKeys());
  return walletFromKeys(file, created, (what, cause) => walletFileError(file, what, cause));
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
  const keys = parseWalletKeys(text);
  if (!keys) throw walletFileError(file, `is not a dev wallet file (${WALLET_FORMAT})`);
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return keys;
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
