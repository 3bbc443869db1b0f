// The script of a web app on another site that buys an edit from a retouch
// gateway in the browser, the way x402's documentation shows it: @x402/fetch
// with @x402/evm over a viem wallet client on an EIP-1193 provider. Here the
// provider is the test's wallet over a devchain key (test-wallets.ts), standing
// in for the extension (MetaMask, Coinbase Wallet ...) that injects window.ethereum.
// Bundled with esbuild by the browser test and called through window.retouchPage.

import { ExactEvmScheme } from "@x402/evm/exact/client";
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { createWalletClient, custom, numberToHex, type Hex } from "viem";
import { eip1193Wallet } from "./test-wallets.ts";

const BASE_CAIP2 = "eip155:8453";

export interface PageRun {
  /** Each answer the page's fetch got, in order, with the headers the page could read. */
  answers: { status: number; paymentRequired: string | null; requestId: string | null }[];
  status?: number;
  body?: unknown;
  settlement?: { success: boolean; transaction: string; network: string; payer?: string };
  /** The result image as fetched by the page: its length and first bytes. */
  image?: { bytes: number; head: number[] };
  /** What fetch threw, when the browser refused (a CORS failure is a TypeError). */
  error?: string;
}

async function payForEdit(options: { gateway: string; key: Hex; chainId: number; edit: unknown; pay: boolean }): Promise<PageRun> {
  const ethereum = eip1193Wallet(options.key, options.chainId);
  const [address] = (await ethereum.request({ method: "eth_requestAccounts" })) as Hex[];
  await ethereum.request({ method: "wallet_switchEthereumChain", params: [{ chainId: numberToHex(8453) }] });
  const wallet = createWalletClient({ account: address!, transport: custom(ethereum) });
  const signer = { address: address!, signTypedData: (typed: Parameters<typeof wallet.signTypedData>[0]) => wallet.signTypedData(typed) };
  const client = new x402Client().register(BASE_CAIP2, new ExactEvmScheme(signer as never));

  const run: PageRun = { answers: [] };
  const watched: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    run.answers.push({ status: response.status, paymentRequired: response.headers.get("PAYMENT-REQUIRED"), requestId: response.headers.get("X-Request-Id") });
    return response;
  };
  const send = options.pay ? wrapFetchWithPayment(watched, client) : watched;
  try {
    const response = await send(`${options.gateway}/api/v1/images/image2image`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(options.edit),
    });
    run.status = response.status;
    run.body = await response.json();
    const receipt = response.headers.get("PAYMENT-RESPONSE");
    if (receipt) run.settlement = decodePaymentResponseHeader(receipt) as PageRun["settlement"];
    const url = (run.body as { data?: { url: string }[] }).data?.[0]?.url;
    if (url) {
      const image = new Uint8Array(await (await fetch(url)).arrayBuffer());
      run.image = { bytes: image.length, head: [...image.subarray(0, 8)] };
    }
  } catch (error) {
    run.error = `${(error as Error).name}: ${(error as Error).message}`;
  }
  return run;
}

(globalThis as unknown as { retouchPage: unknown }).retouchPage = { payForEdit };
