/**
 * What users do to sweeps and runs: create, pause, resume, stop, cancel, stop one run. Each
 * transition goes through the state machine of `protocol/run-states.ts`, lands in Postgres first,
 * then is mirrored to Redis for the agents and published for live watchers.
 */
import type { SweepSpec } from '../strategies/types.js';
import { HarrowError } from '../protocol/errors.js';
import type { ImportOutcome, SweepDetail } from '../protocol/api.js';
import {
  ENDED_SWEEP_STATES,
  INITIAL_RUN_STATE,
  LIVE_SWEEP_STATES,
  LIVE_RUN_STATES,
  isTerminalRunState,
  sweepStatesLeadingTo,
  type SweepStateName,
} from '../protocol/run-states.js';
import { readSnapshot, type Queryable } from '../db/database.js';
import { getSweep, insertSweep, runCounts, transitionSweep, type SweepRow } from '../db/sweeps.js';
import { bestRun, cancelQueuedRun, cancelQueuedRuns, getRun, runsInStates, setStopInfo, type RunRow } from '../db/runs.js';
import type { ControllerContext } from './context.js';
import { newSeed, newSweepId } from './ids.js';
import { runSummary, sweepSummary } from './serialize.js';
import { DefaultProposer } from './proposer.js';
import { sweepConfigReader } from './sweep-config-reader.js';
import { budgetOf } from './budget-limits.js';
import { importedCounts } from '../db/warm-start.js';
import { importFromSweep, importParsed, parseExport, type MayRead } from './warm-start.js';

export async function sweepDetail(ctx: ControllerContext, id: string): Promise<SweepDetail> {
  const row = await getSweep(ctx.db, id);
  if (!row) throw new HarrowError('SWEEP_NOT_FOUND', `sweep '${id}' not found; \`harrow status\` lists the sweeps`);
  return detailOf(ctx, row);
}

async function detailOf(ctx: ControllerContext, row: SweepRow): Promise<SweepDetail> {
  const { counts, best, budget } = await readSnapshot(ctx.db, async (tx) => ({
    counts: await runCounts(tx, row.id),
    best: row.goal ? await bestRun(tx, row.id, row.goal) : null,
    budget: await budgetOf(tx, row),
  }));
  const spec = row.spec as SweepSpec;
  const imported = await importedCounts(ctx.db, row.id);
  return {
    ...(budget ? { budget } : {}),
    specVersion: row.spec_version,
    ...(imported.length > 0 ? { imported: { count: imported.reduce((n, s) => n + s.count, 0), sources: imported } } : {}),
    ...(spec.harrow?.runTimeout ? { runTimeoutMs: spec.harrow.runTimeout.ms } : {}),
    ...sweepSummary(row, counts, best),
    spec: row.spec as Record<string, unknown>,
    config: row.config_text,
    seed: row.seed,
    agentCommand: `harrow agent ${row.id}`,
    warnings: spec.warnings ?? [],
  };
}

export interface CreateSweepOptions {
  /** Who creates it, recorded on the sweep. */
  createdBy?: string;
  /** Throws when the creator may not create this sweep (a token scoped to other projects). */
  authorize?: (spec: SweepSpec) => void;
  /** Whether the creator may read a sweep named by `harrow.warm_start.from` (default: any). */
  mayRead?: MayRead;
  /** The file `harrow.warm_start.file` names, as read by the client. */
  warmStartFile?: { name: string; content: string };
}

