/**
 * Steering a sweep after it started (issue 15): raise its run_cap and let it continue, rerun its
 * failed and crashed runs as new runs linked to the old ones, try explicit configurations ahead of
 * the strategy, and clone a run with edited parameters.
 *
 * Runs a user adds (reruns, enqueued and cloned configurations) are ordinary runs: queued in
 * Postgres first, then in Redis, observed by the strategy like any other (it sees them as pending,
 * then as results). They never take the place of a configuration the strategy would propose: a
 * sweep with a run_cap gets its cap raised by the runs added, in the same transaction. A sweep
 * that had ended (finished or canceled) runs again, through the sweep state machine.
 */
import { paramsIssues, setPath, cloneJson } from '../strategies/index.js';
import type { JsonValue, Params, SweepSpec } from '../strategies/types.js';
import { HarrowError } from '../protocol/errors.js';
import type { SteerResponse } from '../protocol/api.js';
import { ENDED_SWEEP_STATES, type RunState } from '../protocol/run-states.js';
import type { Queryable } from '../db/database.js';
import { allocateRunNumbers, getSweep, lockSweep, type SweepRow } from '../db/sweeps.js';
import { getRun, insertRuns, type NewRun, type RunRow } from '../db/runs.js';
import { addedRuns, runsToRerun, setRunCap } from '../db/steering.js';
import type { ControllerContext } from './context.js';
import { paramsHash, runId } from './ids.js';
import { runJobOf } from './scheduler.js';
import { runSummary } from './serialize.js';
import { afterSweepMove, moveSweep, sweepDetail, type SweepMove } from './sweep-service.js';
import { budgetOf, describeSpent } from './budget-limits.js';

const notFound = (id: string) => new HarrowError('SWEEP_NOT_FOUND', `sweep '${id}' not found; \`harrow status\` lists the sweeps`);

async function lockedSweep(tx: Queryable, id: string): Promise<SweepRow> {
  await lockSweep(tx, id);
  const sweep = await getSweep(tx, id, { forUpdate: true });
  if (!sweep) throw notFound(id);
  return sweep;
}

/** A sweep whose budget is spent would end again at once: say so instead of pretending to extend it. */
async function refuseIfBudgetSpent(tx: Queryable, sweep: SweepRow, what: string): Promise<void> {
  const budget = await budgetOf(tx, sweep);
  if (budget && budget.spent >= budget.limit) {
    throw new HarrowError(
      'INVALID_STATE_TRANSITION',
      `cannot ${what} sweep ${sweep.id}: its budget is spent (${describeSpent(budget)}); it would finish again at once`,
    );
  }
}

/** Reopens an ended sweep in the caller's transaction; null when it had not ended. */
async function reopen(tx: Queryable, sweep: SweepRow, why: string): Promise<SweepMove | null> {
  if (!ENDED_SWEEP_STATES.includes(sweep.state)) return null;
  const move = await moveSweep(tx, sweep.id, 'running', why, ENDED_SWEEP_STATES);
  if (!move) throw new HarrowError('INVALID_STATE_TRANSITION', `cannot reopen sweep ${sweep.id}: it is ${sweep.state}`);
  return move;
}

/**
 * `harrow extend SWEEP --run-cap N`: raises run_cap (it never lowers it) and lets the sweep
 * continue; a finished or canceled sweep runs again. A grid never makes more runs than its cells
 * plus the runs users added, so a cap beyond that is refused with the reason.
 */
