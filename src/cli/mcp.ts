// `retouch mcp`: image edits for AI agents over MCP, paid from the user's wallet
// within the buyer tools' caps (the logic is in client/mcp/).

import type { Command } from "commander";
import { CliError, EXIT } from "../client/errors.ts";
import { runCommand } from "../client/run.ts";

const HELP = `
Tools: edit_image (pays within max_price_usd and the caps), list_models, wallet_balance, spend.

Environment:
  RETOUCH_WALLET        the paying key file (default ~/.retouch/wallet.json; \`retouch wallet new\`)
  RETOUCH_MAX_PER_REQUEST, RETOUCH_MAX_PER_DAY  spend caps in USD (default 1 and 10, per UTC day),
                        shared with \`retouch edit\` and \`retouch proxy\` through one spend log
  RETOUCH_GATEWAY_URL   the gateway (default http://127.0.0.1:4021)
  RETOUCH_IMAGE_DIR     where results are saved (default ~/.retouch/images)
  RETOUCH_HOME, RETOUCH_SPEND_LOG, BASE_RPC_URL, SOLANA_RPC_URL  as for \`retouch edit\`

Add to an MCP client (e.g. its mcpServers setting):
  { "retouch": { "command": "npx", "args": ["retouch", "mcp"], "env": { "RETOUCH_MAX_PER_DAY": "2" } } }`;

interface McpOptions {
  http?: string;
  gateway?: string;
  wallet?: string;
  network?: string;
  out?: string;
}

export function registerMcpCommand(program: Command): void {
  program
    .command("mcp")
    .description("serve image edits to AI agents over MCP (stdio, or Streamable HTTP on 127.0.0.1), paid from your wallet within caps")
    .option("--http <port>", "serve Streamable HTTP at http://127.0.0.1:<port>/mcp instead of stdio")
    .option("--gateway <url>", "gateway URL (RETOUCH_GATEWAY_URL, default http://127.0.0.1:4021)")
    .option("--wallet <file>", "key file (RETOUCH_WALLET, default ~/.retouch/wallet.json)")
    .option("--network <name>", "pay on this network only (base or solana)")
    .option("--out <dir>", "where results are saved (RETOUCH_IMAGE_DIR, default ~/.retouch/images)")
    .addHelpText("after", HELP)
    .action((options: McpOptions) =>
      runCommand(async () => {
        const mcp = await import("../client/mcp/index.ts");
        const settings = { env: process.env, gateway: options.gateway, wallet: options.wallet, network: options.network, outDir: options.out };
        if (options.http === undefined) return mcp.serveStdio(settings);
        const port = Number(options.http);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--http must be a port number, got "${options.http}"`, EXIT.usage);
        const served = await mcp.serveHttp(settings, port);
        // stderr: a person reads it; stdout stays free for whoever parses it.
        process.stderr.write(`retouch mcp on ${served.url} (Streamable HTTP, this machine only)\n`);
      }),
    );
}
