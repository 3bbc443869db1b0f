// The `retouch` command line: one sub-command per job.

// Each command loads its own modules when it runs, so `retouch edit` does not
// pay for the gateway's (engine, devchain, database) start-up imports.

import { Command } from "commander";
import { ConfigError, loadConfig } from "../config.ts";
import { VERSION } from "../version.ts";
import { registerEditCommand } from "./edit.ts";
import { registerProxyCommands } from "./proxy.ts";
import { registerWalletCommand } from "./wallet.ts";

const program = new Command("retouch")
  .description("Self-hostable, pay-per-edit AI image editing API")
  .version(VERSION);

program
  .command("serve")
  .description("run the gateway (env: HOST, PORT, RETOUCH_DATA_DIR, ... see README)")
  .option("--host <host>", "address to listen on (HOST)")
  .option("--port <port>", "port to listen on (PORT)")
  .action(async (options: { host?: string; port?: string }) => (await import("./serve.ts")).runServe(options));

program
  .command("devchain")
  .description("run the local Base + Solana alone (RPC on 127.0.0.1:8545 and :8899) and print the funded wallets")
  .action(async () => {
    const config = loadConfig();
    const { runDevchainCommand } = await import("./devchain.ts");
    await runDevchainCommand({
      dataDir: config.dataDir,
      evmPort: config.payments.devchain.evmPort,
      solanaPort: config.payments.devchain.solanaPort,
    });
  });

registerWalletCommand(program);
registerEditCommand(program);
registerProxyCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`retouch: configuration error: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
