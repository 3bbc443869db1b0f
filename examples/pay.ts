// A paid edit with the official x402 client (@x402/fetch, v2), paying from the
// devchain's buyer wallet: `node --import tsx examples/pay.ts base|solana`.
// Env: RETOUCH_GATEWAY_URL (default http://127.0.0.1:4021), RETOUCH_WALLET
// (default .retouch/dev-wallets.json), SOLANA_RPC_URL (default the devchain's).

import { readFile } from "node:fs/promises";
import { createKeyPairSignerFromBytes, getBase58Encoder } from "@solana/kit";
import { x402Client } from "@x402/core/client";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { decodePaymentResponseHeader, wrapFetchWithPayment } from "@x402/fetch";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { createPublicClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { base } from "viem/chains";

const network = process.argv[2] ?? "base";
const gateway = process.env.RETOUCH_GATEWAY_URL ?? "http://127.0.0.1:4021";
const wallet = JSON.parse(await readFile(process.env.RETOUCH_WALLET ?? ".retouch/dev-wallets.json", "utf8"));

const client = new x402Client();
if (network === "base") {
  const account = privateKeyToAccount(wallet.evm.privateKey);
  const publicClient = createPublicClient({ chain: base, transport: http(process.env.BASE_RPC_URL ?? "http://127.0.0.1:8545") });
  client.register("eip155:8453", new ExactEvmScheme(toClientEvmSigner(account, publicClient)));
} else {
  const signer = await createKeyPairSignerFromBytes(getBase58Encoder().encode(wallet.solana.secretKey));
  client.register(
    "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    new ExactSvmScheme(signer, { rpcUrl: process.env.SOLANA_RPC_URL ?? "http://127.0.0.1:8899" }),
  );
}

const dataUri = async (path: string) => `data:image/png;base64,${(await readFile(path)).toString("base64")}`;
const response = await wrapFetchWithPayment(fetch, client)(`${gateway}/api/v1/images/image2image`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    model: "local/content-aware-fill",
    prompt: "remove the red ball",
    image: await dataUri("examples/photo.png"),
    mask: await dataUri("examples/mask.png"),
  }),
});
console.log(response.status, JSON.stringify(await response.json(), null, 2));
const receipt = response.headers.get("payment-response");
if (receipt) console.log("PAYMENT-RESPONSE:", decodePaymentResponseHeader(receipt));
