/**
 * Starting a sweep from prior results (issue 15, point 3), and what its strategy observes.
 *
 * Prior results come from another sweep's ended runs (`harrow.warm_start: {from: SWEEP_ID}`) or from
 * a W&B / MLflow export (`harrow.warm_start: {file: ...}`, `harrow warm-start SWEEP FILE`). They are
 * stored as imported observations (db/warm-start.ts), never as runs: no run number, not in
 * run_cap, not in the runs list, never the sweep's best. Only the ones that fit the sweep's space
 * are stored; the others are counted by reason in the answer.
 *
 * The strategy observes imported results first, then the sweep's ended runs, each seen through the
 * current space (`fitAll`: a parameter added by an edit takes its default, a dropped one is left
 * out, a run outside the space after an edit is excluded and counted). A grid takes a cell covered
 * by an imported result as done; the Bayesian strategy fits its GP to them, so its quasi-random
 * initial design is shorter or skipped.
 */
import { fitAll, fitParams, flattenParameters, parsePriorResults, PriorResultsError } from '../strategies/index.js';
import type { Observation, ObservationState, Params, SweepSpec } from '../strategies/types.js';
import type { ImportOutcome } from '../protocol/api.js';
import { HarrowError } from '../protocol/errors.js';
import { isTerminalRunState, type RunState } from '../protocol/run-states.js';
import type { Queryable } from '../db/database.js';
import { strategyHistory } from '../db/runs.js';
import { getSweep, lockSweep } from '../db/sweeps.js';
import { importedObservations, insertImported, runResults, type NewImported } from '../db/warm-start.js';
import type { ControllerContext } from './context.js';
import { observedCurves } from './observed-curves.js';

/** Rows shown as examples of what an import left out. */
const EXAMPLES = 5;