export async function extendSweep(ctx: ControllerContext, id: string, runCap: number): Promise<SteerResponse> {
  const move = await ctx.db.transaction(async (tx) => {
    const sweep = await lockedSweep(tx, id);
    const made = sweep.next_number - 1;
    if (sweep.run_cap !== null && runCap <= sweep.run_cap) {
      throw new HarrowError('INVALID_REQUEST', `run_cap of sweep ${id} is ${sweep.run_cap}; extend raises it: give more than ${sweep.run_cap}`);
    }
    if (runCap <= made) {
      throw new HarrowError('INVALID_REQUEST', `sweep ${id} has made ${made} runs already; a run_cap of ${runCap} leaves none to run: give more than ${made}`);
    }
    if (sweep.method === 'grid' && sweep.expected_runs !== null) {
      const added = await addedRuns(tx, id);
      const most = sweep.expected_runs + added;
      if (runCap > most) {
        throw new HarrowError(
          'INVALID_REQUEST',
          `sweep ${id} is a grid of ${sweep.expected_runs} cells${added > 0 ? ` (plus ${added} runs users added)` : ''}: it never makes more than ${most} runs, so a run_cap of ${runCap} would never be reached; rerun its failed cells (harrow rerun ${id}) or try more configurations (harrow enqueue ${id} FILE)`,
        );
      }
    }
    await refuseIfBudgetSpent(tx, sweep, 'extend');
    await setRunCap(tx, id, runCap);
    return reopen(tx, sweep, `extended: run_cap ${sweep.run_cap ?? 'none'} → ${runCap}`);
  });
  ctx.log.info({ sweepId: id, runCap }, 'sweep extended');
  if (move) await afterSweepMove(ctx, move);
  else ctx.poke(id);
  return { sweep: await sweepDetail(ctx, id), runs: [] };
}

/** One run to add: its configuration, what proposed it, the run it reruns. */
interface Addition {
  params: Params;
  proposal: Record<string, unknown>;
  rerunOf?: string;
  reason: string;
}

/**
 * Records the runs in one transaction under the sweep lock (so they never race the scheduler's
 * run numbers), raising run_cap by their number and reopening an ended sweep; then enqueues them.
 */
async function addRuns(
  ctx: ControllerContext,
  id: string,
  build: (tx: Queryable, sweep: SweepRow) => Promise<Addition[]> | Addition[],
  what: string,
): Promise<SteerResponse> {
  const spec = await ctx.specs.get(ctx.db, id).catch((err: unknown) => {
    throw err instanceof HarrowError && err.code === 'SWEEP_NOT_FOUND' ? notFound(id) : err;
  });
  const { runs, move } = await ctx.db.transaction(async (tx) => {
    const sweep = await lockedSweep(tx, id);
    const additions = await build(tx, sweep);
    await refuseIfBudgetSpent(tx, sweep, what);
    const first = await allocateRunNumbers(tx, id, additions.length);
    const made = first - 1 + additions.length;
    if (sweep.run_cap !== null) await setRunCap(tx, id, Math.max(sweep.run_cap + additions.length, made));
    const move = await reopen(tx, sweep, `${what}: ${additions.length} run${additions.length === 1 ? '' : 's'} added`);
    const runs: RunRow[] = [];
    // One insert per reason: each run's first event says where it came from.
    for (const [i, a] of additions.entries()) {
      const run: NewRun = {
        id: runId(id, first + i),
        sweepId: id,
        number: first + i,
        params: a.params,
        paramsHash: paramsHash(a.params),
        proposal: a.proposal,
        rerunOf: a.rerunOf ?? null,
      };
      runs.push(...(await insertRuns(tx, [run], a.reason)));
    }
    return { runs, move };
  });
  if (move) await afterSweepMove(ctx, move);
  for (const r of runs) {
    try {
      await ctx.queue.enqueue(runJobOf(ctx, spec, r), r.attempt);
    } catch (err) {
      // The run is queued in Postgres; the reconciler enqueues it once Redis answers.
      ctx.log.warn({ sweepId: id, runId: r.id, err: (err as Error).message }, 'enqueue failed; will retry');
    }
    ctx.log.info({ sweepId: id, runId: r.id, params: r.params, rerunOf: r.rerun_of }, `run queued (${what})`);
    await ctx.link.publish(id, 'run', runSummary(r)).catch(() => undefined);
  }
  ctx.poke(id);
  return { sweep: await sweepDetail(ctx, id), runs: runs.map(runSummary) };
}

