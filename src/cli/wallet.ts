// `retouch wallet`: create, show and fund-check the buyer's key file.

import type { Command } from "commander";
import { runCommand } from "../client/run.ts";

const commands = () => import("../client/wallet-commands.ts");

export function registerWalletCommand(program: Command): void {
  const wallet = program
    .command("wallet")
    .description("the buyer's wallet (an EVM key and a Solana key) that pays for edits");
  const walletFlag = "--wallet <file>";
  const walletHelp = "key file (RETOUCH_WALLET, default ~/.retouch/wallet.json)";

  wallet
    .command("new")
    .description("create a new key file (mode 0600); never overwrites one")
    .option(walletFlag, walletHelp)
    .action((options: { wallet?: string }) => runCommand(async () => (await commands()).walletNew(options)));

  wallet
    .command("show")
    .description("print the wallet's addresses (never its keys)")
    .option(walletFlag, walletHelp)
    .action((options: { wallet?: string }) => runCommand(async () => (await commands()).walletShow(options)));

  wallet
    .command("balance")
    .description("USDC and gas balances on each network the gateway accepts")
    .option(walletFlag, walletHelp)
    .option("--gateway <url>", "gateway URL (RETOUCH_GATEWAY_URL, default http://127.0.0.1:4021)")
    .option("--network <name>", "only this network (base, solana, ...)")
    .option("--base-rpc <url>", "Base JSON-RPC URL (BASE_RPC_URL)")
    .option("--solana-rpc <url>", "Solana JSON-RPC URL (SOLANA_RPC_URL)")
    .action((options: { wallet?: string; gateway?: string; network?: string; baseRpc?: string; solanaRpc?: string }) =>
      runCommand(async () => (await commands()).walletBalance(options)),
    );
}
