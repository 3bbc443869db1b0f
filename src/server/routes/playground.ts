// The playground at /: the page built from web/ (web/dist, shipped in the
// repository so `npm install && npm start` needs no build step), its assets,
// and the example picture. The HTML carries this gateway's limits and payment
// mode; every answer carries a Content-Security-Policy that names only this
// gateway and the chains' RPCs the page talks to. RETOUCH_PLAYGROUND=off: none
// of these routes exist.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { NETWORKS } from "../../chains/index.ts";
import { MIN_IMAGE_SIDE } from "../../edits/index.ts";
import type { App, ServerDeps } from "../context.ts";
import { notFound } from "../errors.ts";
import { packageFile } from "../../paths.ts";

const WEB_DIST = fileURLToPath(packageFile("web/dist/"));
const EXAMPLE = fileURLToPath(packageFile("examples/photo.png"));
/** Hashed names: a changed file gets a new name, so browsers may keep these for a year. */
const ASSET_CACHE = "public, max-age=31536000, immutable";

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
};

interface Asset {
  type: string;
  bytes: Buffer;
  gzip?: Buffer;
}

/** What the page reads from its HTML (web/src/config.ts). */
export interface PageConfig {
  payments: string;
  networks: string[];
  maxBodyBytes: number;
  maxImageSide: number;
  minImageSide: number;
  solanaRpcUrl?: string;
}

export function registerPlayground(app: App, deps: ServerDeps): void {
  if (!deps.config.playground) return;
  const indexPath = join(WEB_DIST, "index.html");
  if (!existsSync(indexPath)) {
    deps.logger.warn(`the playground is not built (${indexPath} is missing): npm run build:web; / answers 503 until then`);
    app.get("/", (c) => c.text("The playground is not built: run `npm run build:web`, then restart.", 503));
    return;
  }
  const page = pageConfig(deps);
  const html = readFileSync(indexPath, "utf8").replace(
    /(<script type="application\/json" id="retouch-config">)[^<]*(<\/script>)/,
    (_, open: string, close: string) => `${open}${JSON.stringify(page).replace(/</g, "\\u003c")}${close}`,
  );
  const security = securityHeaders(contentSecurityPolicy(deps, page));
  const assets = readAssets(join(WEB_DIST, "playground"));

  app.get("/", (c) => c.html(html, 200, { ...security, "Cache-Control": "no-cache" }));

  app.get("/playground/:file", (c) => {
    const asset = assets.get(c.req.param("file"));
    if (!asset) return notFound(c);
    const headers: Record<string, string> = { ...security, "Content-Type": asset.type, "Cache-Control": ASSET_CACHE, Vary: "Accept-Encoding" };
    if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "") && asset.type.startsWith("text/")) {
      asset.gzip ??= gzipSync(asset.bytes, { level: 9 });
      return c.body(new Uint8Array(asset.gzip), 200, { ...headers, "Content-Encoding": "gzip" });
    }
    return c.body(new Uint8Array(asset.bytes), 200, headers);
  });

  const example = readFileSync(EXAMPLE);
  app.get("/example.png", (c) => c.body(new Uint8Array(example), 200, { ...security, "Content-Type": "image/png", "Cache-Control": "public, max-age=86400" }));
}

function pageConfig(deps: ServerDeps): PageConfig {
  const { payments, maxBodyBytes, maxImageSide } = deps.config;
  const networks = payments.mode === "off" ? [] : payments.networks.map((name) => NETWORKS[name].caip2);
  const solana = payments.networks.find((name) => NETWORKS[name].family === "svm");
  const solanaRpcUrl = payments.mode === "devchain" ? deps.devchain?.solana.rpcUrl : solana && payments.mode !== "off" ? NETWORKS[solana].publicRpcUrl : undefined;
  return { payments: payments.mode, networks, maxBodyBytes, maxImageSide, minImageSide: MIN_IMAGE_SIDE, ...(solanaRpcUrl ? { solanaRpcUrl } : {}) };
}

/** Only this gateway, plus what the page must reach: the devchain's RPCs, a Solana RPC, a results bucket. */
export function contentSecurityPolicy(deps: ServerDeps, page: PageConfig): string {
  const origins = new Set<string>();
  const add = (url: string | undefined) => url && origins.add(new URL(url).origin);
  add(deps.devchain?.evm.rpcUrl);
  add(page.solanaRpcUrl);
  add(deps.config.s3?.publicUrl);
  const extra = [...origins].join(" ");
  const resultOrigin = deps.config.s3?.publicUrl ? ` ${new URL(deps.config.s3.publicUrl).origin}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob:${resultOrigin}`,
    `connect-src 'self'${extra ? ` ${extra}` : ""}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function securityHeaders(csp: string): Record<string, string> {
  return {
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
  };
}

function readAssets(folder: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(folder)) return assets;
  for (const name of readdirSync(folder)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { type, bytes: readFileSync(join(folder, name)) });
  }
  return assets;
}
