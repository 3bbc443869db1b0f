// `retouch mcp`'s tools, for AI agents: edit_image pays for an edit from the
// user's wallet through the same path as `retouch edit` (inputs checked before
// paying, the proxy's per-request and per-day caps, the one spend log, 202s
// followed with Sign-In-With-X, results saved), and answers the files, URLs,
// price, transaction and the picture itself; list_models, wallet_balance and
// spend answer what an agent needs to choose and to stay within budget. A
// failure is a tool error with the reason; it says whether anything was paid.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import sharp from "sharp";
import { z } from "zod";
import { VERSION } from "../../version.ts";
import { formatUnits } from "../balances.ts";
import { runEdit } from "../edit.ts";
import { CliError, EXIT, shortReason } from "../errors.ts";
import { gatewayUrl, reach } from "../gateway.ts";
import { usd } from "../paying.ts";
import { spendCaps } from "../spend-caps.ts";
import { readSpendLog, spendLogPath, spendTotals } from "../spend-ledger.ts";
import { retouchHome } from "../state-folder.ts";
import { walletBalance } from "../wallet-commands.ts";
import { expandHome } from "../wallet-file.ts";

export interface McpSettings {
  env: NodeJS.ProcessEnv;
  gateway?: string;
  wallet?: string;
  network?: string;
  /** Where edit results are saved (default RETOUCH_IMAGE_DIR, else ~/.retouch/images). */
  outDir?: string;
}

/** Pictures handed back to the agent are at most this many pixels a side (the saved file keeps its size). */
export const MCP_IMAGE_SIDE = 1024;

const image = z.string().min(1).describe("a local file path, an http(s) URL or a data: URI of a PNG, JPEG or WebP");

