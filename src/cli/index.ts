// The `retouch` command line: one sub-command per job, one set of exit codes for all
// (commander's own usage errors included), --json failures as one object on stdout.

// Each command loads its own modules when it runs, so `retouch edit` does not
// pay for the gateway's (engine, devchain, database) start-up imports, and
// --help, --version and a usage error load no more than commander. The
// configuration (zod, the chains, viem) is loaded by the commands that read it.

import { Command, CommanderError } from "commander";
import { CliError, EXIT, EXIT_HELP } from "../client/errors.ts";
import { reportFailure, setJsonOutput } from "../client/run.ts";
import { VERSION } from "../version.ts";
import { registerEditCommand } from "./edit.ts";
import { registerMcpCommand } from "./mcp.ts";
import { registerProxyCommands } from "./proxy.ts";
import { registerWalletCommand } from "./wallet.ts";

// `retouch ... | head` closes the pipe early: stop quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const program = new Command("retouch")
  .description("Self-hostable, pay-per-edit AI image editing API")
  .version(VERSION)
  // Set before the commands are added: each inherits them.
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(message) })
  .addHelpText("afterAll", `\n${EXIT_HELP}\nRETOUCH_DEBUG=1 prints the stack of an unexpected error.`);

// The action's command knows whether --json was given before any action runs.
program.hook("preAction", (_program, action) => setJsonOutput(action.opts().json === true));

program
  .command("serve")
  .description("run the gateway (env: HOST, PORT, RETOUCH_DATA_DIR, ... see README)")
  .option("--host <host>", "address to listen on (HOST)")
  .option("--port <port>", "port to listen on (PORT)")
  .addHelpText("after", "\nEnvironment: every RETOUCH_* setting of the README's Configuration section; a bad value stops start-up (exit 2).")
  .action(async (options: { host?: string; port?: string }) => (await import("./serve.ts")).runServe(options));

program
  .command("worker")
  .description("run edits from the fleet's queue (REDIS_URL): the embedded engine and the upstream calls, for any gateway")
  .addHelpText(
    "after",
    "\nEnvironment: the gateways' own settings, in particular\n" +
      "  REDIS_URL, RETOUCH_REDIS_PREFIX  the queue (required)\n" +
      "  DATABASE_URL                     the ledger, where paid edits are recorded (required unless RETOUCH_PAYMENTS=off)\n" +
      "  S3_BUCKET, S3_*                  where inputs are read and results written (a fleet on several machines needs it)\n" +
      "  RETOUCH_ENGINE_THREADS           local edits at once; OPENAI_API_KEY, GEMINI_API_KEY for upstream models\n" +
      "  RETOUCH_SHUTDOWN_GRACE_MS        on SIGTERM, how long running edits may finish before they go back to the queue",
  )
  .action(async () => (await import("./worker.ts")).runWorker());

program
  .command("devchain")
  .description("run the local Base + Solana and their x402 facilitator, and print the RPC URLs, the facilitator URL and the wallets")
  .addHelpText(
    "after",
    "\nEnvironment:\n" +
      "  RETOUCH_DEVCHAIN_EVM_PORT     Base JSON-RPC port on 127.0.0.1 (default 8545; 0 picks a free one)\n" +
      "  RETOUCH_DEVCHAIN_SOLANA_PORT  Solana JSON-RPC port on 127.0.0.1 (default 8899; 0 picks a free one)\n" +
      "  RETOUCH_DEVCHAIN_FACILITATOR_PORT  its x402 facilitator on 127.0.0.1 (default 4022; 0 picks a free one)\n" +
      "  RETOUCH_DEVCHAIN_ADMIN_RPC    1 serves evm_*, personal_*, requestAirdrop, ... over RPC (tests only; off by default)\n" +
      "  RETOUCH_DATA_DIR              where the wallets' key files are written (default ./.retouch)",
  )
  .action(async () => {
    // The dev wallets' key file and the chain state are this user's alone.
    process.umask(0o077);
    const config = (await import("../config.ts")).loadConfig();
    const { runDevchainCommand } = await import("./devchain.ts");
    const { listenError } = await import("./listen-error.ts");
    await runDevchainCommand({
      dataDir: config.dataDir,
      evmPort: config.payments.devchain.evmPort,
      solanaPort: config.payments.devchain.solanaPort,
      facilitatorPort: config.payments.devchain.facilitatorPort,
      solanaFees: config.payments.solanaFees,
      logLevel: config.logLevel,
    }).catch((error: unknown) => {
      throw listenError(error, "RETOUCH_DEVCHAIN_EVM_PORT / RETOUCH_DEVCHAIN_SOLANA_PORT / RETOUCH_DEVCHAIN_FACILITATOR_PORT to free ports (0 picks any)") ?? error;
    });
  });

program
  .command("facilitator")
  .description("run an x402 facilitator (POST /verify, POST /settle, GET /supported) that settles with your gas wallet, for many gateways")
  .option("--host <host>", "address to listen on (default 127.0.0.1; any other needs RETOUCH_FACILITATOR_TOKEN)")
  .option("--port <port>", "port to listen on (default 4022)")
  .addHelpText(
    "after",
    "\nEnvironment:\n" +
      "  RETOUCH_FACILITATOR_KEYS   the settlement wallet's key file (mode 0600, shape of dev-wallets.json); required\n" +
      "  BASE_RPC_URL, BASE_SEPOLIA_RPC_URL, SOLANA_RPC_URL, SOLANA_DEVNET_RPC_URL\n" +
      "                             JSON-RPC of each network it settles on (a devchain's RPC works too)\n" +
      "  RETOUCH_NETWORKS           which of them (default: every network whose RPC is set)\n" +
      "  RETOUCH_FACILITATOR_TOKEN  bearer token callers must send (required unless on loopback)\n" +
      "  RETOUCH_SOLANA_MAX_COMPUTE_UNITS, RETOUCH_SOLANA_MAX_PRIORITY_FEE_MICROLAMPORTS  what the fee payer covers",
  )
  .action(async (options: { host?: string; port?: string }) => (await import("./facilitator.ts")).runFacilitatorCommand(options));

registerWalletCommand(program);
registerEditCommand(program);
registerProxyCommands(program);
registerMcpCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and --version end with 0; every other commander error is bad usage. Its
    // message is already on stderr.
    if (error.exitCode === 0) process.exitCode = 0;
    else if (wantsJson(process.argv)) reportFailure(new CliError(error.message.replace(/^error: /, ""), EXIT.usage, { code: "invalid_usage" }), true);
    else process.exitCode = EXIT.usage;
  } else if (error instanceof (await import("../config.ts")).ConfigError) {
    reportFailure(new CliError(`configuration error: ${error.message}`, EXIT.usage, { code: "invalid_configuration" }));
  } else {
    reportFailure(error);
  }
}

/** --json before any `--` (commander had no chance to parse it). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}
