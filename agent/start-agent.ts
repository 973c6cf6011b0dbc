/**
 * The agent: a BullMQ worker on one sweep's queue that runs each job's training command (see
 * run-attempt.ts), heartbeats, publishes its presence for the scheduler, polls the controller's
 * control keys and the sweep state, and exits when there is nothing more for it to do.
 *
 * It needs only Redis. It never decides a run's fate beyond reporting what happened: BullMQ's own
 * stall handling is off (`maxStalledCount: 0`) and every job completes normally, because retries
 * are the controller's decision (its reaper watches heartbeats).
 */
import { REDIS_TRUST_HINT, tlsProblem } from '../protocol/tls-problem.js';
import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullConnection, connectRedis } from '../protocol/redis-connection.js';
import type { Logger } from 'pino';
import { HarrowError } from '../protocol/errors.js';
import { SECOND } from '../protocol/time.js';
import {
  AgentPresenceSchema,
  ControlMessageSchema,
  RunJobSchema,
  attemptOfJobId,
  SweepStateSchema,
  WIRE_VERSION,
  redisKeys,
  type ControlMessage,
  type RedisKeys,
  type RunOutcome,
} from '../protocol/wire.js';
import { agentSecrets, redactRedisUrl, type AgentConfig } from './agent-config.js';
import { createAgentLogger } from './agent-logger.js';
import { ClaimAnswers } from './claim-answers.js';
import { ErrorThrottle } from './error-throttle.js';
import { functionAgentOnly } from './function-agent-only.js';
import { GpuPool, tooFewGpus } from './gpu-pool.js';
import type { SlotShare } from './slot-share.js';
import { OrphanGuard } from './orphan-guard.js';
import { Reporter } from './reporter.js';
import { ClaimError, RunAttempt } from './run-attempt.js';
import type { RunLauncher } from './run-launcher.js';
import type { RunTransport } from './run-transport.js';
import { redisTransport } from './redis-transport.js';

/** Time a run has between "checkpoint now" and its stop when the agent drains, unless configured. */
export const DEFAULT_CHECKPOINT_GRACE_MS = 30 * SECOND;

/** The checkpoint settings of a run (none without HARROW_CHECKPOINT_ROOT's resolved value). */
export function checkpointOptions(config: AgentConfig): { checkpointRoot?: string; checkpointGraceMs?: number } {
  if (config.checkpointRoot === undefined) return {};
  return { checkpointRoot: config.checkpointRoot, checkpointGraceMs: config.checkpointGraceMs ?? DEFAULT_CHECKPOINT_GRACE_MS };
}

/** Shutdown steps that talk to Redis give up after this long (Redis may be the reason we stop). */
const CLOSE_TIMEOUT_MS = 5 * SECOND;
/**
 * Missing this many control polls in a row means the agent was frozen (or its event loop stalled):
 * the orphan guard then freezes its runs until a fresh poll has read their controls.
 */
const FROZEN_AFTER_POLLS = 3;
/** A repeated connection error is logged at most this often. */

export interface AgentOptions {
  sweepId: string;
  config: AgentConfig;
  /** The agent's environment: base of every run's environment and of `${envvar:X}`. Default process.env. */
  env?: Record<string, string | undefined>;
  /** Working directory of the runs. Default process.cwd(). */
  cwd?: string;
  /** Take this many runs, then exit once they are done. */
  count?: number;
  /**
   * The GPUs of the box: each run takes its sweep's `harrow.gpus_per_run` of them (default 1) and
   * sees only those in CUDA_VISIBLE_DEVICES; as many runs run at once as fit.
   */
  gpus?: readonly string[];
  /** Concurrent runs when no GPUs are given. Default 1. */
  concurrency?: number;
  /** Do not echo the runs' output. */
  quiet?: boolean;
  /** Where run output is echoed (`[run 7] ...`). Default process.stdout. */
  output?: NodeJS.WritableStream;
  logger?: Logger;
  host?: string;
  /** Where per-run directories (params and metrics files) are made. Default os.tmpdir(). */
  tmpRoot?: string;
  /** Runs each command elsewhere (a Slurm job, agent/slurm/) instead of as a child process. */
  launcher?: RunLauncher;
  /**
   * Set by an agent serving several sweeps (multi-sweep-agent.ts): the slots are shared with the
   * other sweeps' agents in this process, which decides when this one may start a run, and the
   * GPUs are one pool for all of them.
   */
  share?: { slots: SlotShare; pool: GpuPool | null };
}

