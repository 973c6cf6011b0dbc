/**
 * Just-in-time proposals (DESIGN decisions 2 and 3). For each running sweep the queue is kept
 * topped up to the agent slots waiting for work plus a small lookahead, never more. Proposals
 * see every result reported so far and the queued and running runs as pending; they are recorded
 * under the sweep's advisory lock, so two controller replicas never hand out the same run and
 * `run_cap` is never exceeded. Postgres first, then Redis.
 */
import type { SweepSpec } from '../strategies/types.js';
import { activeRuns, allocateRunNumbers, getSweepHead, lockSweep, queuedRuns, type SweepHead } from '../db/sweeps.js';
import { insertRuns, type NewRun, type RunRow } from '../db/runs.js';
import type { RunJob } from '../protocol/wire.js';
import { WIRE_VERSION } from '../protocol/wire.js';
import type { ControllerContext } from './context.js';
import { paramsHash, runId } from './ids.js';
import { finishOrMoveSweep } from './sweep-service.js';
import { runSummary } from './serialize.js';
import { strategyInput } from './warm-start.js';

export function runJobOf(ctx: ControllerContext, spec: SweepSpec, run: Pick<RunRow, 'id' | 'sweep_id' | 'number' | 'params'>): RunJob {
  return {
    v: WIRE_VERSION,
    sweepId: run.sweep_id,
    runId: run.id,
    number: run.number,
    params: run.params,
    command: spec.command,
    ...(spec.program !== undefined ? { program: spec.program } : {}),
    killGraceMs: ctx.config.HARROW_KILL_GRACE_MS,
    gpusPerRun: spec.harrow.gpusPerRun ?? 1,
  };
}

export class Scheduler {
  private readonly busy = new Set<string>();
  private readonly again = new Set<string>();

  constructor(private readonly ctx: ControllerContext) {}

  /** Schedules a sweep now, or right after the pass in progress for it. Never throws. */
  poke(sweepId: string): void {
    if (this.busy.has(sweepId)) {
      this.again.add(sweepId);
      return;
    }
    this.busy.add(sweepId);
    void (async () => {
      try {
        do {
          this.again.delete(sweepId);
          await this.schedule(sweepId);
        } while (this.again.has(sweepId));
      } catch (err) {
        this.ctx.log.warn({ sweepId, err: (err as Error).message }, 'scheduling pass failed; retrying on the next tick');
      } finally {
        this.busy.delete(sweepId);
      }
    })();
  }

  /** Slots waiting for work across the sweep's live agents, plus the lookahead. */
  private async demand(sweepId: string): Promise<number> {
    const agents = await this.ctx.link.presence(sweepId, this.ctx.config.HARROW_AGENT_STALE_MS);
    const accepting = agents.filter((a) => a.accepting);
    if (accepting.length === 0) return 0;
    const idle = accepting.reduce((n, a) => n + Math.max(0, a.slots - a.busy), 0);
    return idle + this.ctx.config.HARROW_LOOKAHEAD;
  }

  async schedule(sweepId: string): Promise<void> {
    const { db, log } = this.ctx;
    const sweep = await getSweepHead(db, sweepId);
    if (!sweep || sweep.state !== 'running') return;
    const { spec, version: specVersion } = await this.ctx.specs.versioned(db, sweepId);
    // Run numbers are allocated consecutively, so the sweep row already knows how many runs exist;
    // this pass runs after every report batch, so it avoids counting the sweep's runs. That is the
    // run_cap count because every state counts toward it (RUN_CAP_STATES in protocol/run-states.ts).
    const total = sweep.next_number - 1;
    const capLeft = sweep.run_cap === null ? Infinity : sweep.run_cap - total;
    if (capLeft <= 0) {
      if ((await activeRuns(db, sweepId)) === 0) await finishOrMoveSweep(this.ctx, sweepId, 'finished', `run cap of ${sweep.run_cap} reached`);
      return;
    }
    const demand = await this.demand(sweepId);
    if (demand === 0) return;
    const want = Math.min(capLeft, demand - (await queuedRuns(db, sweepId)));
    if (want <= 0) return;

    // Propose outside any transaction (a GP fit must not hold a database connection), then record
    // under the sweep lock only if no other pass recorded runs meanwhile (next_number unchanged).
    // Imported results and ended runs, seen through the current space (controller/warm-start.ts).
    const input = await strategyInput(db, sweepId, spec);
    const proposals = await this.ctx.proposer.propose(sweepId, spec, sweep.seed, {
      observations: input.observations,
      pending: input.pending,
      count: want,
    });
    if (proposals.length === 0) {
      if ((await activeRuns(db, sweepId)) === 0) {
        await finishOrMoveSweep(this.ctx, sweepId, 'finished', spec.method === 'grid' ? 'grid exhausted: every cell has run' : 'search space exhausted');
      }
      return;
    }
    for (const p of proposals) {
      for (const warning of p.info?.warnings ?? []) log.warn({ sweepId, source: p.info?.source }, `strategy: ${warning}`);
    }

    const created = await db.transaction(async (tx) => {
      await lockSweep(tx, sweepId);
      const now = await getSweepHead(tx, sweepId);
      if (!now || now.state !== 'running' || now.next_number !== sweep.next_number) return null;
      // The spec was edited (on any replica) since these were proposed: propose again from the new one.
      if (now.spec_version !== specVersion) return null;
      const allowed = now.run_cap === null ? proposals.length : Math.max(0, Math.min(proposals.length, now.run_cap - (now.next_number - 1)));
      if (allowed === 0) return [];
      const first = await allocateRunNumbers(tx, sweepId, allowed);
      const runs: NewRun[] = proposals.slice(0, allowed).map((p, i) => ({
        id: runId(sweepId, first + i),
        sweepId,
        number: first + i,
        params: p.params,
        paramsHash: paramsHash(p.params),
        // After an edit, each run records the spec version that proposed it (its lineage).
        proposal: specVersion > 1 ? { ...(p.info ?? {}), specVersion } : (p.info ?? null),
      }));
      return insertRuns(tx, runs, `proposed by ${spec.method}`);
    });
    if (created === null) {
      // Another pass (or replica) recorded runs first, or the spec changed: try again.
      this.again.add(sweepId);
      return;
    }
    await this.enqueue(sweep, spec, created);
  }

  private async enqueue(sweep: SweepHead, spec: SweepSpec, runs: readonly RunRow[]): Promise<void> {
    for (const r of runs) {
      const job = runJobOf(this.ctx, spec, r);
      try {
        await this.ctx.queue.enqueue(job, r.attempt);
      } catch (err) {
        // The run is queued in Postgres; the reconciler enqueues it once Redis answers.
        this.ctx.log.warn({ sweepId: sweep.id, runId: r.id, err: (err as Error).message }, 'enqueue failed; will retry');
      }
      this.ctx.log.info({ sweepId: sweep.id, runId: r.id, params: r.params }, 'run queued');
      await this.ctx.link.publish(sweep.id, 'run', runSummary(r)).catch(() => undefined);
    }
  }
}
