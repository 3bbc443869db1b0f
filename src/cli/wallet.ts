// `retouch wallet`: create, show and fund-check the buyer's key file.

import type { Command } from "commander";
import { runCommand } from "../client/run.ts";

const commands = () => import("../client/wallet-commands.ts");

const WALLET_ENV = "  RETOUCH_WALLET        default of --wallet (~/.retouch/wallet.json)";

export function registerWalletCommand(program: Command): void {
  const wallet = program
    .command("wallet")
    .description("the buyer's wallet (an EVM key and a Solana key) that pays for edits");
  const walletFlag = "--wallet <file>";
  const walletHelp = "key file (RETOUCH_WALLET, default ~/.retouch/wallet.json)";
  const jsonHelp = "print one JSON object ({\"ok\":true,...} or {\"ok\":false,\"error\":{code,message,exit_code}})";

  wallet
    .command("new")
    .description("create a new key file (mode 0600); never overwrites one")
    .option(walletFlag, walletHelp)
    .option("--json", jsonHelp)
    .addHelpText("after", `\nEnvironment:\n${WALLET_ENV}`)
    .action((options: { wallet?: string; json?: boolean }) => runCommand(async () => (await commands()).walletNew(options)));

  wallet
    .command("show")
    .description("print the wallet's addresses (never its keys)")
    .option(walletFlag, walletHelp)
    .option("--json", jsonHelp)
    .addHelpText("after", `\nEnvironment:\n${WALLET_ENV}`)
    .action((options: { wallet?: string; json?: boolean }) => runCommand(async () => (await commands()).walletShow(options)));

  wallet
    .command("balance")
    .description("USDC and gas balances on each network the gateway accepts")
    .option(walletFlag, walletHelp)
    .option("--gateway <url>", "gateway URL (RETOUCH_GATEWAY_URL, default http://127.0.0.1:4021)")
    .option("--network <name>", "only this network (base, solana, ...)")
    .option("--base-rpc <url>", "Base JSON-RPC URL (BASE_RPC_URL)")
    .option("--solana-rpc <url>", "Solana JSON-RPC URL (SOLANA_RPC_URL)")
    .option("--json", jsonHelp)
    .addHelpText(
      "after",
      "\nEnvironment:\n" +
        `${WALLET_ENV}\n` +
        "  RETOUCH_GATEWAY_URL   default of --gateway (http://127.0.0.1:4021)\n" +
        "  BASE_RPC_URL          Base JSON-RPC (default: the devchain a local gateway runs, else https://mainnet.base.org)\n" +
        "  SOLANA_RPC_URL        Solana JSON-RPC (default: the devchain a local gateway runs, else the public endpoint)",
    )
    .action((options: { wallet?: string; gateway?: string; network?: string; baseRpc?: string; solanaRpc?: string; json?: boolean }) =>
      runCommand(async () => (await commands()).walletBalance(options)),
    );
}
