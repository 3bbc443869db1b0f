// `retouch devchain`: runs the local Base + Solana alone and prints how to reach and pay them.
// Prints addresses and the key file's path only, never a private key; stops cleanly on SIGINT/SIGTERM.
import { BASE, SOLANA } from "../chains/networks.ts";
import { startDevchain, type Devchain, type DevchainOptions } from "../chains/devchain/index.ts";

export interface DevchainCommandOptions extends DevchainOptions {
  /** Where the summary goes; default stdout. */
  print?: (line: string) => void;
  /** Resolves to stop the devchain instead of waiting for a signal (tests, embedding). */
  until?: Promise<unknown>;
}

/** Starts the devchain, prints its summary, and resolves after a clean shutdown. */
export async function runDevchainCommand(options: DevchainCommandOptions = {}): Promise<void> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const devchain = await startDevchain(options);
  for (const line of describeDevchain(devchain)) print(line);

  const stop = options.until ?? waitForSignal();
  await stop;
  print("stopping devchain…");
  await devchain.close();
}

export function describeDevchain(devchain: Devchain): string[] {
  const { evm, solana, wallets, rpcAccess } = devchain;
  return [
    `retouch devchain up in ${Math.round(devchain.startupMs)} ms (state is in memory: every start re-funds the wallets)`,
    "",
    `Base (local)    ${evm.rpcUrl}   chain id ${evm.chainId}   ${BASE.caip2}`,
    `  USDC          ${evm.usdc}  (USD Coin, version 2, 6 decimals)`,
    `Solana (local)  ${solana.rpcUrl}   ${SOLANA.caip2}`,
    `  USDC mint     ${solana.usdcMint}  (6 decimals)`,
    "",
    `Buyer wallet (1,000 USDC on each chain; keys in ${wallets.buyer.file})`,
    `  EVM           ${wallets.buyer.evm.address}`,
    `  Solana        ${wallets.buyer.solana.address}`,
    `Facilitator wallet (gas only; keys in ${wallets.facilitator.file})`,
    `  EVM           ${wallets.facilitator.evm.address}`,
    `  Solana        ${wallets.facilitator.solana.address}`,
    "",
    ...describeRpcAccess(rpcAccess),
    "",
    "Press Ctrl+C to stop.",
  ];
}

function describeRpcAccess({ allowedOrigins, adminRpc }: Devchain["rpcAccess"]): string[] {
  const pages = allowedOrigins.length === 0 ? "no web page may call them" : `web pages at ${allowedOrigins.join(", ")} may call them, no others`;
  return [
    adminRpc
      ? `JSON-RPC: ALL methods, admin ones included (RETOUCH_DEVCHAIN_ADMIN_RPC=1): any local program can fund itself and spend from any address; for tests only`
      : "JSON-RPC: the standard methods wallets and x402 clients use (admin methods are off)",
    `  ${pages}; node clients and curl (no Origin header) are served`,
  ];
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
