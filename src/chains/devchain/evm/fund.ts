// Gives a devchain EVM address ETH and dev USDC by writing chain state directly:
// the token has no minter, so balances (and totalSupply, to stay consistent) are storage writes.
import { encodeAbiParameters, keccak256, numberToHex, pad, type Address, type Hex } from "viem";
import { DEV_USDC_SLOTS, USDC_ADDRESS } from "./contracts.ts";
import type { Eip1193Provider } from "./node.ts";

/** Sets the address's ETH balance to `wei` (not added: a faucet that tops up to a known amount). */
export async function setEthBalance(provider: Eip1193Provider, address: Address, wei: bigint): Promise<void> {
  await provider.request({ method: "evm_setAccountBalance", params: [address, numberToHex(wei)] });
}

/** Adds `amount` atomic units of dev USDC to the address. */
export async function addUsdc(provider: Eip1193Provider, address: Address, amount: bigint): Promise<void> {
  if (amount < 0n) throw new RangeError("amount must not be negative");
  const balanceSlot = keccak256(
    encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [address, DEV_USDC_SLOTS.balances]),
  );
  const supplySlot = pad(numberToHex(DEV_USDC_SLOTS.totalSupply));
  await addToSlot(provider, balanceSlot, amount);
  await addToSlot(provider, supplySlot, amount);
}

async function addToSlot(provider: Eip1193Provider, slot: Hex, amount: bigint): Promise<void> {
  const current = (await provider.request({ method: "eth_getStorageAt", params: [USDC_ADDRESS, slot, "latest"] })) as Hex;
  // ganache answers "0x" for a never-written slot.
  const next = pad(numberToHex((current === "0x" ? 0n : BigInt(current)) + amount));
  await provider.request({ method: "evm_setAccountStorageAt", params: [USDC_ADDRESS, slot, next] });
}
