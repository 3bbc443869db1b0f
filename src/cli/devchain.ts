// `retouch devchain`: runs the local Base + Solana and their x402 facilitator, and prints how
// to reach and pay them. Prints addresses and key files' paths only, never a private key;
// stops cleanly on SIGINT/SIGTERM.
import { BASE, SOLANA } from "../chains/networks.ts";
import { startDevchain, type Devchain, type DevchainOptions } from "../chains/devchain/index.ts";
import { devchainAccess, devchainX402Facilitator } from "../payments/index.ts";
import type { SolanaFeeLimits } from "../payments/solana-transaction.ts";
import { createLogger } from "../server/index.ts";
import { DEFAULT_FACILITATOR_PORT, serveFacilitator, type FacilitatorService } from "./facilitator.ts";

export interface DevchainCommandOptions extends DevchainOptions {
  /** The facilitator's port on 127.0.0.1; default 4022, 0 picks a free one. */
  facilitatorPort?: number;
  /** What the facilitator's Solana fee payer covers; default x402's own ceilings. */
  solanaFees?: SolanaFeeLimits;
  /** The facilitator's JSON log lines (one per verify/settle), on stdout after the summary. */
  logLevel?: string;
  /** Where the summary goes; default stdout. */
  print?: (line: string) => void;
  /** Resolves to stop the devchain instead of waiting for a signal (tests, embedding). */
  until?: Promise<unknown>;
}

/** Starts the devchain and its facilitator, prints the summary, and resolves after a clean shutdown. */
export async function runDevchainCommand(options: DevchainCommandOptions = {}): Promise<void> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const devchain = await startDevchain(options);
  let facilitator: FacilitatorService;
  try {
    facilitator = await serveFacilitator({
      facilitator: devchainX402Facilitator(devchain, options.solanaFees),
      access: devchainAccess(devchain),
      host: "127.0.0.1",
      port: options.facilitatorPort ?? DEFAULT_FACILITATOR_PORT,
      logger: createLogger(options.logLevel ?? "info").child({ component: "facilitator" }),
    });
  } catch (error) {
    await devchain.close();
    throw error;
  }
  for (const line of describeDevchain(devchain, facilitator.url)) print(line);

  const stop = options.until ?? waitForSignal();
  await stop;
  print("stopping devchain…");
  await facilitator.close();
  await devchain.close();
}

/** The summary a person reads: chains, wallets, and (with `retouch devchain`) the facilitator and how gateways use it. */
export function describeDevchain(devchain: Devchain, facilitatorUrl?: string): string[] {
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
    `Seller wallet (receives the payments; keys in ${wallets.seller.file})`,
    `  EVM           ${wallets.seller.evm.address}`,
    `  Solana        ${wallets.seller.solana.address}`,
    "",
    ...(facilitatorUrl ? describeFacilitator(devchain, facilitatorUrl) : []),
    ...describeRpcAccess(rpcAccess),
    "",
    "Press Ctrl+C to stop.",
  ];
}

function describeFacilitator({ evm, solana, wallets }: Devchain, url: string): string[] {
  return [
    `x402 facilitator  ${url}   (POST /verify, POST /settle, GET /supported; loopback, no token)`,
    "Gateways in remote mode against it (any number, other ports):",
    `  RETOUCH_PAYMENTS=remote FACILITATOR_URL=${url} RETOUCH_NETWORKS=base,solana \\`,
    `  RETOUCH_PAY_TO_EVM=${wallets.seller.evm.address} RETOUCH_PAY_TO_SOLANA=${wallets.seller.solana.address} \\`,
    `  BASE_RPC_URL=${evm.rpcUrl} SOLANA_RPC_URL=${solana.rpcUrl} PORT=4031 npx retouch serve`,
    `Or settling by themselves: RETOUCH_PAYMENTS=self RETOUCH_FACILITATOR_KEYS=${wallets.facilitator.file} (same variables otherwise)`,
    "",
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
