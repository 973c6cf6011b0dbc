/**
 * Model-based stopping in the controller (`harrow.early_terminate: {type: model}`,
 * strategies/early-terminate/model-stop-rule.ts).
 *
 * The other rules are judged inside the ingesting transaction (controller/early-stopper.ts): they
 * compare numbers. This one predicts each judged run's final value with a GP over (configuration,
 * budget), refit when runs have ended: up to a second of CPU, which must not hold the transaction
 * nor the event loop. So the ingestor only notes, per batch, the runs whose count of logged values
 * of the metric crossed one of the rule's `at` checkpoints (`due`), and after the commit hands them
 * here; the judgement reads what is stored (the sweep's ended runs with their curves, as the
 * strategy sees them, and each due run's current curve), runs in the strategy worker thread (where
 * the sweep's rule keeps its fitted model), and each stop goes through `requestStop`, which records
 * the reason once (the first wins) and tells the agent.
 *
 * Per sweep one judgement at a time; runs that become due meanwhile are judged together in the
 * next. A decision is a function of what Postgres held when it was read: a restart loses only
 * judgements not yet made, and a run that crosses its next checkpoint is judged again then.
 */
import { attemptPoints } from '../db/metrics.js';
import { getRuns, type RunRow } from '../db/runs.js';
import { checkpointsBetween } from '../strategies/early-terminate/termination-rule.js';
import type { RunningCurve, StopDecision } from '../strategies/early-terminate/index.js';
import type { ModelStopSpec, Params, SweepSpec } from '../strategies/types.js';
import type { ControllerContext } from './context.js';
import { requestStop } from './sweep-service.js';
import { strategyInput } from './warm-start.js';

/** Whether a run whose finite count of the metric grew from `before` to `after` is due a judgement. */
export function modelStopDue(spec: ModelStopSpec, before: number, after: number): boolean {
  return checkpointsBetween(spec.at, before, after).length > 0;
}

export class ModelStopper {
  private readonly due = new Map<string, Set<string>>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private closed = false;
  /** Judgements made and runs stopped, for tests and /metrics. */
  judgements = 0;
  stops = 0;

  constructor(private readonly ctx: ControllerContext) {}

  /** Runs of a sweep that crossed a checkpoint: judged soon, in the background. */
  schedule(sweepId: string, runIds: Iterable<string>): void {
    if (this.closed) return;
    let set = this.due.get(sweepId);
    if (!set) this.due.set(sweepId, (set = new Set()));
    for (const id of runIds) set.add(id);
    if (this.inFlight.has(sweepId)) return;
    const loop = this.drain(sweepId).finally(() => this.inFlight.delete(sweepId));
    this.inFlight.set(sweepId, loop);
  }

  /** Resolves once no judgement is in progress or waiting (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight.values());
  }

  /** Waits for the judgements in progress (those not started are dropped: a restart would lose them too). */
  async close(): Promise<void> {
    this.closed = true;
    this.due.clear();
    await Promise.all(this.inFlight.values());
  }

  /** The sweep ended: nothing of it is judged any more. */
  forget(sweepId: string): void {
    this.due.delete(sweepId);
  }

  private async drain(sweepId: string): Promise<void> {
    for (;;) {
      const ids = this.due.get(sweepId);
      this.due.delete(sweepId);
      if (!ids || ids.size === 0 || this.closed) return;
      try {
        await this.judge(sweepId, [...ids]);
      } catch (err) {
        this.ctx.log.warn({ sweepId, runs: ids.size, err: (err as Error).message }, 'model-based stopping could not judge; the runs are judged again at their next checkpoint');
      }
    }
  }

  /** Judges these runs of the sweep now (those still running) and stops the ones the model gives up on. */
  async judge(sweepId: string, runIds: readonly string[]): Promise<StopDecision[]> {
    const { db } = this.ctx;
    const spec: SweepSpec = await this.ctx.specs.get(db, sweepId);
    const metric = spec.metric;
    if (spec.earlyTerminate?.type !== 'model' || metric === undefined) return [];
    const runs = [...(await getRuns(db, runIds)).values()].filter((r) => r.state === 'running' && r.sweep_id === sweepId && r.stop_info === null);
    if (runs.length === 0) return [];
    const points = await attemptPoints(db, runs.map((r) => ({ runId: r.id, attempt: r.attempt })));
    const values = new Map<string, number[]>(runs.map((r) => [r.id, []]));
    for (const p of points) if (p.name === metric.name) values.get(p.runId)?.push(p.value);
    const running: RunningCurve[] = runs
      .sort((a, b) => a.number - b.number)
      .map((r) => ({ runId: r.id, params: r.params as Params, values: values.get(r.id)! }));
    const { observations } = await strategyInput(db, sweepId, spec);
    const decisions = await this.ctx.proposer.judgeModelStops(sweepId, spec, observations, running);
    this.judgements++;
    const attempts = new Map(runs.map((r) => [r.id, r.attempt]));
    // A retry may have started a new attempt while the model thought: that one is not judged yet.
    const current = decisions.length > 0 ? await getRuns(db, decisions.map((d) => d.runId)) : new Map<string, RunRow>();
    for (const d of decisions) {
      const now = current.get(d.runId);
      if (now?.state !== 'running' || now.attempt !== attempts.get(d.runId)) continue;
      this.stops++;
      await requestStop(this.ctx, sweepId, d.runId, { ...d });
    }
    return decisions;
  }
}
