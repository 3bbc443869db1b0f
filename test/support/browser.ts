// A real browser for tests: Debian's chromium driven by playwright-core (no
// browser downloads), and a second loopback origin that serves a page script
// bundled from TypeScript with esbuild, as a web app on another site would.

import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";

const CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** Headless Chromium; fails with the fix when it is not installed (a browser test never skips). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? CHROMIUM_PATHS.find((path) => existsSync(path));
  if (!executablePath) {
    throw new Error(`no Chromium at ${CHROMIUM_PATHS.join(", ")}: apt-get install chromium (or set CHROMIUM_PATH); .ci/run installs it`);
  }
  // No sandbox (CI runs as root); nothing fetched in the background (the machine is offline).
  return chromium.launch({ executablePath, headless: true, chromiumSandbox: false, args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update"] });
}

/** esbuild's bundle of `entry` for the browser, as one ES module. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "chrome120",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

export interface PageSite {
  /** http://127.0.0.1:PORT: the page's origin, another port than the gateway's. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves an empty page at / that loads `script` (an ES module) from /page.js. */
export async function servePage(script: string): Promise<PageSite> {
  const html = '<!doctype html><meta charset="utf-8"><title>another site</title><script type="module" src="/page.js"></script>';
  const server: Server = createServer((request, response) => {
    if (request.url === "/page.js") {
      response.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    } else if (request.url === "/") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
