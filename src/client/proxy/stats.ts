// `retouch spend` and `retouch proxy --stats`: what the proxy paid today and in all.

import { readSpendLog, spendTotals } from "./spend-log.ts";
import { spendLogPath } from "./settings.ts";

export async function printSpend(options: { env?: NodeJS.ProcessEnv; json?: boolean; print?: (line: string) => void } = {}): Promise<void> {
  const print = options.print ?? console.log;
  const file = spendLogPath(options.env ?? process.env);
  const totals = spendTotals(await readSpendLog(file));
  if (options.json) {
    print(JSON.stringify({ file, ...totals }));
    return;
  }
  const plural = (n: number) => `${n} edit${n === 1 ? "" : "s"}`;
  print(`today (UTC): $${totals.today.usd} in ${plural(totals.today.count)}`);
  print(`total:       $${totals.total.usd} in ${plural(totals.total.count)}`);
  print(`spend log:   ${file}`);
}
