// `retouch edit`: a paid edit from the command line (the logic is in client/edit.ts).

import type { Command } from "commander";
import type { EditOptions } from "../client/edit.ts";
import { runCommand } from "../client/run.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerEditCommand(program: Command): void {
  program
    .command("edit")
    .description("edit pictures on the gateway, paying the quote in USDC from your wallet")
    .argument("<prompt...>", "what to change (the rest of the line)")
    .option("--image <src>", "picture to edit: a file, an http(s) URL or a data URI (repeatable)", collect, [])
    .option("--mask <src>", "mask: white = area to edit, black = keep")
    .option("--model <id>", "model id (see GET /api/v1/models)")
    .option("--size <WxH>", "output size, e.g. 1024x1024")
    .option("--n <n>", "how many images to make")
    .option("--out <dir>", "folder for the results (default: here)")
    .option("--max-price <usd>", "refuse quotes above this many USD (default 1)")
    .option("--network <name>", "pay on this network (base or solana)")
    .option("--gateway <url>", "gateway URL (RETOUCH_GATEWAY_URL, default http://127.0.0.1:4021)")
    .option("--wallet <file>", "key file (RETOUCH_WALLET, default ~/.retouch/wallet.json)")
    .option("--base-rpc <url>", "Base JSON-RPC URL (BASE_RPC_URL)")
    .option("--solana-rpc <url>", "Solana JSON-RPC URL (SOLANA_RPC_URL)")
    .option("--json", "print one JSON object instead of lines")
    .action((words: string[], options: Omit<EditOptions, "prompt">) =>
      runCommand(async () => (await import("../client/edit.ts")).runEdit({ ...options, prompt: words.join(" ") })),
    );
}