export async function createSweep(ctx: ControllerContext, config: string | Record<string, unknown>, name?: string, options: CreateSweepOptions = {}): Promise<SweepDetail> {
  // Throws SweepConfigError with every { path, message }; the HTTP layer maps it to a 400.
  const spec = await sweepConfigReader.parse(config);
  options.authorize?.(spec);
  const configText = typeof config === 'string' ? config : JSON.stringify(config, null, 2);
  const seed = spec.harrow.seed ?? newSeed();
  const expectedRuns = spec.method === 'grid' ? new DefaultProposer().size(spec, seed) : null;
  const id = newSweepId();
  const warm = spec.harrow.warmStart;
  let file: ReturnType<typeof parseExport> | null = null;
  if (warm?.file !== undefined) {
    if (!options.warmStartFile) {
      throw new HarrowError(
        'INVALID_SWEEP_CONFIG',
        `harrow.warm_start.file: the server does not read files named in a sweep file; \`harrow create\` sends ${warm.file} along, or send {config, warmStartFile: {name, content}} (or create the sweep, then POST /api/sweeps/ID/warm-start)`,
      );
    }
    file = parseExport(spec, options.warmStartFile.content, options.warmStartFile.name, warm.priorRuns);
  }
  let warmOutcome: ImportOutcome | undefined;
  const row = await ctx.db.transaction(async (tx) => {
    const inserted = await insertSweep(tx, {
      id,
      name: name ?? spec.name ?? null,
      method: spec.method,
      spec,
      configText,
      seed,
      metricName: spec.metric?.name ?? null,
      goal: spec.metric?.goal ?? null,
      runCap: spec.runCap ?? null,
      expectedRuns,
      createdBy: options.createdBy ?? null,
    });
    // In the same transaction: an unknown or incompatible source creates no sweep.
    if (warm?.from !== undefined) warmOutcome = await importFromSweep(tx, id, spec, warm.from, warm.priorRuns, options.mayRead);
    else if (file) warmOutcome = await importParsed(tx, id, options.warmStartFile!.name, file);
    return inserted;
  });
  ctx.specs.set(id, spec);
  if (warmOutcome) ctx.log.info({ sweepId: id, source: warmOutcome.source, imported: warmOutcome.imported, skipped: warmOutcome.skipped }, 'sweep warm-started');
  ctx.log.info({ sweepId: id, method: spec.method, expectedRuns }, 'sweep created');
  await mirrorSweepState(ctx, id, 'running');
  ctx.poke(id);
  const detail = await detailOf(ctx, row);
  return warmOutcome ? { ...detail, warmStart: warmOutcome } : detail;
}

export type SweepAction = 'pause' | 'resume' | 'stop' | 'cancel';

const ACTION_TARGET: Record<SweepAction, SweepStateName> = {
  pause: 'paused',
  resume: 'running',
  stop: 'finished',
  cancel: 'canceled',
};

export async function changeSweep(ctx: ControllerContext, id: string, action: SweepAction, reason?: string): Promise<SweepDetail> {
  const to = ACTION_TARGET[action];
  const why = reason ?? `${action === 'stop' ? 'stopped' : action === 'cancel' ? 'canceled' : `${action}d`} by user`;
  const moved = await finishOrMoveSweep(ctx, id, to, why);
  if (!moved) {
    const row = await getSweep(ctx.db, id);
    if (!row) throw new HarrowError('SWEEP_NOT_FOUND', `sweep '${id}' not found; \`harrow status\` lists the sweeps`);
    throw new HarrowError('INVALID_STATE_TRANSITION', `cannot ${action} sweep ${id}: it is ${row.state}`);
  }
  return sweepDetail(ctx, id);
}

/** A sweep transition committed in some transaction, with what it did to the sweep's runs. */
export interface SweepMove {
  row: SweepRow;
  previous: SweepStateName;
  to: SweepStateName;
  reason: string;
  /** Queued runs canceled with it (the sweep ended). */
  canceled: RunRow[];
  /** Running runs whose agents must kill them (the sweep was canceled). */
  running: RunRow[];
}

/**
 * The one place a sweep changes state, inside the caller's transaction. Stopping or finishing
 * cancels queued runs (active ones finish); canceling also kills the active ones. Returns null
 * when the sweep was not in a state that allows the move (by default, a state that has not ended). `afterSweepMove` then tells Redis and
 * live watchers, once the transaction committed.
 */
export async function moveSweep(
  tx: Queryable,
  id: string,
  to: SweepStateName,
  reason: string,
  from: readonly SweepStateName[] = sweepStatesLeadingTo(to).filter((s) => LIVE_SWEEP_STATES.includes(s)),
): Promise<SweepMove | null> {
  // An ended sweep runs again only when a caller names the ended states (an extension, in
  // steering.ts): `resume` moves a paused sweep, never a finished one.
  const moved = await transitionSweep(tx, id, from, to, reason);
  if (!moved) return null;
  const ended = ENDED_SWEEP_STATES.includes(to);
  const canceled = ended ? await cancelQueuedRuns(tx, id, `sweep ${to}: ${reason}`) : [];
  const running = to === 'canceled' ? await runsInStates(tx, id, LIVE_RUN_STATES) : [];
  return { row: moved.row, previous: moved.previous, to, reason, canceled, running };
}