export function createMcpServer(settings: McpSettings): McpServer {
  const server = new McpServer({ name: "retouch", version: VERSION });
  const gateway = () => gatewayUrl(settings.gateway, settings.env);
  const outDir = expandHome(settings.outDir ?? settings.env.RETOUCH_IMAGE_DIR ?? join(retouchHome(settings.env), "images"));

  server.registerTool(
    "edit_image",
    {
      title: "Edit an image (paid)",
      description:
        "Edits a picture with a prompt and an optional mask (white = the area to change) through a retouch gateway, paying its " +
        "quote in USDC from the user's wallet within max_price_usd and the user's per-request and per-day caps. Nothing is paid " +
        "when an input is bad or the quote is too high; a failed edit is not charged. Returns the saved files, their URLs, the price " +
        "and the transaction, and the edited picture.",
      inputSchema: {
        image: z.union([image, z.array(image).min(1).max(16)]).describe("the picture to edit (several where the model takes several)"),
        mask: image.optional().describe("white = edit, black = keep; same aspect ratio as the picture"),
        prompt: z.string().min(1).max(32_000).describe("what to change"),
        model: z.string().optional().describe("a model id from list_models (default: the gateway's default)"),
        size: z.string().regex(/^\d+x\d+$/).optional().describe("e.g. 1024x1024; list_models shows each model's sizes"),
        n: z.number().int().min(1).max(10).optional().describe("how many results"),
        max_price_usd: z.union([z.string(), z.number()]).optional().describe("refuse a quote above this (USD, default 1)"),
        network: z.enum(["base", "solana"]).optional().describe("pay on this network only"),
        payment_id: z
          .string()
          .regex(/^[A-Za-z0-9_-]{16,128}$/)
          .optional()
          .describe(
            "idempotency key (16-128 letters, digits, - or _): calling again with the same payment_id and the same inputs, " +
              "e.g. after a timeout, returns the first result without paying twice; default: a new one per call (it is in the result)",
          ),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      const token = extra._meta?.progressToken;
      let step = 0;
      const progress = (message: string) => {
        if (token === undefined) return;
        void extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: ++step, message } }).catch(() => {});
      };
      return toolCall(async () => {
        const outcome = await runEdit({
          image: Array.isArray(args.image) ? args.image : [args.image],
          mask: args.mask,
          prompt: args.prompt,
          model: args.model,
          size: args.size,
          n: args.n,
          maxPrice: args.max_price_usd === undefined ? undefined : String(args.max_price_usd),
          network: args.network ?? settings.network,
          paymentId: args.payment_id,
          gateway: settings.gateway,
          wallet: settings.wallet,
          out: outDir,
          json: true,
          print: () => {},
          note: progress,
          progress,
          tool: "mcp",
          env: settings.env,
        });
        const summary = {
          files: outcome.files,
          urls: outcome.urls,
          charged: outcome.charged,
          price_usd: outcome.price?.amount ?? null,
          payment: outcome.payment,
          payment_id: outcome.payment_id,
        };
        const pictures = await Promise.all(outcome.files.map(pictureContent));
        return { content: [{ type: "text", text: JSON.stringify(summary, null, 2) }, ...pictures], structuredContent: summary };
      });
    },
  );

  server.registerTool(
    "list_models",
    {
      title: "List the gateway's models",
      description: "The gateway's models: sizes and USD price per image for each, mask support, how many pictures and results, and whether it can run here (with the reason when not).",
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async () =>
      toolCall(async () => {
        const response = await reach(`${gateway()}/api/v1/models`, {});
        if (!response.ok) throw new CliError(`the gateway answered ${response.status} to /api/v1/models`, EXIT.unexpected, { code: "gateway_error" });
        const { data } = (await response.json()) as { data: Record<string, unknown>[] };
        const models = data.map((model) => ({
          id: model.id,
          available: model.available,
          ...(model.unavailable_reason ? { unavailable_reason: model.unavailable_reason } : {}),
          description: model.description,
          prices_usd_by_size: model.prices,
          default_size: model.default_size,
          mask: model.mask,
          max_images: model.max_images,
          max_n: model.max_n,
        }));
        return { content: [{ type: "text", text: JSON.stringify(models, null, 2) }], structuredContent: { models } };
      }),
  );

  server.registerTool(
    "wallet_balance",
    {
      title: "Wallet balance",
      description: "USDC and gas of the paying wallet (RETOUCH_WALLET) on each network the gateway accepts.",
      inputSchema: { network: z.enum(["base", "solana"]).optional().describe("only this network") },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (args) =>
      toolCall(async () => {
        const balances = await walletBalance({ gateway: settings.gateway, wallet: settings.wallet, network: args.network, env: settings.env, print: () => {}, note: () => {} });
        const rows = balances.map((b) => ({
          network: b.network.name,
          address: b.address,
          usdc: formatUnits(b.usdc, 6),
          gas: formatUnits(b.gas, b.gasDecimals, 0),
          gas_symbol: b.gasSymbol,
        }));
        return { content: [{ type: "text", text: JSON.stringify(rows, null, 2) }], structuredContent: { balances: rows } };
      }),
  );

  server.registerTool(
    "spend",
    {
      title: "Spending so far and the caps",
      description: "What retouch's buyer tools (edit, proxy, mcp) have paid today (UTC) and in total, and the caps: RETOUCH_MAX_PER_REQUEST and RETOUCH_MAX_PER_DAY.",
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () =>
      toolCall(async () => {
        const file = spendLogPath(settings.env);
        const totals = spendTotals(await readSpendLog(file));
        const caps = spendCaps(settings.env);
        const report = { ...totals, caps: { max_per_request_usd: usd(caps.maxPerRequest).slice(1), max_per_day_usd: usd(caps.maxPerDay).slice(1) }, spend_log: file };
        return { content: [{ type: "text", text: JSON.stringify(report, null, 2) }], structuredContent: report };
      }),
  );

  return server;
}

/** Runs a tool; a failure becomes a tool error with its reason (and its code), never a stack. */
async function toolCall(work: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await work();
  } catch (error) {
    // The edit command's words, in the tool's terms: its flag is this tool's argument.
    const text = error instanceof CliError ? `${error.message.replaceAll("--max-price", "max_price_usd")} (${error.code})` : `retouch failed: ${shortReason(error)}`;
    return { isError: true, content: [{ type: "text", text }] };
  }
}

/** The saved picture as MCP image content, downscaled to MCP_IMAGE_SIDE when larger. */
async function pictureContent(file: string): Promise<CallToolResult["content"][number]> {
  const bytes = await readFile(file);
  const { width = 0, height = 0, format } = await sharp(bytes).metadata();
  if (Math.max(width, height) <= MCP_IMAGE_SIDE && bytes.length <= 2 * 1024 * 1024 && (format === "png" || format === "jpeg" || format === "webp")) {
    return { type: "image", data: bytes.toString("base64"), mimeType: `image/${format}` };
  }
  const smaller = await sharp(bytes).resize(MCP_IMAGE_SIDE, MCP_IMAGE_SIDE, { fit: "inside", withoutEnlargement: true }).png().toBuffer();
  return { type: "image", data: smaller.toString("base64"), mimeType: "image/png" };
}
