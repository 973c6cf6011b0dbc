/**
 * Retention (HARROW_RETENTION_DAYS): every controller replica runs a pass soon after it starts and
 * then hourly; the pass takes a Postgres advisory lock per batch (`tryRetentionLock`), so one
 * replica at a time does the work and the others skip. What a pass removes and keeps is in
 * `db/retention.ts`. `harrow retention --dry-run` (GET /api/retention) lists what would go.
 */
import { DAY, HOUR, SECOND } from '../protocol/time.js';
import { expireSweepDetail, expiringSweeps, tryRetentionLock, type ExpiringSweep } from '../db/retention.js';
import type { ControllerContext } from './context.js';

export const RETENTION_EVERY_MS = 1 * HOUR;
/** The first pass waits this long after start: a restart loop must not hammer the database. */
export const RETENTION_FIRST_MS = 30 * SECOND;
/** Sweeps per transaction: a pass over years of history commits as it goes. */
const BATCH = 20;

export interface RetentionPass {
  days: number;
  cutoff: Date;
  sweeps: ExpiringSweep[];
  tails: number;
  points: number;
  /** Another replica held the lock: this one did nothing. */
  skipped: boolean;
}

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly now: () => number = Date.now,
  ) {}

  get days(): number | undefined {
    return this.ctx.config.HARROW_RETENTION_DAYS;
  }

  cutoff(days: number): Date {
    return new Date(this.now() - days * DAY);
  }

  /** What a pass would remove now (nothing changes). */
  async preview(days: number, limit = 1000): Promise<{ cutoff: Date; sweeps: ExpiringSweep[] }> {
    const cutoff = this.cutoff(days);
    return { cutoff, sweeps: await expiringSweeps(this.ctx.db, cutoff, limit) };
  }

  /** One pass: batches of sweeps, each in a transaction under the retention lock. */
  async run(days: number): Promise<RetentionPass> {
    const cutoff = this.cutoff(days);
    const pass: RetentionPass = { days, cutoff, sweeps: [], tails: 0, points: 0, skipped: false };
    for (;;) {
      const batch = await this.ctx.db.transaction(async (tx) => {
        if (!(await tryRetentionLock(tx))) return null;
        const due = await expiringSweeps(tx, cutoff, BATCH);
        const done = await expireSweepDetail(tx, due.map((s) => s.id), cutoff);
        return { due: due.filter((s) => done.sweeps.includes(s.id)), tails: done.tails, points: done.points, more: due.length === BATCH };
      });
      if (batch === null) {
        pass.skipped = pass.sweeps.length === 0;
        break;
      }
      pass.sweeps.push(...batch.due);
      pass.tails += batch.tails;
      pass.points += batch.points;
      for (const s of batch.due) this.ctx.log.info({ sweepId: s.id, endedAt: s.ended_at, tails: s.tails, points: s.points, retentionDays: days }, 'retention: metric points and output tails removed');
      if (!batch.more) break;
    }
    return pass;
  }

  /** Starts the periodic passes (no-op when retention is off). */
  start(): void {
    if (this.days === undefined || this.timer) return;
    const pass = (): void => {
      if (this.running) return;
      this.running = this.run(this.days!)
        .catch((err: unknown) => this.ctx.log.warn({ err: (err as Error).message }, 'retention pass failed; retrying in an hour'))
        .finally(() => {
          this.running = undefined;
        });
    };
    this.timer = setTimeout(() => {
      pass();
      this.timer = setInterval(pass, RETENTION_EVERY_MS);
      this.timer.unref();
    }, RETENTION_FIRST_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
