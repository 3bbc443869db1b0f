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
import { BASE, SOLANA, type Devchain, type DevWallet } from "../../src/chains/index.ts";
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
export async function signV2(gw: TestGateway, network: TestNetwork, path: string, init: RequestInit, wallet?: DevWallet) {
  const challenge = await gw.request(path, init);
  if (challenge.status !== 402) throw new Error(`expected 402, got ${challenge.status}: ${await challenge.text()}`);
  const required = JSON.parse(Buffer.from(challenge.headers.get("payment-required")!, "base64").toString()) as PaymentRequired;
  const payload = await x402ClientFor(gw.gateway.devchain!, network, wallet).createPaymentPayload(required);
  return { header: Buffer.from(JSON.stringify(payload)).toString("base64"), payload, required };
}

/** A v1 X-PAYMENT header value built from the 402's JSON body, as v1 clients do. */
export async function signV1(gw: TestGateway, network: TestNetwork, path: string, init: RequestInit): Promise<string> {
  const challenge = await gw.request(path, init);
  const body = (await challenge.json()) as PaymentRequired & { x402Version: 1 };
  const devchain = gw.gateway.devchain!;
  const buyer = devchain.wallets.buyer;
  const client =
    network === "base"
      ? new x402Client().registerV1("base" as never, new ExactEvmSchemeV1(toClientEvmSigner(buyer.evm, devchain.evm.publicClient)))
      : new x402Client().registerV1("solana" as never, new ExactSvmSchemeV1(buyer.solana, { rpcUrl: devchain.solana.rpcUrl }));
  const payload = await client.createPaymentPayload({ ...body, accepts: body.accepts.filter((a) => String(a.network) === network) });
  return Buffer.from(JSON.stringify(payload)).toString("base64");
}

export function decodeHeader<T = Record<string, unknown>>(value: string | null): T {
  if (!value) throw new Error("header missing");
  return JSON.parse(Buffer.from(value, "base64").toString("utf8")) as T;
}
