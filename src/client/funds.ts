// Before anything is signed: which of the gateway's offers the wallet can pay, read
// from each chain. An unfunded wallet is exit 3 with its balances; an RPC that does
// not answer is exit 5 naming the variable to set (the same as `wallet balance`).

import { formatUnits, readBalanceFrom } from "./balances.ts";
import { CliError, EXIT } from "./errors.ts";
import type { Offer } from "./gateway.ts";
import { quoteOf, usd } from "./paying.ts";
import type { RpcPlan } from "./rpc.ts";
import type { Wallet } from "./wallet-file.ts";

/** The offers (in the gateway's order) whose network holds enough USDC for the quote. */
export async function fundedOffers(offers: Offer[], wallet: Wallet, rpc: RpcPlan): Promise<Offer[]> {
  const funded: Offer[] = [];
  const short: string[] = [];
  const unreachable: CliError[] = [];
  for (const offer of offers) {
    try {
      const balance = await readBalanceFrom({ network: offer.network, wallet, endpoint: rpc.endpoint(offer.network), asset: offer.requirements.asset });
      if (balance.usdc >= quoteOf(offer)) funded.push(offer);
      else short.push(`${formatUnits(balance.usdc, 6)} USDC on ${offer.network.name} at ${balance.address}`);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      unreachable.push(error);
    }
  }
  if (funded.length > 0) return funded;
  if (unreachable.length > 0) {
    const also = short.length > 0 ? ` (and the wallet holds only ${short.join(", ")})` : "";
    throw new CliError(`${unreachable.map((e) => e.message).join("; ")}${also}; nothing was paid`, EXIT.unreachable, { code: "rpc_unreachable" });
  }
  const quote = usd(offers.map(quoteOf).reduce((a, b) => (a < b ? a : b)));
  throw new CliError(
    `the wallet ${wallet.file} cannot pay ${quote}: it holds ${short.join(", ")}; fund it with USDC (\`retouch wallet show\` prints its addresses); nothing was paid`,
    EXIT.payment,
    { code: "insufficient_funds" },
  );
}
