// SPL-Token state on the LiteSVM devchain, written as raw accounts: the USDC mint at its
// mainnet address (no one holds its real keys, so it cannot be created by instruction) and funded ATAs.
import {
  AccountState,
  findAssociatedTokenPda,
  getMintDecoder,
  getMintEncoder,
  getMintSize,
  getTokenDecoder,
  getTokenEncoder,
  getTokenSize,
  TOKEN_PROGRAM_ADDRESS,
  type Mint,
  type Token,
} from "@solana-program/token";
import { address, lamports, none, type Address } from "@solana/kit";
import type { LiteSVM } from "litesvm";

export { TOKEN_PROGRAM_ADDRESS };

/** Creates (or resets) the mint account with 6 decimals, no mint or freeze authority, and zero supply. */
export function installMint(svm: LiteSVM, mint: Address, decimals: number): void {
  const data = getMintEncoder().encode({ mintAuthority: none(), supply: 0n, decimals, isInitialized: true, freezeAuthority: none() });
  writeTokenProgramAccount(svm, mint, new Uint8Array(data));
}

export async function associatedTokenAddress(owner: Address, mint: Address): Promise<Address> {
  const [ata] = await findAssociatedTokenPda({ owner, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  return ata;
}

/**
 * Adds `amount` to the owner's associated token account, creating it when missing, and raises the
 * mint's supply by the same amount so that supply stays the sum of balances. amount 0 just opens the account.
 */
export async function addTokens(svm: LiteSVM, mint: Address, owner: Address, amount: bigint): Promise<Address> {
  if (amount < 0n) throw new RangeError("amount must not be negative");
  const ata = await associatedTokenAddress(owner, mint);
  const current = readToken(svm, ata);
  const token = getTokenEncoder().encode({
    mint,
    owner,
    amount: (current?.amount ?? 0n) + amount,
    delegate: none(),
    state: AccountState.Initialized,
    isNative: none(),
    delegatedAmount: 0n,
    closeAuthority: none(),
  });
  writeTokenProgramAccount(svm, ata, new Uint8Array(token));
  const mintState = readMint(svm, mint);
  if (!mintState) throw new Error(`mint ${mint} is not installed`);
  const data = getMintEncoder().encode({ ...mintState, supply: mintState.supply + amount });
  writeTokenProgramAccount(svm, mint, new Uint8Array(data));
  return ata;
}

/** The owner's balance in atomic units; 0 when the owner has no token account for this mint. */
export async function tokenBalance(svm: LiteSVM, mint: Address, owner: Address): Promise<bigint> {
  return readToken(svm, await associatedTokenAddress(owner, mint))?.amount ?? 0n;
}

export function readMint(svm: LiteSVM, account: Address): Mint | undefined {
  const data = tokenProgramData(svm, account, getMintSize());
  return data ? getMintDecoder().decode(data) : undefined;
}

export function readToken(svm: LiteSVM, account: Address): Token | undefined {
  const data = tokenProgramData(svm, account, getTokenSize());
  return data ? getTokenDecoder().decode(data) : undefined;
}

function tokenProgramData(svm: LiteSVM, account: Address, size: number): Uint8Array | undefined {
  const found = svm.getAccount(account);
  if (!found.exists || found.programAddress !== TOKEN_PROGRAM_ADDRESS || found.data.length !== size) return undefined;
  return found.data;
}

function writeTokenProgramAccount(svm: LiteSVM, account: Address, data: Uint8Array): void {
  svm.setAccount({
    address: address(account),
    data,
    executable: false,
    lamports: lamports(svm.minimumBalanceForRentExemption(BigInt(data.length))),
    programAddress: TOKEN_PROGRAM_ADDRESS,
    space: BigInt(data.length),
  });
}
