/**
 * Early termination in the controller, kept equal to storage.
 *
 * Per sweep the controller keeps an incremental `EarlyTerminator` (O(log N) per report instead of
 * `decideStops` re-reading every curve) and a watermark of what it has absorbed: the sweep's
 * `curve_version` (a counter that triggers bump with every stored point and every new attempt of
 * a run, `db/migrations/0004_curve_version.sql`) and, per run, the attempt and last seq seen.
 *
 * The ingesting transaction locks the sweep's row before it inserts points (`lockCurveVersions`),
 * so the version it reads then cannot move under it. After the insert the cache is used only when
 * it provably equals storage plus this batch:
 *
 * - the cached version equals the locked one (no other replica stored a point, no restart lost
 *   what this one saw, no retry emptied a curve since), and
 * - the version grew by exactly the points given (every one was new: no re-delivery), and
 * - each run's new points follow its last seq of the same attempt (none arrived out of order).
 *
 * Otherwise the sweep is rebuilt from what the transaction sees, this batch included. Either way
 * the decision is the one `decideStops` gives over the stored curves. A transaction that rolls back
 * drops the sweeps it touched (`rolledBack`), so a cache never holds uncommitted points.
 */
import { EarlyTerminator, type RunCurveState, type StopDecision } from '../strategies/early-terminate/index.js';
import type { CurveRuleSpec, Goal } from '../strategies/types.js';
import type { Queryable } from '../db/database.js';
import { curveVersion, storedCurves, type PointRow } from '../db/metrics.js';

interface CachedSweep {
  terminator: EarlyTerminator;
  /** `sweeps.curve_version` after the last batch absorbed. */
  version: string;
  /** Per run: attempt and highest seq absorbed (any metric name). */
  runs: Map<string, { attempt: number; lastSeq: number }>;
  /** The rule it was built with: an edit of the sweep's early_terminate (`harrow edit`) rebuilds it. */
  rule: string;
}

/** A run that reported in this batch, as locked by the transaction. */
export interface Candidate {
  id: string;
  attempt: number;
  state: RunCurveState;
}

export interface StopperInput {
  sweepId: string;
  spec: CurveRuleSpec;
  metric: { name: string; goal: Goal };
  /** The sweep's curve version read under lock before this transaction inserted any point. */
  versionBefore: string;
  /** Every point of this sweep handed to `insertPoints` in this transaction (any name). */
  given: readonly PointRow[];
  /** Runs whose new points include the metric: the ones judged. */
  candidates: readonly Candidate[];
}

export class EarlyStopper {
  private readonly sweeps = new Map<string, CachedSweep>();
  /** Sweeps changed by the transaction in progress. */
  private readonly pending = new Set<string>();
  /** Times a sweep was (re)built from storage, for tests and /metrics. */
  rebuilds = 0;

  /** Call inside the ingesting transaction, after the points were inserted. */
  async decide(tx: Queryable, input: StopperInput): Promise<StopDecision[]> {
    const { sweepId } = input;
    this.pending.add(sweepId);
    const after = await curveVersion(tx, sweepId);
    let cached = this.sweeps.get(sweepId);
    const byRun = groupByRun(input.given);
    if (cached && cached.rule !== JSON.stringify(input.spec)) cached = undefined;
    if (cached && this.inSync(cached, input.versionBefore, after, input.given.length, byRun)) {
      for (const [runId, points] of byRun) {
        const values = points.filter((p) => p.name === input.metric.name).map((p) => p.value);
        if (values.length > 0) cached.terminator.append(runId, values);
        cached.runs.set(runId, { attempt: points[0]!.attempt, lastSeq: points[points.length - 1]!.seq });
      }
      cached.version = after;
    } else {
      cached = await this.rebuild(tx, input, after);
    }
    for (const c of input.candidates) cached.terminator.setState(c.id, c.state);
    return cached.terminator.decide(input.candidates.map((c) => c.id));
  }

  /** The transaction committed: what it absorbed is now storage. */
  committed(): void {
    this.pending.clear();
  }

  /** The transaction rolled back: forget every sweep it touched (they are rebuilt when next needed). */
  rolledBack(): void {
    for (const id of this.pending) this.sweeps.delete(id);
    this.pending.clear();
  }

  /** The sweep ended: free its cache. */
  forget(sweepId: string): void {
    this.sweeps.delete(sweepId);
  }

  private inSync(
    cached: CachedSweep,
    before: string,
    after: string,
    given: number,
    byRun: Map<string, PointRow[]>,
  ): boolean {
    if (cached.version !== before) return false;
    if (BigInt(after) - BigInt(before) !== BigInt(given)) return false;
    for (const [runId, points] of byRun) {
      const seen = cached.runs.get(runId);
      // A run the cache does not know had no stored point when the cache was in sync.
      if (seen === undefined) continue;
      if (seen.attempt !== points[0]!.attempt || points[0]!.seq <= seen.lastSeq) return false;
    }
    return true;
  }

  private async rebuild(tx: Queryable, input: StopperInput, version: string): Promise<CachedSweep> {
    this.rebuilds++;
    const curves = await storedCurves(tx, input.sweepId, input.metric.name);
    const terminator = new EarlyTerminator(
      input.spec,
      input.metric.goal,
      curves.map((c) => ({ runId: c.runId, state: c.state as RunCurveState, values: c.values })),
    );
    const cached: CachedSweep = {
      terminator,
      version,
      runs: new Map(curves.map((c) => [c.runId, { attempt: c.attempt, lastSeq: c.lastSeq }])),
      rule: JSON.stringify(input.spec),
    };
    this.sweeps.set(input.sweepId, cached);
    return cached;
  }
}

/** Points per run, each run's in seq order (runs in order of first appearance). */
function groupByRun(points: readonly PointRow[]): Map<string, PointRow[]> {
  const out = new Map<string, PointRow[]>();
  for (const p of points) {
    let list = out.get(p.runId);
    if (!list) out.set(p.runId, (list = []));
    list.push(p);
  }
  for (const list of out.values()) list.sort((a, b) => a.seq - b.seq);
  return out;
}