export type AgentExitReason =
  | 'sweep-finished'
  | 'sweep-canceled'
  | 'count-reached'
  | 'stopped'
  | 'interrupted'
  | 'function-agent-only'
  | 'too-few-gpus'
  | 'drained';

export interface AgentExit {
  reason: AgentExitReason;
  /** Runs this agent ran to an end (aborted attempts included). */
  runs: number;
  /** For `too-few-gpus`: what the sweep's runs need and what this agent has, in words. */
  detail?: string;
}

export interface AgentHandle {
  readonly agentId: string;
  readonly slots: number;
  /** First Ctrl-C: take no more runs, let the active ones finish, then close. */
  stop(): Promise<AgentExit>;
  /** Second Ctrl-C: terminate active runs (SIGTERM, SIGKILL after their grace), report them stopped, close. */
  terminate(): Promise<AgentExit>;
  /**
   * Drain (SIGUSR2, or SIGTERM with --preemptible): take no more runs, ask each active run to
   * checkpoint (SIGUSR1), stop it after the checkpoint grace, and hand it back `preempted`: the
   * controller queues it again as a new attempt (not a failure) for another agent. Then close.
   */
  drain(reason?: string): Promise<AgentExit>;
  /** Resolves once the agent has closed everything it opened. */
  readonly closed: Promise<AgentExit>;
}

/**
 * Starts an agent on a sweep. Throws SWEEP_NOT_FOUND when Redis has no such sweep; when the sweep
 * has already finished or was canceled, the returned handle is closed at once.
 */
