// `retouch wallet new | show | balance`: the logic, printing through `print` so
// tests read exactly what a user sees. Keys are never printed.

import { findNetwork, NETWORKS, type Network } from "../chains/index.ts";
import { formatUnits, readBalance, type Balance } from "./balances.ts";
import { CliError, EXIT, shortReason } from "./errors.ts";
import { acceptedNetworks, gatewayUrl, rpcUrlFor, type RpcFlags } from "./gateway.ts";
import { createWalletFile, loadWalletFile, walletPath } from "./wallet-file.ts";

export type Print = (line: string) => void;

export interface WalletOptions {
  wallet?: string;
  print?: Print;
  env?: NodeJS.ProcessEnv;
}

export async function walletNew(options: WalletOptions = {}): Promise<{ file: string; evm: string; solana: string }> {
  const print = options.print ?? console.log;
  const wallet = await createWalletFile(walletPath(options.wallet, options.env));
  print(`created ${wallet.file} (mode 0600; back it up: it holds the only copy of these keys)`);
  print(`EVM (Base):  ${wallet.evm.address}`);
  print(`Solana:      ${wallet.solana.address}`);
  print("fund both addresses with USDC to pay for edits");
  return { file: wallet.file, evm: wallet.evm.address, solana: wallet.solana.address };
}

export async function walletShow(options: WalletOptions = {}): Promise<{ file: string; evm: string; solana: string }> {
  const print = options.print ?? console.log;
  const wallet = await loadWalletFile(walletPath(options.wallet, options.env));
  print(`wallet:      ${wallet.file}`);
  print(`EVM (Base):  ${wallet.evm.address}`);
  print(`Solana:      ${wallet.solana.address}`);
  return { file: wallet.file, evm: wallet.evm.address, solana: wallet.solana.address };
}

export interface BalanceOptions extends WalletOptions, RpcFlags {
  gateway?: string;
  /** Only this network (a name such as `base`, or a CAIP-2 id); skips asking the gateway. */
  network?: string;
}

/**
 * Balances on each network the gateway accepts (read from its 402), or on --network,
 * or on base + solana when the gateway does not say.
 */
export async function walletBalance(options: BalanceOptions = {}): Promise<Balance[]> {
  const print = options.print ?? console.log;
  const env = options.env ?? process.env;
  const wallet = await loadWalletFile(walletPath(options.wallet, env));
  const gateway = gatewayUrl(options.gateway, env);
  const targets = await balanceTargets(options.network, gateway, print);
  const balances: Balance[] = [];
  for (const { network, asset } of targets) {
    const rpcUrl = rpcUrlFor(network, gateway, options, env);
    let balance: Balance;
    try {
      balance = await readBalance({ network, wallet, rpcUrl, asset });
    } catch (error) {
      throw new CliError(`cannot read balances on ${network.name} from ${rpcUrl}: ${shortReason(error)}`, EXIT.unreachable, { cause: error });
    }
    balances.push(balance);
    print(
      `${network.name.padEnd(13)} ${balance.address}  ${formatUnits(balance.usdc, 6)} USDC  ` +
        `${formatUnits(balance.gas, balance.gasDecimals, 0)} ${balance.gasSymbol}`,
    );
  }
  return balances;
}

async function balanceTargets(flag: string | undefined, gateway: string, print: Print): Promise<{ network: Network; asset?: string }[]> {
  if (flag) {
    const network = findNetwork(flag);
    if (!network) throw new CliError(`unknown network "${flag}"; one of ${Object.keys(NETWORKS).join(", ")}`, EXIT.usage);
    return [{ network }];
  }
  let offers;
  try {
    offers = await acceptedNetworks(gateway);
  } catch {
    offers = undefined;
  }
  if (offers && offers.length > 0) return offers.map(({ network, requirements }) => ({ network, asset: requirements.asset }));
  print(`(the gateway at ${gateway} did not quote a price; showing base and solana)`);
  return [{ network: NETWORKS.base }, { network: NETWORKS.solana }];
}
