// The devchain's faucet: test USDC and a little gas for a wallet made in the
// browser (the playground's dev wallet), so a new user pays with clicks only.
// Bounded per call and per address, and in how many addresses it remembers:
// it is play money, but a loop must not grow a balance or the process's memory
// without end. Only a devchain gateway has one; it is the one place that knows
// it is talking to the devchain.

import { isAddress as isSolanaAddress } from "@solana/kit";
import { getAddress, isAddress as isEvmAddress } from "viem";
import type { Devchain } from "./index.ts";

export const FAUCET_LIMITS = {
  /** USDC per call, atomic units (6 decimals): 10 USDC. */
  usdcPerCall: 10_000_000n,
  /** USDC one address may get in this devchain's life: 50 USDC. */
  usdcPerAddress: 50_000_000n,
  /** Gas: each call tops the wallet up to 0.001 ETH on Base, 0.01 SOL on Solana (x402 payments need none; wallets like to see some). */
  weiTopUp: 10n ** 15n,
  lamportsTopUp: 10_000_000n,
  /** Addresses remembered; past it, new addresses are refused until the devchain restarts. */
  addresses: 10_000,
};

export interface FaucetGift {
  network: "base" | "solana";
  address: string;
  /** USDC given now and in total to this address, atomic units. */
  usdc: bigint;
  usdcTotal: bigint;
  /** Gas given now (what the top-up added): wei on Base, lamports on Solana. */
  gas: bigint;
}

/** Why the faucet gave nothing: the caller turns it into a 400 or a 429. */
export class FaucetRefusal extends Error {
  override name = "FaucetRefusal";
  readonly reason: "invalid_address" | "limit";
  constructor(message: string, reason: "invalid_address" | "limit") {
    super(message);
    this.reason = reason;
  }
}

export interface DevFaucet {
  give(address: string): Promise<FaucetGift>;
}

export function devFaucet(devchain: Devchain, limits = FAUCET_LIMITS): DevFaucet {
  const given = new Map<string, bigint>();
  // One gift at a time: two concurrent calls for one address must not both pass the limit.
  let queue: Promise<unknown> = Promise.resolve();

  async function give(text: string): Promise<FaucetGift> {
    const target = parseAddress(text);
    const key = `${target.network}:${target.address}`;
    const before = given.get(key) ?? 0n;
    if (before === 0n && given.size >= limits.addresses) {
      throw new FaucetRefusal(`the faucet has served ${limits.addresses} addresses; restart the devchain (npm start) for more`, "limit");
    }
    const usdc = min(limits.usdcPerCall, limits.usdcPerAddress - before);
    if (usdc <= 0n) {
      throw new FaucetRefusal(`${target.address} has had ${format(limits.usdcPerAddress)} USDC from the faucet, its limit; spend it or restart the devchain`, "limit");
    }
    given.set(key, before + usdc);
    let gas: bigint;
    try {
      if (target.network === "base") {
        const address = target.address as `0x${string}`;
        const balance = await devchain.evm.ethBalance(address);
        gas = balance < limits.weiTopUp ? limits.weiTopUp - balance : 0n;
        await devchain.evm.fund(address, { usdc, ...(gas > 0n ? { eth: limits.weiTopUp } : {}) });
      } else {
        const balance = await devchain.solana.solBalance(target.address);
        gas = balance < limits.lamportsTopUp ? limits.lamportsTopUp - balance : 0n;
        await devchain.solana.fund(target.address, { usdc, sol: gas });
      }
    } catch (error) {
      given.set(key, before);
      throw error;
    }
    return { ...target, usdc, usdcTotal: before + usdc, gas };
  }

  return {
    give(address) {
      const turn = queue.then(() => give(address));
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}

function parseAddress(text: string): { network: "base" | "solana"; address: string } {
  if (/^0x/i.test(text)) {
    if (!isEvmAddress(text, { strict: false })) throw new FaucetRefusal(`"${text.slice(0, 64)}" is not an EVM address (0x and 40 hex digits)`, "invalid_address");
    return { network: "base", address: getAddress(text) };
  }
  if (!isSolanaAddress(text)) {
    throw new FaucetRefusal(`"${text.slice(0, 64)}" is neither an EVM address (0x...) nor a Solana address (base58)`, "invalid_address");
  }
  return { network: "solana", address: text };
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const format = (atomic: bigint) => (Number(atomic) / 1e6).toString();
