/**
 * The BullMQ side of dispatch: one queue per sweep, the job id is the run id (`jobIdOf`, in the
 * wire contract because the agent reads the attempt number from it), enqueueing is idempotent.
 * Postgres decides what should be queued; this only mirrors it into Redis.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobIdOf, type RedisKeys, type RunJob } from '../protocol/wire.js';

export { jobIdOf };

export class RunQueue {
  private readonly queues = new Map<string, Queue>();
  /** Told when a sweep's queue is destroyed, so other holders of it (HTTP agents' job takers) let go. */
  private readonly dropListeners = new Set<(sweepId: string) => Promise<void>>();

  constructor(
    private readonly connection: Redis,
    private readonly keys: RedisKeys,
  ) {}

  private queue(sweepId: string): Queue {
    let q = this.queues.get(sweepId);
    if (!q) {
      q = new Queue(this.keys.queueName(sweepId), {
        connection: this.connection,
        prefix: this.keys.bullPrefix,
        // Retries are the controller's decision (a new attempt, fenced), never BullMQ's.
        defaultJobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: true },
      });
      this.queues.set(sweepId, q);
    }
    return q;
  }

  /**
   * Adds the run's job unless a job with its id exists. A finished job left behind (an agent that
   * died mid-run leaves its job failed or active) is removed first so a retry can take the id.
   */
  async enqueue(job: RunJob, attempt: number): Promise<'added' | 'present'> {
    const q = this.queue(job.sweepId);
    const jobId = jobIdOf({ id: job.runId, attempt });
    const existing = await q.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state === 'waiting' || state === 'prioritized' || state === 'delayed' || state === 'waiting-children') return 'present';
      // completed, failed or unknown: make room for it again.
      await q.remove(jobId).catch(() => 0);
    }
    await q.add('run', job, { jobId });
    return 'added';
  }

  /** Whether Redis holds a job for the run that an agent can still take. */
  async holds(sweepId: string, run: { id: string; attempt: number }): Promise<boolean> {
    const job = await this.queue(sweepId).getJob(jobIdOf(run));
    if (!job) return false;
    const state = await job.getState();
    return state === 'waiting' || state === 'prioritized' || state === 'delayed' || state === 'active';
  }

  async remove(sweepId: string, run: { id: string; attempt: number }): Promise<void> {
    await this.queue(sweepId).remove(jobIdOf(run)).catch(() => 0);
  }

  /** A paused sweep's queued runs stay in Redis but no agent takes them. */
  async pause(sweepId: string): Promise<void> {
    await this.queue(sweepId).pause();
  }

  async resume(sweepId: string): Promise<void> {
    await this.queue(sweepId).resume();
  }

  async waitingCount(sweepId: string): Promise<number> {
    return this.queue(sweepId).getWaitingCount();
  }

  /** Calls `listener` before a sweep's queue is destroyed (`obliterate`). */
  onDrop(listener: (sweepId: string) => Promise<void>): void {
    this.dropListeners.add(listener);
  }

  /**
   * Destroys the sweep's queue and every job in it, active ones included (`harrow delete`): every
   * key under `<prefix>:bull:runs-<sweep>:`. Holders of the queue are closed first so that none
   * writes a key of it again (a worker's stalled-jobs check would).
   */
  async obliterate(sweepId: string): Promise<void> {
    for (const listener of this.dropListeners) await listener(sweepId);
    const q = this.queue(sweepId);
    await q.obliterate({ force: true });
    this.queues.delete(sweepId);
    await q.close();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