export async function startAgent(options: AgentOptions): Promise<AgentHandle> {
  const slots = slotsOf(options);
  const { config, sweepId } = options;
  const host = options.host ?? hostname();
  const agentId = `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const baseLog = options.logger ?? createAgentLogger({ level: config.logLevel, format: config.logFormat, secrets: agentSecrets(config) });
  const log = baseLog.child({ agentId, sweepId });
  const keys = redisKeys(config.prefix);

  const redisErrors = new ErrorThrottle(log, `Redis at ${redactRedisUrl(config.redisUrl)} is unreachable; retrying`, 'Redis connection restored');
  const redis = connectRedis(config.redisUrl, { maxRetriesPerRequest: null, connectionName: `harrow-agent-${agentId}` });
  // A certificate that does not verify will not verify on the next try: at start, stop and say so.
  let tlsRefused: (err: HarrowError) => void = () => undefined;
  const refused = new Promise<never>((_, reject) => (tlsRefused = reject));
  refused.catch(() => undefined);
  let reached = false;
  redis.on('error', (err) => {
    const tls = reached ? undefined : tlsProblem(err, REDIS_TRUST_HINT);
    if (tls) tlsRefused(new HarrowError('INVALID_CONFIG', `cannot use Redis at ${redactRedisUrl(config.redisUrl)}: ${tls}`, { cause: err }));
    else redisErrors.report(err);
  });
  redis.on('ready', () => redisErrors.recovered());

  let raw: string | null;
  try {
    raw = await Promise.race([redis.get(keys.sweepState(sweepId)), refused]);
    reached = true;
  } catch (err) {
    if (err instanceof HarrowError && err.code === 'INVALID_CONFIG') {
      redis.disconnect();
      throw err;
    }
    redis.disconnect();
    throw new HarrowError('REDIS_UNAVAILABLE', `cannot read sweep ${sweepId} from Redis: ${String(err)}`, { cause: err });
  }
  if (raw === null) {
    await closeRedis(redis);
    throw new HarrowError(
      'SWEEP_NOT_FOUND',
      `sweep ${sweepId} not found in Redis at ${redactRedisUrl(config.redisUrl)} (key prefix '${config.prefix}'): ` +
        'is the controller running and the sweep id right? (REDIS_URL and HARROW_PREFIX must match the controller)',
    );
  }
  const state = SweepStateSchema.safeParse(raw);
  if (state.success && (state.data === 'finished' || state.data === 'canceled')) {
    await closeRedis(redis);
    log.info({ state: state.data }, `sweep ${sweepId} is already ${state.data}; nothing to run`);
    const exit: AgentExit = { reason: state.data === 'finished' ? 'sweep-finished' : 'sweep-canceled', runs: 0 };
    const closed = Promise.resolve(exit);
    return { agentId, slots: slots.length, stop: () => closed, terminate: () => closed, drain: () => closed, closed };
  }
  if (!state.success) log.warn({ state: raw }, 'unexpected sweep state in Redis; taking runs anyway');

  const agent = new Agent({ ...options, slots, host, agentId, log, keys, redis, redisErrors });
  agent.start();
  return {
    agentId,
    slots: slots.length,
    stop: () => agent.stop(),
    terminate: () => agent.terminate(),
    drain: (reason) => agent.drain(reason),
    closed: agent.closed,
  };
}

/** The GPU of each slot (null when no GPUs were given), after checking the options. */
export function slotsOf(options: AgentOptions): Array<string | null> {
  const { gpus, concurrency, count } = options;
  if (count !== undefined && !(Number.isSafeInteger(count) && count > 0)) {
    throw new HarrowError('INVALID_CONFIG', `count must be a whole number ≥ 1 (got ${count})`);
  }
  if (concurrency !== undefined && !(Number.isSafeInteger(concurrency) && concurrency > 0)) {
    throw new HarrowError('INVALID_CONFIG', `concurrency must be a whole number ≥ 1 (got ${concurrency})`);
  }
  if (gpus === undefined) return Array.from({ length: concurrency ?? 1 }, () => null);
  if (gpus.length === 0 || gpus.some((g) => !/^[A-Za-z0-9_.:\-/]+$/.test(g))) {
    throw new HarrowError('INVALID_CONFIG', `gpus must be a list of GPU ids such as 0,1,2 (got ${JSON.stringify(gpus)})`);
  }
  if (new Set(gpus).size !== gpus.length) {
    throw new HarrowError('INVALID_CONFIG', `gpus lists a GPU twice (${gpus.join(',')}); give each GPU once`);
  }
  if (concurrency !== undefined && concurrency !== gpus.length) {
    throw new HarrowError(
      'INVALID_CONFIG',
      `concurrency ${concurrency} does not match the ${gpus.length} GPUs given; with GPUs the agent runs one run per GPU, so leave concurrency out`,
    );
  }
  return [...gpus];
}

interface AgentInternals extends AgentOptions {
  slots: Array<string | null>;
  host: string;
  agentId: string;
  log: Logger;
  keys: RedisKeys;
  redis: Redis;
  redisErrors: ErrorThrottle;
}

interface JobResult {
  outcome: RunOutcome | 'aborted';
}

class Agent {
  readonly closed: Promise<AgentExit>;
  private resolveClosed!: (exit: AgentExit) => void;
  /** The agent's GPUs (`--gpus`), or null: then `o.slots.length` runs at once, without GPUs. */
  private readonly pool: GpuPool | null;
  /** Runs at once: the slots, or with GPUs as many runs of the sweep's `gpus_per_run` as fit. */
  private capacity: number;
  private exitDetail: string | undefined;
  /** Sharing slots: changes of the worker's concurrency and pause state, in order. */
  private shareChain: Promise<void> = Promise.resolve();
  private workerRunning = false;
  private readonly active = new Set<RunAttempt>();
  /** Each active attempt's logger (runId, attempt), for lines about the run written here. */
  private readonly runLogs = new WeakMap<RunAttempt, Logger>();
  private readonly reporter: Reporter;
  private readonly answers: ClaimAnswers;
  private readonly transport: RunTransport;
  private readonly guard: OrphanGuard;
  private worker!: Worker<unknown, JobResult>;
  private accepting = true;
  private exitReason: AgentExitReason | null = null;
  private started = 0;
  private ended = 0;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private lastPollTick = Date.now();
  /** Set when polls were missed (frozen): the guard's pulse waits for a poll started after it. */
  private pulseAfter: number | null = null;
  private heartbeating = false;
  private presenceBusy = false;
  private presenceAgain = false;
  private shutdownPromise: Promise<void> | null = null;
  private readonly warned = new Set<string>();
  private readonly workerErrors: ErrorThrottle;
  private readonly log: Logger;

  constructor(private readonly o: AgentInternals) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.pool = o.share ? o.share.pool : o.gpus !== undefined ? new GpuPool(o.slots.filter((g): g is string => g !== null)) : null;
    this.capacity = o.slots.length;
    this.reporter = new Reporter(o.redis, o.keys.reports);
    // Its own connection: a subscribed connection can do nothing else.
    const subscriber = o.redis.duplicate({ connectionName: `harrow-agent-${o.agentId}-claims` });
    subscriber.on('error', (err) => o.redisErrors.report(err));
    this.answers = new ClaimAnswers(subscriber, o.log);
    this.transport = redisTransport(this.reporter, this.answers, o.keys);
    this.log = o.log;
    this.guard = OrphanGuard.start(o.log);
    this.workerErrors = new ErrorThrottle(o.log, 'job queue (BullMQ) error', 'Redis connection restored');
  }

  start(): void {
    const { o } = this;
    this.worker = new Worker<unknown, JobResult>(o.keys.queueName(o.sweepId), (job, token) => this.process(job, token), {
      connection: bullConnection(o.config.redisUrl, { maxRetriesPerRequest: null }),
      prefix: o.keys.bullPrefix,
      // Never fetch more jobs than runs still wanted: a fetched job is a run held back from other agents.
      concurrency: Math.min(o.slots.length, o.count ?? Infinity),
      // The controller's reaper decides retries from heartbeats; BullMQ must not re-run a job itself.
      maxStalledCount: 0,
      name: o.agentId,
      // Sharing slots with other sweeps: the share starts it once it grants this sweep a slot.
      autorun: o.share === undefined,
    });
    o.share?.slots.add({ sweepId: o.sweepId, apply: (allowed) => this.applyShare(allowed) });
    this.worker.on('error', (err) => this.workerErrors.report(err));
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), o.config.heartbeatMs);
    this.pollTimer = setInterval(() => void this.poll(), o.config.controlPollMs);
    void this.publishPresence();
    this.log.info(
      { slots: o.slots.length, gpus: o.gpus ?? undefined, count: o.count, queue: o.keys.queueName(o.sweepId) },
      'agent started; waiting for runs',
    );
  }

  stop(): Promise<AgentExit> {
    this.stopAccepting('stopped');
    this.maybeFinish();
    return this.closed;
  }

  terminate(): Promise<AgentExit> {
    this.exitReason = 'interrupted';
    this.stopAccepting('interrupted');
    if (this.active.size > 0) this.log.warn({ runs: this.active.size }, 'terminating active runs');
    for (const attempt of this.active) attempt.interrupt();
    this.maybeFinish();
    return this.closed;
  }

  drain(reason = 'agent drained'): Promise<AgentExit> {
    this.stopAccepting('drained');
    const graceMs = this.o.config.checkpointGraceMs ?? DEFAULT_CHECKPOINT_GRACE_MS;
    if (this.active.size > 0) this.log.warn({ runs: this.active.size, graceMs, reason }, 'draining: checkpointing the active runs and handing them back');
    for (const attempt of this.active) attempt.preempt(reason, graceMs);
    this.maybeFinish();
    return this.closed;
  }

  private async process(job: Job<unknown, JobResult>, bullToken?: string): Promise<JobResult> {
    if (!this.accepting || this.active.size >= this.capacity || this.shutdownPromise) {
      // Fetched while we were stopping: give it back untouched for another agent.
      this.log.debug({ jobId: job.id }, 'handing back a job fetched while stopping');
      await job.moveToWait(bullToken);
      throw new WaitingError();
    }
    const parsed = RunJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const v = (job.data as { v?: unknown } | null)?.v;
      const message =
        v !== WIRE_VERSION
          ? `job ${job.id} speaks wire version ${String(v)}, this agent ${WIRE_VERSION}: run the same harrow version as the controller`
          : `job ${job.id} is not a valid run: ${parsed.error.message}`;
      this.log.error({ jobId: job.id }, message);
      throw new UnrecoverableError(message);
    }
    const runJob = parsed.data;
    if (runJob.sweepId !== this.o.sweepId) {
      throw new UnrecoverableError(`job ${job.id} belongs to sweep ${runJob.sweepId}, not ${this.o.sweepId}`);
    }

    const refusal = functionAgentOnly(runJob);
    if (refusal !== null) {
      // Give the run back untouched (nothing claimed) for a function agent, and leave.
      this.log.error({ jobId: job.id }, refusal);
      this.stopAccepting('function-agent-only');
      await job.moveToWait(bullToken);
      this.maybeFinish();
      throw new WaitingError();
    }

    const share = this.o.share?.slots;
    if (share) {
      share.update(this.o.sweepId, { cost: this.pool ? runJob.gpusPerRun : 1 });
      if (!share.mayStart(this.o.sweepId)) {
        // Another sweep's turn (or fewer slots allowed since the fetch): the run stays queued.
        await job.moveToWait(bullToken);
        share.rebalance();
        throw new WaitingError();
      }
    }
    const gpus = this.takeGpus(runJob.gpusPerRun, runJob.number);
    if (gpus === 'never' || gpus === 'busy') {
      // Nothing claimed: the run stays queued for an agent (or a later moment) with the GPUs.
      await job.moveToWait(bullToken);
      this.maybeFinish();
      throw new WaitingError();
    }

    this.started++;
    share?.started(this.o.sweepId);
    if (this.o.count !== undefined && this.started >= this.o.count) this.stopAccepting('count-reached');
    // The job id says which attempt this is (`<run>.r<n>` for a retry): every line about the run carries it.
    const runLog = this.log.child({ runId: runJob.runId, attempt: attemptOfJobId(job.id, runJob.runId) });
    const attempt: RunAttempt = new RunAttempt({
      job: runJob,
      agentId: this.o.agentId,
      host: this.o.host,
      gpu: gpus === null ? null : gpus.join(','),
      env: this.o.env ?? process.env,
      cwd: this.o.cwd ?? process.cwd(),
      tmpRoot: this.o.tmpRoot ?? tmpdir(),
      ...checkpointOptions(this.o.config),
      transport: this.transport,
      ...(this.o.launcher ? { launcher: this.o.launcher } : {}),
      claimWaitMs: this.o.config.claimWaitMs,
      guard: this.guard,
      log: runLog,
      echo: this.echoFor(runJob.number),
      onClaimed: (a) => void this.checkControl(a),
      beforeStart: (a) => this.checkControl(a),
    });
    this.active.add(attempt);
    this.runLogs.set(attempt, runLog);
    void this.publishPresence();
    try {
      const result = await attempt.run();
      this.ended++;
      return { outcome: result?.outcome ?? 'aborted' };
    } catch (err) {
      if (!(err instanceof ClaimError)) throw err;
      // Nothing ran: the run goes back to the queue. Should the controller accept the claim
      // later, the attempt gets no heartbeat from us and is declared crashed (and retried).
      this.started--;
      runLog.error({ err }, 'could not claim the run; returning it to the queue');
      try {
        await job.moveToWait(bullToken);
      } catch (moveErr) {
        // Redis lost the job (a flush): the controller enqueues the run again from Postgres.
        runLog.warn({ err: moveErr }, 'could not return the job; the controller will enqueue the run again');
      }
      throw new WaitingError();
    } finally {
      if (gpus !== null) this.pool?.release(gpus);
      this.active.delete(attempt);
      share?.ended(this.o.sweepId);
      void this.publishPresence();
      this.maybeFinish();
    }
  }

  /**
   * The GPUs for a run needing `n`: null when the agent has none (the run gets no
   * CUDA_VISIBLE_DEVICES), `never` when the agent has fewer than `n` (it stops taking runs of
   * this sweep), `busy` when they are held by other runs (fetched before the capacity fell).
   * The first run tells the agent the sweep's size: it then fetches only as many runs as fit.
   */
  private takeGpus(n: number, runNumber: number): string[] | null | 'never' | 'busy' {
    const pool = this.pool;
    if (pool === null) return null;
    if (n > pool.size) {
      const detail = tooFewGpus(this.o.sweepId, n, pool);
      this.log.error({ gpusPerRun: n, gpus: pool.ids, runNumber }, `${detail}; run ${runNumber} is left queued`);
      this.exitDetail ??= detail;
      this.stopAccepting('too-few-gpus');
      return 'never';
    }
    const fit = Math.max(1, Math.min(Math.floor(pool.size / n), this.o.count ?? Infinity));
    if (fit !== this.capacity && !this.o.share) {
      this.log.info({ gpusPerRun: n, runsAtOnce: fit, gpus: pool.ids }, `runs take ${n} GPUs each: ${fit} at once`);
      this.capacity = fit;
      this.worker.concurrency = fit;
      void this.publishPresence();
    }
    return pool.take(n) ?? 'busy';
  }

  /**
   * The share's allowance for this sweep: the worker fetches up to `allowed` runs at once; with
   * none allowed and none running it is paused. Raising it wakes a worker that waits for its
   * active runs to end (BullMQ's loop only looks at its concurrency again then).
   */
  private applyShare(allowed: number): void {
    if (!this.accepting || this.shutdownPromise) return;
    const target = Math.max(allowed, this.active.size);
    this.shareChain = this.shareChain
      .then(async () => {
        if (!this.accepting || this.shutdownPromise) return;
        if (target === 0) {
          if (this.workerRunning && !this.worker.isPaused()) await this.worker.pause(true);
          return;
        }
        const raised = target > this.worker.concurrency;
        this.worker.concurrency = target;
        if (!this.workerRunning) {
          this.workerRunning = true;
          this.runWorker();
        } else if (this.worker.isPaused() || (raised && this.active.size > 0)) {
          if (!this.worker.isPaused()) await this.worker.pause(true);
          await this.worker.resume();
        }
      })
      .catch((err: unknown) => this.log.warn({ err }, 'could not apply the slot share to the job queue worker'));
  }

  private runWorker(): void {
    this.worker.run().catch((err: unknown) => this.workerErrors.report(err));
  }

  private echoFor(runNumber: number): ((line: string) => void) | null {
    if (this.o.quiet) return null;
    const out = this.o.output ?? process.stdout;
    return (line) => void out.write(`[run ${runNumber}] ${line}\n`);
  }

  private stopAccepting(reason: AgentExitReason): void {
    this.exitReason ??= reason;
    if (!this.accepting) return;
    this.accepting = false;
    this.log.info({ reason, active: this.active.size }, 'taking no more runs');
    this.worker.pause(true).catch((err: unknown) => this.log.warn({ err }, 'could not pause the job queue worker'));
    void this.publishPresence();
  }

  private maybeFinish(): void {
    if (!this.accepting && this.active.size === 0) void this.shutdown();
  }

  private async heartbeat(): Promise<void> {
    if (this.heartbeating || this.shutdownPromise) return;
    this.heartbeating = true;
    try {
      const runs = [...this.active].filter((a) => a.live).map((a) => ({ runId: a.runId, token: a.token }));
      if (runs.length > 0) {
        await this.reporter.send({
          v: WIRE_VERSION,
          type: 'heartbeat',
          sweepId: this.o.sweepId,
          agentId: this.o.agentId,
          runs,
          at: Date.now(),
        });
      }
      await this.publishPresence();
    } catch (err) {
      this.o.redisErrors.report(err);
    } finally {
      this.heartbeating = false;
    }
  }

  /**
   * Control keys of the live runs and the sweep state, in one round trip. Each tick is also the
   * pulse of the orphan guard, which freezes the runs of an agent that stops pulsing. After a gap
   * (this agent was frozen), the pulse waits until a poll has applied the controls that came
   * meanwhile, so an attempt declared crashed is aborted before its group runs again.
   */
  private async poll(): Promise<void> {
    const tick = Date.now();
    const limit = FROZEN_AFTER_POLLS * this.o.config.controlPollMs;
    if (tick - this.lastPollTick > limit) this.pulseAfter = tick;
    this.lastPollTick = tick;
    if (this.pulseAfter === null) this.guard.alive(limit);
    if (this.polling || this.shutdownPromise) return;
    this.polling = true;
    try {
      const live = [...this.active].filter((a) => a.live);
      const values = await this.o.redis.mget(
        this.o.keys.sweepState(this.o.sweepId),
        ...live.map((a) => this.o.keys.control(a.runId)),
      );
      live.forEach((attempt, i) => this.applyControl(attempt, values[i + 1] ?? null));
      this.onSweepState(values[0] ?? null);
      if (this.pulseAfter !== null && tick >= this.pulseAfter) {
        this.pulseAfter = null;
        this.guard.alive(limit);
      }
    } catch (err) {
      this.o.redisErrors.report(err);
    } finally {
      this.polling = false;
    }
  }

  private async checkControl(attempt: RunAttempt): Promise<void> {
    try {
      this.applyControl(attempt, await this.o.redis.get(this.o.keys.control(attempt.runId)));
    } catch (err) {
      this.o.redisErrors.report(err);
    }
  }

  private applyControl(attempt: RunAttempt, raw: string | null): void {
    if (raw === null) return;
    const message = parseControl(raw);
    if (message === null) {
      this.warnOnce(`control:${raw}`, { value: raw.slice(0, 200) }, 'ignored an invalid control message', this.runLogs.get(attempt));
      return;
    }
    attempt.applyControl(message);
  }

  private onSweepState(raw: string | null): void {
    if (raw === null) {
      this.warnOnce('state-missing', {}, 'the sweep state key is missing from Redis (flushed?); carrying on until the controller restores it');
      return;
    }
    if (raw === 'finished' || raw === 'canceled') {
      if (this.accepting) this.log.info({ state: raw }, `sweep ${raw}`);
      this.stopAccepting(raw === 'finished' ? 'sweep-finished' : 'sweep-canceled');
      this.maybeFinish();
    }
  }

  /** Presence for the scheduler; updates coalesce so the newest state always lands last. */
  private async publishPresence(): Promise<void> {
    if (this.presenceBusy) {
      this.presenceAgain = true;
      return;
    }
    this.presenceBusy = true;
    try {
      do {
        this.presenceAgain = false;
        if (this.shutdownPromise) return;
        const presence = AgentPresenceSchema.parse({
          agentId: this.o.agentId,
          host: this.o.host,
          slots: this.capacity,
          busy: this.active.size,
          accepting: this.accepting,
          at: Date.now(),
        });
        await this.o.redis.hset(this.o.keys.agents(this.o.sweepId), this.o.agentId, JSON.stringify(presence));
      } while (this.presenceAgain);
    } catch (err) {
      this.o.redisErrors.report(err);
    } finally {
      this.presenceBusy = false;
    }
  }

  private shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      const reason = this.exitReason ?? 'stopped';
      this.o.share?.slots.remove(this.o.sweepId);
      if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
      if (this.pollTimer) clearInterval(this.pollTimer);
      try {
        if (!(await withTimeout(this.worker.close(), CLOSE_TIMEOUT_MS))) {
          this.log.warn('the job queue worker did not close in time; disconnecting');
          void this.worker.close(true).catch(() => {});
        }
        await withTimeout(this.o.redis.hdel(this.o.keys.agents(this.o.sweepId), this.o.agentId), CLOSE_TIMEOUT_MS);
        await this.guard.close();
        this.answers.close();
        await closeRedis(this.o.redis);
      } catch (err) {
        this.log.error({ err }, 'error while closing the agent');
        this.o.redis.disconnect();
      }
      this.log.info({ reason, runs: this.ended, ...(this.exitDetail !== undefined ? { detail: this.exitDetail } : {}) }, 'agent exited');
      this.resolveClosed({ reason, runs: this.ended, ...(this.exitDetail !== undefined ? { detail: this.exitDetail } : {}) });
    })();
    return this.shutdownPromise;
  }

  private warnOnce(key: string, fields: object, message: string, log: Logger = this.log): void {
    if (this.warned.has(key)) return;
    if (this.warned.size < 1000) this.warned.add(key);
    log.warn(fields, message);
  }
}

function parseControl(raw: string): ControlMessage | null {
  try {
    const parsed = ControlMessageSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** true when `p` settled in time (its rejection is swallowed: this is for shutdown only). */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true).catch(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function closeRedis(redis: Redis): Promise<void> {
  if (!(await withTimeout(redis.quit(), CLOSE_TIMEOUT_MS))) redis.disconnect();
}
