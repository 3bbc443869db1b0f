// `retouch proxy` and `retouch spend`: the local OpenAI-compatible paying proxy and
// what the buyer tools have signed (the logic is in client/proxy/ and client/spend-report.ts).

import type { Command } from "commander";
import type { ProxyOptions } from "../client/proxy/settings.ts";
import { runCommand } from "../client/run.ts";

const ENV = `
Environment:
  RETOUCH_MAX_PER_REQUEST, RETOUCH_MAX_PER_DAY  spend caps in USD (default 1 and 10, per UTC day),
                        checked against every payment any buyer tool signed (shared with \`retouch edit\`)
  RETOUCH_HOME          state folder, 0700 (default ~/.retouch): spend log, pending payments, images
  RETOUCH_SPEND_LOG     the spend log (default ~/.retouch/spend.jsonl)
  RETOUCH_IMAGE_DIR     where the proxy keeps results (default ~/.retouch/images)
  RETOUCH_PROXY_MAX_BODY_BYTES  largest request body (default 52428800)
  RETOUCH_GATEWAY_URL, RETOUCH_WALLET, BASE_RPC_URL, SOLANA_RPC_URL  defaults of the flags

A slow edit (202) is polled by signing in with the wallet that paid (SIGN-IN-WITH-X);
a gateway that asks for a payment to poll is refused and nothing more is signed.`;

const JSON_HELP = "print one JSON object ({\"ok\":true,...} or {\"ok\":false,\"error\":{code,message,exit_code}})";

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
    .option("--stats", "print today's and the total spend of all buyer tools, then exit (same as `retouch spend`)")
    .option("--json", JSON_HELP)
    .addHelpText("after", ENV)
    .action((options: ProxyOptions & { stats?: boolean; json?: boolean }) =>
      runCommand(async () => {
        if (options.stats) return (await import("../client/spend-report.ts")).printSpend({ json: options.json });
        const proxy = await (await import("../client/proxy/index.ts")).startProxy(options);
        const { usd } = await import("../client/paying.ts");
        const s = proxy.settings;
        if (options.json) {
          const caps = { max_per_request_usd: usd(s.maxPerRequest).slice(1), max_per_day_usd: usd(s.maxPerDay).slice(1) };
          console.log(JSON.stringify({ ok: true, url: proxy.url, gateway: s.gateway, caps, spend_log: s.spendLog, image_dir: s.imageDir }));
          return;
        }
        console.log(`retouch proxy on ${proxy.url} -> ${s.gateway}`);
        console.log(`  OpenAI SDK: new OpenAI({ baseURL: "${proxy.url}/v1", apiKey: "x" })`);
        console.log(`  caps: ${usd(s.maxPerRequest)} per request, ${usd(s.maxPerDay)} per day (UTC); spend log ${s.spendLog}`);
        console.log(`  images saved in ${s.imageDir}`);
      }),
    );

  program
    .command("spend")
    .description("print what retouch's buyer tools (edit, proxy) signed today and in total, by tool")
    .option("--json", JSON_HELP)
    .addHelpText("after", ENV)
    .action((options: { json?: boolean }) => runCommand(async () => (await import("../client/spend-report.ts")).printSpend(options)));
}
