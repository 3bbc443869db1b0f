// Settling with the operator's own gas wallet (`RETOUCH_PAYMENTS=self` and
// `retouch facilitator`): the key file, the RPC clients of each network, and
// how much gas is left to pay settlements with.

import { stat, readFile } from "node:fs/promises";
import { createSolanaRpc, type Address } from "@solana/kit";
import { rpcSignerClient } from "../../chains/evm-signer.ts";
import { NETWORKS, parseWalletKeys, WALLET_FORMAT, walletFromKeys, type EvmNetwork, type NetworkName, type SvmNetwork, type Wallet } from "../../chains/index.ts";
import { ConfigError, RPC_URL_VARIABLES } from "../../config.ts";
import { withoutSecrets } from "../../server/observability.ts";
import type { ChainAccess } from "./chain.ts";

export interface SettlingWallet {
  wallet: Wallet;
  access: ChainAccess;
}

/**
 * The settlement wallet in `file` (RETOUCH_FACILITATOR_KEYS): refused, in one line, when other users
 * of the machine could read it, when it is not a key file, or when an address does not match its key.
 */
export async function readFacilitatorKeys(file: string): Promise<Wallet> {
  const problem = (what: string) => new ConfigError(`RETOUCH_FACILITATOR_KEYS=${file} ${what}`);
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    throw problem(`cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if ((mode & 0o077) !== 0) {
    throw problem(`is readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); it holds the keys that pay gas: chmod 600 ${file}`);
  }
  const keys = parseWalletKeys(await readFile(file, "utf8"));
  if (!keys) throw problem(`is not a key file (${WALLET_FORMAT})`);
  return walletFromKeys(file, keys, (what) => problem(what));
}

/** Clients that sign with `wallet` on each network, through the RPC URL named for it. */
export function rpcChainAccess(wallet: Wallet, networks: readonly NetworkName[], rpcUrls: Partial<Record<NetworkName, string>>): ChainAccess {
  const access: ChainAccess = { evm: [], svm: [], svmSigner: wallet.solana };
  for (const name of networks) {
    const network = NETWORKS[name];
    const url = rpcUrls[name];
    if (!url) throw new ConfigError(`settling on ${name} needs its JSON-RPC: set ${RPC_URL_VARIABLES[name]}`);
    if (network.family === "evm") access.evm.push({ network, client: rpcSignerClient(wallet.evm, network, url) });
    else access.svm.push({ network, rpc: createSolanaRpc(url) });
  }
  return access;
}

/**
 * Below this the wallet is short of gas: about a thousand settlements on Base (a USDC
 * transferWithAuthorization costs ~0.0000005 ETH at Base's usual fees), and two thousand
 * Solana signatures of 5,000 lamports.
 */
export const LOW_GAS: Readonly<Record<"evm" | "svm", bigint>> = { evm: 500_000_000_000_000n, svm: 10_000_000n };

export interface GasBalance {
  network: EvmNetwork | SvmNetwork;
  address: string;
  /** In wei (EVM) or lamports (Solana). */
  balance: bigint;
  low: boolean;
}

/** The settlement wallet's native balance on each network it settles on. */
export async function gasBalances(access: ChainAccess): Promise<GasBalance[]> {
  const evm = access.evm.map(async ({ network, client }) => {
    const balance = await client.getBalance({ address: client.account.address });
    return { network, address: client.account.address, balance, low: balance < LOW_GAS.evm };
  });
  const svm = access.svm.map(async ({ network, rpc }) => {
    const address = access.svmSigner!.address as Address;
    const balance = (await rpc.getBalance(address).send()).value as bigint;
    return { network, address, balance, low: balance < LOW_GAS.svm };
  });
  return Promise.all([...evm, ...svm]);
}

/** The native coin of each family: decimals and symbol. */
const GAS_COIN = { evm: { decimals: 18, symbol: "ETH" }, svm: { decimals: 9, symbol: "SOL" } } as const;

/** "0.0005 ETH" / "0.01 SOL": a balance as a person reads it. */
export function formatGas(gas: Pick<GasBalance, "network" | "balance">): string {
  const { decimals, symbol } = GAS_COIN[gas.network.family];
  const whole = gas.balance / 10n ** BigInt(decimals);
  const fraction = (gas.balance % 10n ** BigInt(decimals)).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${whole}${fraction ? `.${fraction}` : ""} ${symbol}`;
}

/** Where gas readings go: the log (a warning when low) and a gauge in ETH / SOL. */
export interface GasWatch {
  gauge: { set(labels: { network: string; address: string }, value: number): void };
  warn(facts: object, message: string): void;
}

/**
 * Reads the gas balances now and every `everyMs`, keeping the gauge current and warning (with the
 * number and the address to top up) whenever one is low. Resolves after the first reading; returns the stop.
 */
export async function watchGas(access: ChainAccess, watch: GasWatch, everyMs = 60_000): Promise<() => void> {
  const read = async () => {
    let balances: GasBalance[];
    try {
      balances = await gasBalances(access);
    } catch (error) {
      const said = withoutSecrets((error as Error).message.split("\n")[0]).slice(0, 200);
      watch.warn({ err_message: said }, "could not read the settlement wallet's gas balance");
      return;
    }
    for (const gas of balances) {
      watch.gauge.set({ network: gas.network.name, address: gas.address }, Number(gas.balance) / 10 ** GAS_COIN[gas.network.family].decimals);
      if (gas.low) {
        watch.warn(
          { network: gas.network.name, address: gas.address, balance: formatGas(gas), low_below: formatGas({ network: gas.network, balance: LOW_GAS[gas.network.family] }) },
          `the settlement wallet is low on gas on ${gas.network.name}: ${formatGas(gas)} at ${gas.address}; settlements fail once it is empty`,
        );
      }
    }
  };
  await read();
  const timer = setInterval(() => void read(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
