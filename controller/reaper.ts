/**
 * Liveness and reconciliation, on a timer:
 * - runs whose heartbeat stopped are marked `crashed` within HARROW_CRASH_TIMEOUT_MS plus one tick,
 *   and what follows (retry, pause on failures) is decided by `run-lifecycle.ts`;
 * - Redis is made to match Postgres again: sweep states for agents, and the jobs of runs that
 *   Postgres says are queued but Redis lost (a flush, or a restart without persistence).
 *
 * Right after the controller starts, and after report ingestion recovers from an outage, it waits
 * one crash timeout before reaping: heartbeats that could not be recorded are no evidence of death.
 */
import type { ControllerContext } from './context.js';
import type { Ingestor } from './ingestor.js';
import { cancelQueuedRuns, endedSweepsWithQueuedRuns, queuedRunsOfRunningSweeps } from '../db/runs.js';
import { compactRunCounts, getSweep, listSweepHeads, sweepsWithUnfoldedCounts } from '../db/sweeps.js';
import { ENDED_SWEEP_STATES } from '../protocol/run-states.js';
import { runJobOf } from './scheduler.js';
import { afterRunEnd, crashStaleAttempts } from './run-lifecycle.js';
import { runSummary } from './serialize.js';
import { SECOND } from '../protocol/time.js';
import { Limits } from './budget-limits.js';

/** Reconciling Redis costs a lookup per queued run, so it runs less often than the crash check. */
const RECONCILE_EVERY_MS = 3 * SECOND;

export class Reaper {
  private readonly startedAt = Date.now();
  private lastReconcile = 0;
  /** Sweeps whose ended state was mirrored to Redis already. */
  private readonly mirroredEnded = new Set<string>();
  /** harrow.run_timeout and harrow.budget (`budget-limits.ts`). */
  private readonly limits: Limits;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly ingestor: Ingestor,
  ) {
    this.limits = new Limits(ctx);
  }

  async tick(): Promise<void> {
    const calmSince = Math.max(this.startedAt, this.ingestor.healthySince);
    if (!this.ingestor.failing && Date.now() - calmSince >= this.ctx.config.HARROW_CRASH_TIMEOUT_MS) await this.reap();
    await this.limits.tick();
    if (Date.now() - this.lastReconcile >= RECONCILE_EVERY_MS) {
      this.lastReconcile = Date.now();
      await this.reconcile();
      await this.foldRunCounts();
    }
  }

  /** Keeps each sweep's run counts a few rows (`compactRunCounts`), one sweep per transaction. */
  async foldRunCounts(): Promise<void> {
    const { db } = this.ctx;
    for (const sweepId of await sweepsWithUnfoldedCounts(db)) await db.transaction((tx) => compactRunCounts(tx, sweepId));
  }

  async reap(): Promise<void> {
    const { db, link } = this.ctx;
    const ends = await db.transaction((tx) => crashStaleAttempts(this.ctx, tx, this.ctx.config.HARROW_CRASH_TIMEOUT_MS));
    for (const end of ends) {
      const crashed = end.run;
      await link.publish(crashed.sweep_id, 'run', runSummary(crashed)).catch(() => undefined);
      // Should the "dead" agent still be alive, make sure it stops: its token is no longer valid.
      if (crashed.token) {
        await link
          .sendControl(crashed.id, { action: 'abort', token: crashed.token, reason: 'attempt declared crashed (no heartbeat)', at: Date.now() })
          .catch(() => undefined);
      }
      await afterRunEnd(this.ctx, end);
      this.ctx.poke(crashed.sweep_id);
    }
  }

  async reconcile(): Promise<void> {
    const { db, link, queue, log } = this.ctx;
    // A sentinel key tells whether Redis lost its data since the last pass; if so, rewrite all.
    const sentinel = `${this.ctx.config.HARROW_PREFIX}:controller:sentinel`;
    if ((await link.redis.set(sentinel, '1', 'NX')) === 'OK' && this.mirroredEnded.size > 0) {
      log.warn('Redis lost its data (flush or restart without persistence); restoring sweep states and queued runs from Postgres');
      this.mirroredEnded.clear();
    }
    const sweeps = await listSweepHeads(db);
    for (const s of sweeps) {
      const ended = s.state === 'finished' || s.state === 'canceled';
      if (ended && this.mirroredEnded.has(s.id)) continue;
      // An ended sweep can run again (extended): mirror it anew should it end again.
      if (!ended) this.mirroredEnded.delete(s.id);
      await link.setSweepState(s.id, s.state);
      // Only a sweep with its own share settings has a key: agents take no key as the defaults
      // (priority 0, no cap), and `harrow sweep set` writes the key at once when they change.
      if (s.priority !== 0 || s.max_slots !== null) await link.setSweepShare(s.id, { priority: s.priority, maxSlots: s.max_slots });
      if (s.state === 'paused') await queue.pause(s.id);
      if (ended) {
        this.mirroredEnded.add(s.id);
        this.ingestor.forget(s.id);
        this.ctx.proposer.forget(s.id);
      }
      if (s.state === 'running') this.ctx.poke(s.id);
    }
    // An ended sweep holds no queued run: a retry decided on a sweep row read just before a stop
    // committed would otherwise wait forever, since no agent takes a run of an ended sweep.
    for (const sweepId of await endedSweepsWithQueuedRuns(db)) {
      const canceled = await db.transaction(async (tx) => {
        // Locked and read again: an extension may have made it run again meanwhile.
        const sweep = await getSweep(tx, sweepId, { forUpdate: true });
        return sweep && ENDED_SWEEP_STATES.includes(sweep.state) ? cancelQueuedRuns(tx, sweepId, `sweep ${sweep.state}: it ended while this run was being queued again`) : [];
      });
      for (const run of canceled) {
        log.warn({ sweepId, runId: run.id, attempt: run.attempt }, 'run was queued in a sweep that had ended; canceled');
        await link.publish(sweepId, 'run', runSummary(run)).catch(() => undefined);
      }
    }
    // Enqueuing again a run whose claim still sits unread in the reports stream (a controller
    // restart, a database outage) is safe: its agent starts nothing before the claim is accepted,
    // and Postgres accepts only the first claim of a queued run, so a second claimant is refused.
    for (const run of await queuedRunsOfRunningSweeps(db)) {
      if (await queue.holds(run.sweep_id, run)) continue;
      const spec = await this.ctx.specs.get(db, run.sweep_id);
      await queue.enqueue(runJobOf(this.ctx, spec, run), run.attempt);
      log.warn({ sweepId: run.sweep_id, runId: run.id }, 'run was queued in Postgres but missing from Redis; enqueued again');
    }
  }
}