function outcome(source: string, format: string, rows: number, imported: number, skipped: ReadonlyArray<{ row: string; reason: string }>): ImportOutcome {
  const counts = new Map<string, number>();
  for (const s of skipped) {
    // Count by parameter and kind of problem, not by value.
    const key = s.reason.replace(/= -?\d+(\.\d+)?(e[-+]?\d+)? /gi, '= … ').replace(/"[^"]*"/g, '"…"').replace(/^(\S+ )-?\d[^ ]* /, '$1… ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return {
    source,
    format,
    rows,
    imported,
    skipped: skipped.length,
    reasons: [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    examples: skipped.slice(0, EXAMPLES).map((s) => ({ ...s })),
  };
}

/**
 * Refuses a source sweep whose results cannot mean anything to this one: no metric, another
 * metric, or no parameter in common.
 */
function checkCompatible(spec: SweepSpec, from: SweepSpec, fromId: string): void {
  if (!spec.metric) throw new HarrowError('INVALID_SWEEP_CONFIG', `harrow.warm_start: this sweep has no metric, so results of sweep ${fromId} cannot be compared with its runs; add metric: {name, goal}`);
  if (!from.metric || from.metric.name !== spec.metric.name) {
    throw new HarrowError(
      'INVALID_SWEEP_CONFIG',
      `harrow.warm_start.from: sweep ${fromId} measures ${from.metric ? from.metric.name : 'no metric'}, this sweep ${spec.metric.name}: their results are not comparable; start from a sweep with the same metric, or import a file`,
    );
  }
  const mine = new Set(flattenParameters(spec.parameters).map((l) => l.name));
  const theirs = flattenParameters(from.parameters).map((l) => l.name);
  if (!theirs.some((n) => mine.has(n))) {
    throw new HarrowError(
      'INVALID_SWEEP_CONFIG',
      `harrow.warm_start.from: sweep ${fromId} searches ${theirs.join(', ') || 'no parameter'}, this sweep ${[...mine].join(', ')}: no parameter in common, so none of its runs fits this space`,
    );
  }
}

/**
 * Imports the ended runs of sweep `fromId` into sweep `sweepId`, inside the caller's transaction.
 * Finished runs with a value, and failed and crashed runs (the Bayesian strategy learns where runs
 * fail); runs still going have no result yet, stopped ones only a partial one, both are left out.
 */
/**
 * Whether the caller may read a sweep (its spec's project labels against the caller's scope). A
 * source it may not read answers exactly as one that does not exist: its existence is not revealed.
 */
export type MayRead = (spec: unknown) => boolean;

export async function importFromSweep(
  tx: Queryable,
  sweepId: string,
  spec: SweepSpec,
  fromId: string,
  priorRuns?: readonly string[],
  mayRead: MayRead = () => true,
): Promise<ImportOutcome> {
  if (fromId === sweepId) throw new HarrowError('INVALID_REQUEST', 'a sweep cannot warm-start from itself');
  const from = await getSweep(tx, fromId);
  if (!from || !mayRead(from.spec)) throw new HarrowError('INVALID_SWEEP_CONFIG', `harrow.warm_start.from: there is no sweep '${fromId}' to start from; \`harrow status\` lists the sweeps`);
  const fromSpec = from.spec as SweepSpec;
  checkCompatible(spec, fromSpec, fromId);
  const wanted = priorRuns ? new Set(priorRuns) : null;
  const runs = await runResults(tx, fromId);
  const skipped: Array<{ row: string; reason: string }> = [];
  type Take = { row: string; sourceRun: string; params: Params; state: NewImported['state']; value: number | null };
  const take: Take[] = [];
  let listed = 0;
  for (const r of runs) {
    if (wanted && !wanted.has(r.id) && !wanted.has(String(r.number))) continue;
    listed++;
    if (!isTerminalRunState(r.state as RunState)) {
      skipped.push({ row: r.id, reason: `still ${r.state}: no result yet` });
      continue;
    }
    if (r.state === 'stopped' || r.state === 'canceled') {
      skipped.push({ row: r.id, reason: `${r.state}: no full result` });
      continue;
    }
    if (r.state === 'finished' && r.objective === null) {
      skipped.push({ row: r.id, reason: `no value of ${spec.metric!.name}` });
      continue;
    }
    take.push({ row: r.id, sourceRun: r.id, params: r.params as Params, state: r.state as NewImported['state'], value: r.objective });
  }
  if (wanted && listed === 0) {
    throw new HarrowError('INVALID_REQUEST', `harrow.warm_start.prior_runs: none of the listed runs is a run of sweep ${fromId} (give run ids such as ${fromId}-1, or run numbers)`);
  }
  const keep: NewImported[] = [];
  for (const t of take) {
    // The run as its own sweep sees it (its edits' defaults), then through this sweep's space.
    const theirs = fitParams(fromSpec, t.params);
    const mine = fitParams(spec, theirs.ok ? theirs.params : t.params);
    if (mine.ok) keep.push({ source: `sweep:${fromId}`, sourceRun: t.sourceRun, params: mine.params, state: t.state, value: t.value });
    else skipped.push({ row: t.row, reason: `outside the space: ${mine.reason}` });
  }
  const n = await insertImported(tx, sweepId, keep);
  return outcome(`sweep:${fromId}`, 'sweep', runs.length, n, skipped);
}

/** Parses an exported file against the sweep's spec; the HTTP layer shows the error as a 400. */
export function parseExport(spec: SweepSpec, content: string, name: string, priorRuns?: readonly string[]) {
  try {
    return parsePriorResults(content, spec, { fileName: name, ...(priorRuns ? { priorRuns } : {}) });
  } catch (err) {
    if (err instanceof PriorResultsError) {
      throw new HarrowError('INVALID_REQUEST', err.message.startsWith(name) ? err.message : `${name}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Stores a parsed export's results, inside the caller's transaction. */
export async function importParsed(tx: Queryable, sweepId: string, name: string, parsed: ReturnType<typeof parseExport>): Promise<ImportOutcome> {
  const source = `file:${name}`;
  const n = await insertImported(
    tx,
    sweepId,
    parsed.results.map((r) => ({ source, sourceRun: r.sourceRun, params: r.params, state: r.state, value: r.value })),
  );
  return outcome(source, parsed.format, parsed.rows, n, parsed.skipped);
}

/** `harrow warm-start SWEEP FILE` / POST /api/sweeps/:id/warm-start on an existing sweep. */
export async function warmStartSweep(
  ctx: ControllerContext,
  sweepId: string,
  input: { content?: string; name?: string; from?: string; priorRuns?: readonly string[] },
  mayRead?: MayRead,
): Promise<ImportOutcome> {
  const spec = await ctx.specs.get(ctx.db, sweepId).catch((err: unknown) => {
    throw err instanceof HarrowError && err.code === 'SWEEP_NOT_FOUND' ? new HarrowError('SWEEP_NOT_FOUND', `sweep '${sweepId}' not found; \`harrow status\` lists the sweeps`) : err;
  });
  const name = input.name ?? 'results';
  const parsed = input.content !== undefined ? parseExport(spec, input.content, name, input.priorRuns) : null;
  const result = await ctx.db.transaction(async (tx) => {
    await lockSweep(tx, sweepId);
    if (input.from !== undefined) return importFromSweep(tx, sweepId, spec, input.from, input.priorRuns, mayRead);
    return importParsed(tx, sweepId, name, parsed!);
  });
  ctx.log.info({ sweepId, source: result.source, imported: result.imported, skipped: result.skipped }, 'prior results imported');
  ctx.poke(sweepId);
  return result;
}

/** What a sweep's strategy observes and what it leaves out (see the file comment). */
export interface StrategyInput {
  observations: Observation[];
  pending: Params[];
  runsOutside: number;
  importedOutside: number;
  runs: number;
  imported: number;
  reasons: Map<string, number>;
}

export async function strategyInput(q: Queryable, sweepId: string, spec: SweepSpec): Promise<StrategyInput> {
  const history = await strategyHistory(q, sweepId);
  const imported = await importedObservations(q, sweepId);
  const importedObs: Observation[] = imported.map((r) => ({ params: r.params as Params, state: r.state, value: r.value, best: r.value, latest: r.value }));
  // `harrow.bayes.multi_fidelity`: ended runs carry their learning curves (controller/observed-curves.ts).
  const curves = spec.method === 'bayes' && spec.harrow.bayes?.multiFidelity === true && spec.metric !== undefined
    ? await observedCurves(q, sweepId, spec.metric, history.ended)
    : null;
  const runObs: Observation[] = history.ended.map((r) => {
    const curve = curves?.get(r.id);
    return {
      params: r.params as Params,
      // A preempted run left so (its sweep ended before it could resume) was cut short, like a stopped one.
      state: (r.state === 'preempted' ? 'stopped' : r.state) as ObservationState,
      value: r.objective,
      best: r.objective,
      latest: r.latest_value,
      ...(curve === undefined ? {} : { curve }),
    };
  });
  const a = fitAll(spec, importedObs);
  const b = fitAll(spec, runObs);
  // Pending runs outside the space (made before a narrowing edit) are not pending for the new space.
  const pending = fitAll(spec, history.pending.map((p) => ({ params: p as Params }))).fit.map((p) => p.params);
  const reasons = new Map(a.reasons);
  for (const [k, v] of b.reasons) reasons.set(k, (reasons.get(k) ?? 0) + v);
  return {
    // Imported first: they never change, so the GP extends its factorization as runs end.
    observations: [...a.fit, ...b.fit],
    pending,
    runsOutside: b.excluded,
    importedOutside: a.excluded,
    runs: runObs.length,
    imported: importedObs.length,
    reasons,
  };
}
