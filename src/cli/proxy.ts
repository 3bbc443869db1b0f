// `retouch proxy` and `retouch spend`: the local OpenAI-compatible paying proxy and
// what it has spent (the logic is in client/proxy/).

import type { Command } from "commander";
import type { ProxyOptions } from "../client/proxy/settings.ts";
import { runCommand } from "../client/run.ts";

export function registerProxyCommands(program: Command): void {
  program
    .command("proxy")
    .description("serve OpenAI-style image edits on 127.0.0.1, paying the gateway from your wallet within daily caps")
    .option("--port <port>", "port on 127.0.0.1 (default 8402)")
    .option("--gateway <url>", "gateway URL (RETOUCH_GATEWAY_URL, default http://127.0.0.1:4021)")
    .option("--wallet <file>", "key file (RETOUCH_WALLET, default ~/.retouch/wallet.json)")
    .option("--network <name>", "pay on this network only (base or solana)")
    .option("--base-rpc <url>", "Base JSON-RPC URL (BASE_RPC_URL)")
    .option("--solana-rpc <url>", "Solana JSON-RPC URL (SOLANA_RPC_URL)")
    .option("--stats", "print today's and the total spend, then exit")
    .addHelpText(
      "after",
      "\nEnv: RETOUCH_MAX_PER_REQUEST (USD, default 1), RETOUCH_MAX_PER_DAY (USD, default 10), shared with `retouch edit`,\n" +
        "RETOUCH_HOME (state folder, ~/.retouch), RETOUCH_IMAGE_DIR (~/.retouch/images),\n" +
        "RETOUCH_SPEND_LOG (~/.retouch/spend.jsonl), RETOUCH_PROXY_MAX_BODY_BYTES (default 52428800).",
    )
    .action((options: ProxyOptions & { stats?: boolean }) =>
      runCommand(async () => {
        if (options.stats) return (await import("../client/spend-report.ts")).printSpend();
        const proxy = await (await import("../client/proxy/index.ts")).startProxy(options);
        const { usd } = await import("../client/paying.ts");
        const s = proxy.settings;
        console.log(`retouch proxy on ${proxy.url} -> ${s.gateway}`);
        console.log(`  OpenAI SDK: new OpenAI({ baseURL: "${proxy.url}/v1", apiKey: "x" })`);
        console.log(`  caps: ${usd(s.maxPerRequest)} per request, ${usd(s.maxPerDay)} per day (UTC); spend log ${s.spendLog}`);
        console.log(`  images saved in ${s.imageDir}`);
      }),
    );

  program
    .command("spend")
    .description("print what retouch's buyer tools (edit, proxy) signed today and in total, by tool (RETOUCH_SPEND_LOG)")
    .option("--json", "print one JSON object")
    .action((options: { json?: boolean }) => runCommand(async () => (await import("../client/spend-report.ts")).printSpend(options)));
}
