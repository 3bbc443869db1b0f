// The settlement sweep: payments a stopped process left between "edit done" and
// "settlement recorded" are finished from the chain's point of view, at start-up
// and then periodically, so no buyer stays charged without a result and no row
// waits forever for a replay that may never come.

import type { Ledger, StaleSettlement } from "../payments/index.ts";
import type { PaidEdits } from "./paid-edits.ts";

export interface SweepReport {
  /** Edits found unfinished (never charged; a replay of their payment runs them again). */
  interrupted: number;
  settled: number;
  failed: number;
  uncertain: number;
}

export interface SettlementSweep {
  /**
   * At start-up, before serving: marks edits untouched for `olderThanMs` interrupted and takes every
   * such settlement at once (so no request of this process races for them), then settles them in the
   * background; `settled` resolves with that pass's report.
   */
  recover(olderThanMs: number): Promise<{ interrupted: number; taken: number; settled: Promise<SweepReport> }>;
  /** One periodic pass now: rows untouched for the configured staleness. */
  sweep(): Promise<SweepReport>;
  /** Stops the timer and waits for a pass under way. */
  stop(): Promise<void>;
}

export interface SweepOptions {
  ledger: Ledger;
  paidEdits: Pick<PaidEdits, "resolve">;
  intervalMs: number;
  /** A row untouched this long belongs to no live process: longer than any edit or settlement can take. */
  staleMs: number;
  /** After a pass that changed something. */
  onReport(report: SweepReport): void;
  onError(error: unknown): void;
}

/** Rows settled per batch: each is one or two chain reads and at most one settlement. */
const BATCH = 20;
/** Rows taken at start-up in one statement; any beyond are left to the periodic passes. */
const STARTUP_LIMIT = 10_000;

/** Starts the periodic sweep (its first pass one interval from now; run `sweep()` for one at once). */
export function startSettlementSweep(options: SweepOptions): SettlementSweep {
  const { ledger, paidEdits } = options;
  let current: Promise<SweepReport> | undefined;

  async function settleAll(taken: StaleSettlement[], report: SweepReport): Promise<void> {
    for (const stale of taken) {
      try {
        report[(await paidEdits.resolve(stale)).outcome]++;
      } catch (error) {
        // The row stays `settling`; a later pass takes it again.
        options.onError(error);
        report.uncertain++;
      }
    }
  }

  function finish(report: SweepReport): SweepReport {
    if (report.interrupted + report.settled + report.failed + report.uncertain > 0) options.onReport(report);
    return report;
  }

  async function pass(): Promise<SweepReport> {
    const report: SweepReport = { interrupted: (await ledger.recoverAbandoned(options.staleMs)).interrupted, settled: 0, failed: 0, uncertain: 0 };
    const seen = new Set<string>();
    for (;;) {
      const taken = await ledger.takeStaleSettlements(options.staleMs, BATCH);
      // Oldest first: once a row this pass already tried comes back, every older one has been seen.
      const lapped = taken.some((stale) => seen.has(stale.edit.jobId));
      for (const stale of taken) seen.add(stale.edit.jobId);
      await settleAll(taken, report);
      if (taken.length < BATCH || lapped) break;
    }
    return finish(report);
  }

  /** One pass at a time per process: a slow chain must not pile passes up. */
  function exclusive(run: () => Promise<SweepReport>): Promise<SweepReport> {
    current ??= run().finally(() => (current = undefined));
    return current;
  }

  const timer = setInterval(() => {
    exclusive(pass).catch((error: unknown) => options.onError(error));
  }, options.intervalMs);
  timer.unref();

  return {
    async recover(olderThanMs) {
      const { interrupted } = await ledger.recoverAbandoned(olderThanMs);
      const taken = await ledger.takeStaleSettlements(olderThanMs, STARTUP_LIMIT);
      const report: SweepReport = { interrupted, settled: 0, failed: 0, uncertain: 0 };
      const settled = exclusive(async () => {
        await settleAll(taken, report);
        return finish(report);
      });
      return { interrupted, taken: taken.length, settled };
    },
    sweep: () => exclusive(pass),
    async stop() {
      clearInterval(timer);
      await current?.catch(() => undefined);
    },
  };
}
