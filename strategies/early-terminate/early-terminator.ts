import type { CurveRuleSpec, Goal } from '../types.js';
import { createRule, goalSign } from './create-rule.js';
import { CurveHistory } from './curve-history.js';
import { SortedValues } from './sorted-values.js';
import type { TerminationRule } from './termination-rule.js';
import type { RunCurve, RunCurveState, StopDecision } from './types.js';

interface TrackedRun {
  readonly runId: string;
  /** Position of first appearance: decisions come out in this order, like `decideStops`' `curves`. */
  readonly order: number;
  state: RunCurveState;
  /** Raw values seen, finite or not, so `upsert` can tell which values are new. */
  rawCount: number;
  readonly history: CurveHistory;
}

/**
 * The incremental form of `decideStops`, for the controller: it keeps, per band, rung or step,
 * the sorted values every run recorded there, so a report costs O(k·log N + k·memmove) to absorb
 * (k checkpoints crossed, usually 0 or 1) and O(log N) to judge, instead of re-reading every
 * curve. Given the same curves, states and candidates it returns exactly what `decideStops`
 * returns, in the same order (runs ordered by first appearance); a test drives both side by side.
 *
 * Curves are append-only: values once logged never change, as in the run history.
 */
export class EarlyTerminator {
  private readonly rule: TerminationRule;
  private readonly sign: 1 | -1;
  private readonly runs = new Map<string, TrackedRun>();
  private readonly atCheckpoint = new Map<number, SortedValues>();

  constructor(spec: CurveRuleSpec, goal: Goal, curves: readonly RunCurve[] = []) {
    this.rule = createRule(spec, goal);
    this.sign = goalSign(goal);
    for (const c of curves) this.upsert(c);
  }

  /** Takes a run's whole curve so far (e.g. reloaded from the database): absorbs the values not yet seen. */
  upsert(curve: RunCurve): void {
    const run = this.track(curve.runId, curve.state);
    run.state = curve.state;
    if (curve.values.length < run.rawCount) {
      throw new RangeError(
        `run ${curve.runId}: curve shrank from ${run.rawCount} to ${curve.values.length} values; curves are append-only`,
      );
    }
    this.absorb(run, curve.values.slice(run.rawCount));
  }

  /** Appends newly logged values (in logged order), optionally with the run's new state. */
  append(runId: string, values: readonly number[], state?: RunCurveState): void {
    const run = this.track(runId, state ?? 'running');
    if (state !== undefined) run.state = state;
    this.absorb(run, values);
  }

  setState(runId: string, state: RunCurveState): void {
    this.track(runId, state).state = state;
  }

  /** Same contract as `decideStops(spec, goal, curves, candidates)`. */
  decide(candidates?: readonly string[]): StopDecision[] {
    let judged: TrackedRun[];
    if (candidates === undefined) {
      judged = [...this.runs.values()];
    } else {
      judged = [];
      for (const id of new Set(candidates)) {
        const run = this.runs.get(id);
        if (run !== undefined) judged.push(run);
      }
      judged.sort((a, b) => a.order - b.order);
    }
    const decisions: StopDecision[] = [];
    for (const run of judged) {
      if (run.state !== 'running') continue;
      const c = this.rule.checkpointFor(run.history.count);
      if (c === undefined) continue;
      const recorded = this.atCheckpoint.get(c);
      // A run at checkpoint c has recorded there, so the set exists.
      if (recorded === undefined) throw new Error(`internal: no values recorded at checkpoint ${c}`);
      const decision = this.rule.judge(run.runId, run.history, c, recorded);
      if (decision !== undefined) decisions.push(decision);
    }
    return decisions;
  }

  /** Iteration count (finite values) of a run, 0 if unknown. */
  count(runId: string): number {
    return this.runs.get(runId)?.history.count ?? 0;
  }

  private track(runId: string, state: RunCurveState): TrackedRun {
    let run = this.runs.get(runId);
    if (run === undefined) {
      run = { runId, order: this.runs.size, state, rawCount: 0, history: new CurveHistory(this.sign) };
      this.runs.set(runId, run);
    }
    return run;
  }

  private absorb(run: TrackedRun, values: readonly number[]): void {
    const before = run.history.count;
    for (const v of values) run.history.push(v);
    run.rawCount += values.length;
    for (const c of this.rule.checkpointsIn(before, run.history.count)) {
      let recorded = this.atCheckpoint.get(c);
      if (recorded === undefined) {
        recorded = SortedValues.empty();
        this.atCheckpoint.set(c, recorded);
      }
      recorded.insert(this.rule.recorded(run.history, c));
    }
  }
}
