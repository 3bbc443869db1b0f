// `retouch wallet new | show | balance`: the logic, printing through `print` (results,
// stdout) and `note` (remarks, stderr) so tests read exactly what a user sees. Keys
// are never printed.

import { findNetwork, NETWORKS, type Network } from "../chains/index.ts";
import { formatUnits, readBalanceFrom, type Balance } from "./balances.ts";
import { CliError, EXIT } from "./errors.ts";
import { acceptedNetworks, gatewayUrl, type RpcFlags } from "./gateway.ts";
import { planRpc } from "./rpc.ts";
import { createWalletFile, loadWalletFile, walletPath } from "./wallet-file.ts";

export type Print = (line: string) => void;

export interface WalletOptions {
  wallet?: string;
  /** One JSON object instead of lines. */
  json?: boolean;
  print?: Print;
  /** Remarks for a person; default stderr. */
  note?: Print;
  env?: NodeJS.ProcessEnv;
}

export interface WalletAddresses {
  file: string;
  evm: string;
  solana: string;
}

export async function walletNew(options: WalletOptions = {}): Promise<WalletAddresses> {
  const print = options.print ?? console.log;
  const wallet = await createWalletFile(walletPath(options.wallet, options.env));
  const addresses = { file: wallet.file, evm: wallet.evm.address, solana: wallet.solana.address };
  if (options.json) return printed(addresses, print);
  print(`created ${wallet.file} (mode 0600; back it up: it holds the only copy of these keys)`);
  print(`EVM (Base):  ${wallet.evm.address}`);
  print(`Solana:      ${wallet.solana.address}`);
  print("fund both addresses with USDC to pay for edits");
  return addresses;
}

export async function walletShow(options: WalletOptions = {}): Promise<WalletAddresses> {
  const print = options.print ?? console.log;
  const wallet = await loadWalletFile(walletPath(options.wallet, options.env));
  const addresses = { file: wallet.file, evm: wallet.evm.address, solana: wallet.solana.address };
  if (options.json) return printed(addresses, print);
  print(`wallet:      ${wallet.file}`);
  print(`EVM (Base):  ${wallet.evm.address}`);
  print(`Solana:      ${wallet.solana.address}`);
  return addresses;
}

export interface BalanceOptions extends WalletOptions, RpcFlags {
  gateway?: string;
  /** Only this network (a name such as `base`, or a CAIP-2 id); skips asking the gateway. */
  network?: string;
}

/**
 * Balances on each network the gateway accepts (read from its 402), or on --network,
 * or on base + solana when the gateway does not say. An RPC that does not answer is
 * exit 5 naming the variable to set, as in `retouch edit`.
 */
export async function walletBalance(options: BalanceOptions = {}): Promise<Balance[]> {
  const print = options.print ?? console.log;
  const note = options.note ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = options.env ?? process.env;
  const gateway = gatewayUrl(options.gateway, env);
  const only = options.network === undefined ? undefined : knownNetwork(options.network);
  const wallet = await loadWalletFile(walletPath(options.wallet, env));
  const targets = only ? [{ network: only }] : await balanceTargets(gateway, note);
  const rpc = await planRpc(gateway, options, env);
  const balances: Balance[] = [];
  for (const { network, asset } of targets) balances.push(await readBalanceFrom({ network, wallet, endpoint: rpc.endpoint(network), asset }));
  if (options.json) {
    printed(
      {
        balances: balances.map((b) => ({
          network: b.network.name,
          address: b.address,
          usdc: formatUnits(b.usdc, 6),
          gas: formatUnits(b.gas, b.gasDecimals, 0),
          gas_symbol: b.gasSymbol,
          rpc_url: rpc.endpoint(b.network).url,
        })),
      },
      print,
    );
    return balances;
  }
  for (const b of balances) {
    print(`${b.network.name.padEnd(13)} ${b.address}  ${formatUnits(b.usdc, 6)} USDC  ${formatUnits(b.gas, b.gasDecimals, 0)} ${b.gasSymbol}`);
  }
  return balances;
}

function knownNetwork(name: string): Network {
  const network = findNetwork(name);
  if (!network) throw new CliError(`unknown network "${name}"; one of ${Object.keys(NETWORKS).join(", ")}`, EXIT.usage, { code: "unknown_network" });
  return network;
}

async function balanceTargets(gateway: string, note: Print): Promise<{ network: Network; asset?: string }[]> {
  let offers;
  try {
    offers = await acceptedNetworks(gateway);
  } catch {
    offers = undefined;
  }
  if (offers && offers.length > 0) return offers.map(({ network, requirements }) => ({ network, asset: requirements.asset }));
  note(`(the gateway at ${gateway} did not quote a price; showing base and solana)`);
  return [{ network: NETWORKS.base }, { network: NETWORKS.solana }];
}

function printed<T extends object>(result: T, print: Print): T {
  print(JSON.stringify({ ok: true, ...result }));
  return result;
}
