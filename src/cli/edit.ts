// `retouch edit`: a paid edit from the command line (the logic is in client/edit.ts,
// `--resume` in client/resume.ts).

import type { Command } from "commander";
import { DEFAULT_MODEL_ID } from "../catalog/models.ts";
import type { EditOptions } from "../client/edit.ts";
import { CliError, EXIT } from "../client/errors.ts";
import { runCommand } from "../client/run.ts";

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const HELP = `
Default model: the gateway's default, ${DEFAULT_MODEL_ID}; local/content-aware-fill runs on the
gateway itself and needs --mask. The models and their prices: GET /api/v1/models.

Nothing is paid before the inputs, --out, the wallet and its balance are checked; a
gateway that does not charge (payments off) needs no wallet. Ctrl-C says whether the
edit was paid; a paid edit whose result was not saved is fetched by --resume.

Environment:
  RETOUCH_GATEWAY_URL   default of --gateway (http://127.0.0.1:4021)
  RETOUCH_WALLET        default of --wallet (~/.retouch/wallet.json)
  BASE_RPC_URL          Base JSON-RPC (default: the devchain a local gateway runs, else https://mainnet.base.org)
  SOLANA_RPC_URL        Solana JSON-RPC (default: the devchain a local gateway runs, else the public endpoint)
  RETOUCH_MAX_PER_REQUEST, RETOUCH_MAX_PER_DAY  spend caps in USD (default 1 and 10), shared with \`retouch proxy\`
  RETOUCH_HOME          state folder: pending payments (default ~/.retouch)
  RETOUCH_SPEND_LOG     the spend log every buyer tool writes (default ~/.retouch/spend.jsonl)

--json prints exactly one object on stdout:
  {"ok":true,"files":[...],"urls":[...],"charged":true,"price":{"amount":"0.001","currency":"USD"},"payment":{"network","tx_hash","status"},"payment_id":"pay_..."}
  {"ok":false,"error":{"code":"...","message":"...","exit_code":2}}`;

export function registerEditCommand(program: Command): void {
  program
    .command("edit")
    .description("edit pictures on the gateway, paying the quote in USDC from your wallet")
    .argument("[prompt...]", "what to change (the rest of the line)")
    .option("--image <src>", "picture to edit: a file, an http(s) URL or a data URI (repeatable)", collect)
    .option("--mask <src>", "mask: white = area to edit, black = keep")
    .option("--model <id>", `model id (default: the gateway's, ${DEFAULT_MODEL_ID})`)
    .option("--size <WxH>", "output size, e.g. 1024x1024")
    .option("--n <n>", "how many images to make")
    .option("--out <dir>", "folder for the results (default: here)")
    .option("--max-price <usd>", "refuse quotes above this many USD (default 1)")
    .option("--network <name>", "pay on this network (base or solana)")
    .option("--payment-id <id>", "idempotency key: the same id again (same wallet and request) gets the first result without paying twice")
    .option("--gateway <url>", "gateway URL (RETOUCH_GATEWAY_URL, default http://127.0.0.1:4021)")
    .option("--wallet <file>", "key file (RETOUCH_WALLET, default ~/.retouch/wallet.json)")
    .option("--base-rpc <url>", "Base JSON-RPC URL (BASE_RPC_URL)")
    .option("--solana-rpc <url>", "Solana JSON-RPC URL (SOLANA_RPC_URL)")
    .option("--resume", "fetch the results of earlier paid edits that were interrupted, without paying again")
    .option("--json", "print one JSON object instead of lines")
    .addHelpText("after", HELP)
    .action((words: string[], flags: Omit<EditOptions, "prompt" | "image"> & { image?: string[]; resume?: boolean }) =>
      runCommand(async () => {
        const options = { ...flags, image: flags.image ?? [] };
        if (options.resume) {
          if (words.length > 0 || options.image.length > 0 || options.mask) {
            throw new CliError("--resume fetches earlier paid edits: give it no prompt, --image or --mask", EXIT.usage);
          }
          return (await import("../client/resume.ts")).runResume(options);
        }
        return (await import("../client/edit.ts")).runEdit({ ...options, prompt: words.join(" "), handleInterrupt: true });
      }),
    );
}