/**
 * `harrow rerun SWEEP --state failed,crashed`: each ended run in those states that was not rerun
 * yet gets a new run with the same parameters, linked to it (`rerun_of`). For a grid these are its
 * failed cells. Refused when there is nothing to rerun.
 */
export async function rerunSweep(ctx: ControllerContext, id: string, states: readonly RunState[]): Promise<SteerResponse> {
  return addRuns(
    ctx,
    id,
    async (tx) => {
      const old = await runsToRerun(tx, id, states);
      if (old.length === 0) {
        throw new HarrowError('INVALID_REQUEST', `sweep ${id} has no ${states.join(' or ')} run that is not rerun already; nothing to rerun`);
      }
      return old.map((r) => ({
        params: r.params as Params,
        proposal: { source: 'rerun', rerunOf: r.id },
        rerunOf: r.id,
        reason: `rerun of run ${r.number} (${r.state}${r.reason ? `: ${r.reason.slice(0, 200)}` : ''})`,
      }));
    },
    'rerun',
  );
}

/** Refuses configurations outside the sweep's space, naming the path of each offending value. */
function checkInSpace(spec: SweepSpec, list: readonly Params[], prefix: (i: number) => string[]): void {
  const issues: Array<{ path: string; message: string }> = [];
  list.forEach((params, i) => {
    for (const issue of paramsIssues(spec, params)) issues.push({ path: [...prefix(i), ...issue.path].join('.'), message: issue.message });
  });
  if (issues.length === 0) return;
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  throw new HarrowError('INVALID_REQUEST', `configuration outside the sweep's space: ${first.path}: ${first.message}${more}`, { details: { issues } });
}

/**
 * `harrow enqueue SWEEP FILE`: explicit configurations, queued ahead of the strategy's next
 * proposals (proposal source `user`). One mapping or a list; all or none are added.
 */
export async function enqueueParams(ctx: ControllerContext, id: string, input: Params | readonly Params[]): Promise<SteerResponse> {
  const list = Array.isArray(input) ? (input as readonly Params[]) : [input as Params];
  const spec = await ctx.specs.get(ctx.db, id).catch((err: unknown) => {
    throw err instanceof HarrowError && err.code === 'SWEEP_NOT_FOUND' ? notFound(id) : err;
  });
  checkInSpace(spec, list, (i) => (Array.isArray(input) ? [String(i)] : []));
  return addRuns(
    ctx,
    id,
    () => list.map((params) => ({ params, proposal: { source: 'user' }, reason: 'enqueued by user' })),
    'enqueue',
  );
}

/**
 * `harrow clone RUN --set lr=0.01`: a new run of the same sweep with the run's parameters, the
 * given ones replaced (dotted paths reach nested parameters), checked against the space.
 */
export async function cloneRun(ctx: ControllerContext, runIdText: string, overrides: Readonly<Record<string, unknown>>): Promise<SteerResponse> {
  const run = await getRun(ctx.db, runIdText);
  if (!run) throw new HarrowError('RUN_NOT_FOUND', `run '${runIdText}' not found; \`harrow runs SWEEP\` lists a sweep's runs`);
  const params = cloneJson(run.params as Params);
  for (const [key, value] of Object.entries(overrides)) {
    const path = key.split('.');
    if (path.some((p) => p === '')) throw new HarrowError('INVALID_REQUEST', `${key}: not a parameter path; write name or block.name`);
    setPath(params, path, value as JsonValue);
  }
  const spec = await ctx.specs.get(ctx.db, run.sweep_id);
  checkInSpace(spec, [params], () => []);
  const edited = Object.keys(overrides);
  return addRuns(
    ctx,
    run.sweep_id,
    () => [
      {
        params,
        proposal: { source: 'user', clonedFrom: run.id, edited },
        reason: `clone of run ${run.number}${edited.length > 0 ? ` with ${edited.join(', ')} edited` : ''}`,
      },
    ],
    'clone',
  );
}
