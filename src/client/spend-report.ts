// `retouch spend` and `retouch proxy --stats`: what the buyer tools signed today and in
// all, from the one spend log, in total and by tool (edit, proxy, mcp).

import { readSpendLog, spendLogPath, spendTotals, type SpendTotal } from "./spend-ledger.ts";
import { assertNotFolder } from "./state-folder.ts";

export async function printSpend(options: { env?: NodeJS.ProcessEnv; json?: boolean; print?: (line: string) => void } = {}): Promise<void> {
  const print = options.print ?? console.log;
  const file = spendLogPath(options.env ?? process.env);
  await assertNotFolder(file, "RETOUCH_SPEND_LOG", "spend.jsonl");
  const totals = spendTotals(await readSpendLog(file));
  if (options.json) {
    print(JSON.stringify({ ok: true, file, ...totals }));
    return;
  }
  const plural = (n: number) => `${n} edit${n === 1 ? "" : "s"}`;
  const line = (t: SpendTotal) => `$${t.usd} in ${plural(t.count)}`;
  print(`today (UTC): ${line(totals.today)}`);
  print(`total:       ${line(totals.total)}`);
  for (const [tool, split] of Object.entries(totals.by_tool)) {
    print(`  ${`${tool}:`.padEnd(8)} today ${line(split.today)}, total ${line(split.total)}`);
  }
  print(`spend log:   ${file}`);
}
