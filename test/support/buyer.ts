// The buyer's side in tests: the official x402 clients (v2 @x402/fetch, v1
// X-PAYMENT) paying a test gateway from the devchain's funded buyer wallet.

import { x402Client } from "@x402/core/client";
import type { PaymentRequired } from "@x402/core/types";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { ExactEvmSchemeV1 } from "@x402/evm/exact/v1/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { ExactSvmSchemeV1 } from "@x402/svm/exact/v1/client";
import { BASE, generateWalletKeys, SOLANA, walletFromKeys, type Devchain, type DevWallet } from "../../src/chains/index.ts";
import type { TestGateway } from "./gateway.ts";

export type TestNetwork = "base" | "solana";

/** An x402 v2 client paying on one network with `wallet` (default: the devchain's buyer). */
export function x402ClientFor(devchain: Devchain, network: TestNetwork, wallet: DevWallet = devchain.wallets.buyer): x402Client {
  if (network === "base") {
    return new x402Client().register(BASE.caip2, new ExactEvmScheme(toClientEvmSigner(wallet.evm, devchain.evm.publicClient)));
  }
  return new x402Client().register(SOLANA.caip2, new ExactSvmScheme(wallet.solana, { rpcUrl: devchain.solana.rpcUrl }));
}

/** fetch that answers from the gateway in-process and pays 402s like @x402/fetch does for any app. */
export function payingFetch(
  gw: TestGateway,
  network: TestNetwork,
  wallet?: DevWallet,
  devchain: Devchain = gw.gateway.devchain!,
): typeof fetch {
  const inProcess = ((input: string | URL | Request, init?: RequestInit) =>
    Promise.resolve(gw.gateway.app.fetch(new Request(input, init)))) as typeof fetch;
  return wrapFetchWithPayment(inProcess, x402ClientFor(devchain, network, wallet));
}

/** A v2 PAYMENT-SIGNATURE header value for the 402 this request gets. */
export async function signV2(
  gw: TestGateway,
  network: TestNetwork,
  path: string,
  init: RequestInit,
  wallet?: DevWallet,
  devchain: Devchain = gw.gateway.devchain!,
) {
  const challenge = await gw.request(path, init);
  if (challenge.status !== 402) throw new Error(`expected 402, got ${challenge.status}: ${await challenge.text()}`);
  const required = JSON.parse(Buffer.from(challenge.headers.get("payment-required")!, "base64").toString()) as PaymentRequired;
  const payload = await x402ClientFor(devchain, network, wallet).createPaymentPayload(required);
  return { header: Buffer.from(JSON.stringify(payload)).toString("base64"), payload, required };
}

/** One entry of a v1 402 body's `accepts`. */
export type V1Accept = Record<string, unknown> & { network: string; maxAmountRequired: string; payTo: string; asset: string; maxTimeoutSeconds: number };

export interface SignV1Options {
  /** Who pays (default: the devchain's buyer). */
  wallet?: DevWallet;
  /** Changes the terms before they are signed, as a client that does not follow them would. */
  tamper?: (accept: V1Accept) => V1Accept;
}

/** A v1 X-PAYMENT header value built from the 402's JSON body, as v1 clients do. */
export async function signV1(gw: TestGateway, network: TestNetwork, path: string, init: RequestInit, options: SignV1Options = {}): Promise<string> {
  const challenge = await gw.request(path, init);
  const body = (await challenge.json()) as PaymentRequired & { x402Version: 1 };
  const devchain = gw.gateway.devchain!;
  const buyer = options.wallet ?? devchain.wallets.buyer;
  const scheme =
    network === "base"
      ? new ExactEvmSchemeV1(toClientEvmSigner(buyer.evm, devchain.evm.publicClient))
      : new ExactSvmSchemeV1(buyer.solana, { rpcUrl: devchain.solana.rpcUrl });
  // A client that changes the terms also signs for assets x402's spend controls would refuse.
  const client = x402Client.fromConfig({
    schemes: [{ network: network as never, client: scheme, x402Version: 1 }],
    ...(options.tamper ? { spendControls: false } : {}),
  });
  const tamper = options.tamper ?? ((accept: V1Accept) => accept);
  const accepts = (body.accepts as unknown as V1Accept[]).filter((a) => String(a.network) === network).map((a) => tamper({ ...a }));
  const payload = await client.createPaymentPayload({ ...body, accepts } as never);
  return Buffer.from(JSON.stringify(payload)).toString("base64");
}

/** A new wallet (EVM and Solana keys) holding `usdc` atomic units on both networks, so a test's balances are its own. */
export async function fundedWallet(devchain: Devchain, usdc = 1_000_000n): Promise<DevWallet> {
  const wallet = await walletFromKeys("", await generateWalletKeys(), (what) => new Error(what));
  await devchain.fundUsdc("base", wallet.evm.address, usdc);
  await devchain.fundUsdc("solana", wallet.solana.address, usdc);
  return wallet;
}

export function decodeHeader<T = Record<string, unknown>>(value: string | null): T {
  if (!value) throw new Error("header missing");
  return JSON.parse(Buffer.from(value, "base64").toString("utf8")) as T;
}
