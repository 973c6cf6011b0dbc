/**
 * Budgets and limits (`harrow.run_timeout`, `harrow.budget`), decided from Postgres:
 * - a running run whose attempt has run longer than the sweep's run_timeout is asked to stop, with
 *   the reason `run_timeout 2h exceeded`; its agent's end makes it `stopped`;
 * - a sweep whose attempts have spent its budget (run-hours, or GPU-hours: run time × GPUs held)
 *   finishes with the reason `budget spent: …` (no new runs; active ones finish, as any finish).
 * Checked on each run end (`run-lifecycle.ts`, in the end's transaction) and on reaper ticks,
 * which count the elapsed time of runs still running.
 */
import type { SweepSpec } from '../strategies/types.js';
import type { Queryable } from '../db/database.js';
import type { SweepRow } from '../db/sweeps.js';
import { getSweep } from '../db/sweeps.js';
import { liveSweepsWithBudget, runsPastTimeout, spentHours } from '../db/steering.js';
import { LIVE_SWEEP_STATES } from '../protocol/run-states.js';
import type { ControllerContext } from './context.js';
import { afterSweepMove, moveSweep, requestStop, type SweepMove } from './sweep-service.js';
import { SECOND } from '../protocol/time.js';

export interface BudgetState {
  unit: 'run_hours' | 'gpu_hours';
  limit: number;
  spent: number;
}

function budgetFrom(sweep: SweepRow, spent: { runHours: number; gpuHours: number } | undefined): BudgetState | null {
  const budget = (sweep.spec as SweepSpec).harrow?.budget;
  if (!budget) return null;
  const hours = spent ?? { runHours: 0, gpuHours: 0 };
  return { unit: budget.unit, limit: budget.limit, spent: budget.unit === 'gpu_hours' ? hours.gpuHours : hours.runHours };
}

/** The sweep's budget and what its attempts spent so far (running ones to now); null without a budget. */
export async function budgetOf(q: Queryable, sweep: SweepRow): Promise<BudgetState | null> {
  if (!(sweep.spec as SweepSpec).harrow?.budget) return null;
  return budgetFrom(sweep, (await spentHours(q, [sweep.id])).get(sweep.id));
}

/** Three significant digits: budgets range from a fraction of a GPU-hour to thousands. */
export const describeSpent = (b: BudgetState): string => `${Number(b.spent.toPrecision(3))} of ${b.limit} ${b.unit.replace('_', '-')}`;
const spentReason = (b: BudgetState): string => `budget spent: ${describeSpent(b)}`;

/** Finishes the sweep when its budget is spent, in the caller's transaction. */
export async function finishIfBudgetSpent(tx: Queryable, sweepId: string): Promise<SweepMove | null> {
  const sweep = await getSweep(tx, sweepId);
  if (!sweep || !LIVE_SWEEP_STATES.includes(sweep.state)) return null;
  const budget = await budgetOf(tx, sweep);
  if (!budget || budget.spent < budget.limit) return null;
  return moveSweep(tx, sweepId, 'finished', spentReason(budget));
}

/** How often the reaper checks timeouts and budgets: a stop or a finish comes within this of its due time. */
const LIMITS_EVERY_MS = 1 * SECOND;

export class Limits {
  private last = 0;

  constructor(private readonly ctx: ControllerContext) {}

  async tick(): Promise<void> {
    if (Date.now() - this.last < LIMITS_EVERY_MS) return;
    this.last = Date.now();
    await this.stopTimedOut();
    await this.finishSpent();
  }

  async stopTimedOut(): Promise<void> {
    for (const run of await runsPastTimeout(this.ctx.db)) {
      const message = `run_timeout ${run.timeout_text} exceeded`;
      this.ctx.log.info({ sweepId: run.sweep_id, runId: run.id, attempt: run.attempt }, message);
      await requestStop(this.ctx, run.sweep_id, run.id, { rule: 'run_timeout', message });
    }
  }

  async finishSpent(): Promise<void> {
    const sweeps = await liveSweepsWithBudget(this.ctx.db);
    if (sweeps.length === 0) return;
    const spent = await spentHours(this.ctx.db, sweeps.map((s) => s.id));
    for (const s of sweeps) {
      const budget = budgetFrom(s, spent.get(s.id));
      if (!budget || budget.spent < budget.limit) continue;
      // Decided again in the transaction: another replica or a run end may have finished it first.
      const move = await this.ctx.db.transaction((tx) => finishIfBudgetSpent(tx, s.id));
      if (move) await afterSweepMove(this.ctx, move);
    }
  }
}