export async function afterSweepMove(ctx: ControllerContext, m: SweepMove): Promise<void> {
  const id = m.row.id;
  ctx.log.info({ sweepId: id, from: m.previous, to: m.to, reason: m.reason }, 'sweep state changed');
  await mirrorSweepState(ctx, id, m.to);
  for (const run of m.canceled) {
    await ctx.queue.remove(id, run);
    await ctx.link.publish(id, 'run', runSummary(run));
  }
  for (const run of m.running) {
    await ctx.link.sendControl(run.id, { action: 'cancel', reason: `sweep canceled: ${m.reason}`, at: Date.now() });
  }
  if (m.to === 'running') ctx.poke(id);
  const { counts, best } = await readSnapshot(ctx.db, async (tx) => ({
    counts: await runCounts(tx, id),
    best: m.row.goal ? await bestRun(tx, id, m.row.goal) : null,
  }));
  await ctx.link.publish(id, 'sweep', sweepSummary(m.row, counts, best));
}

/** `moveSweep` in its own transaction, then `afterSweepMove`. Returns false when the move was not allowed. */
export async function finishOrMoveSweep(ctx: ControllerContext, id: string, to: SweepStateName, reason: string): Promise<boolean> {
  const move = await ctx.db.transaction((tx) => moveSweep(tx, id, to, reason));
  if (!move) return false;
  await afterSweepMove(ctx, move);
  return true;
}

/** Writes the sweep state agents read, and pauses/resumes the BullMQ queue to match. */
export async function mirrorSweepState(ctx: ControllerContext, id: string, state: SweepStateName): Promise<void> {
  try {
    await ctx.link.setSweepState(id, state);
    if (state === 'paused') await ctx.queue.pause(id);
    else if (state === 'running') await ctx.queue.resume(id);
  } catch (err) {
    // Redis is transport: the reconciler rewrites this from Postgres when Redis is back.
    ctx.log.warn({ sweepId: id, err: (err as Error).message }, 'could not mirror sweep state to Redis; will retry');
  }
}

/** Stops one run: a queued run is canceled, a running one is signalled (it ends `stopped`). */
export async function stopRun(ctx: ControllerContext, runId: string, reason = 'stopped by user'): Promise<void> {
  const run = await getRun(ctx.db, runId);
  if (!run) throw new HarrowError('RUN_NOT_FOUND', `run '${runId}' not found; \`harrow runs SWEEP\` lists a sweep's runs`);
  if (run.state === INITIAL_RUN_STATE) {
    const canceled = await ctx.db.transaction((tx) => cancelQueuedRun(tx, runId, reason));
    if (canceled) {
      await ctx.queue.remove(run.sweep_id, run);
      ctx.log.info({ sweepId: run.sweep_id, runId }, 'queued run canceled by user');
      await ctx.link.publish(run.sweep_id, 'run', runSummary(canceled));
      ctx.poke(run.sweep_id);
      return;
    }
  }
  if (isTerminalRunState(run.state)) {
    throw new HarrowError('INVALID_STATE_TRANSITION', `run ${runId} is already ${run.state}`);
  }
  await requestStop(ctx, run.sweep_id, runId, { rule: 'user', message: reason });
}

/**
 * Records why a running run must stop and tells its agent. Idempotent: the first reason wins.
 * `recorded`: the caller already wrote this (first) reason in its own transaction (early
 * termination does, with the batch that decided it); only the agent is told, and the change published.
 */
export async function requestStop(
  ctx: ControllerContext,
  sweepId: string,
  runId: string,
  decision: Record<string, unknown> & { message: string },
  o: { recorded?: boolean } = {},
): Promise<void> {
  // decidedAt lets users (and tests) see how long the stop took to take effect.
  const info = o.recorded ? decision : { ...decision, decidedAt: new Date().toISOString() };
  const first = o.recorded === true || (await setStopInfo(ctx.db, runId, info));
  const run = await getRun(ctx.db, runId);
  if (!run || !LIVE_RUN_STATES.includes(run.state) || !run.token) return;
  await ctx.link.sendControl(runId, { action: 'stop', token: run.token, reason: String((run.stop_info ?? info).message), at: Date.now() });
  if (first) {
    ctx.log.info({ sweepId, runId, attempt: run.attempt, stop: info }, 'stop requested');
    await ctx.link.publish(sweepId, 'run', runSummary(run));
  }
}
