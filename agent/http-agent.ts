/**
 * The agent over HTTP (`harrow agent SWEEP --server URL`): the same runs as the Redis agent
 * (start-agent.ts), for a box that can reach only the controller's HTTP port. Each slot long-polls
 * the controller for a run; the controller takes the run's BullMQ job, writes the claim into the
 * reports stream and answers once it committed it, so nothing starts before the claim is the
 * run's (the same fence as on Redis). The run itself is RunAttempt, unchanged; its reports go
 * through the HTTP transport into the same stream. One poll every HARROW_CONTROL_POLL_MS carries
 * the presence (and, every heartbeat interval, the heartbeat) and brings back the sweep state and
 * the runs' stop/cancel/abort, and pulses the orphan guard as the Redis agent's poll does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { HarrowError } from '../protocol/errors.js';
import { SECOND } from '../protocol/time.js';
import type { ClaimAnswer, EndAnswer, RunJob, SweepState } from '../protocol/wire.js';
import { AgentHttpClient, retryable } from './agent-http-client.js';
import { agentSecrets } from './agent-config.js';
import { createAgentLogger } from './agent-logger.js';
import { ErrorThrottle } from './error-throttle.js';
import { functionAgentOnly } from './function-agent-only.js';
import { GpuPool, tooFewGpus } from './gpu-pool.js';
import { answerBox } from './claim-answers.js';
import { OrphanGuard } from './orphan-guard.js';
import { RunAttempt } from './run-attempt.js';
import type { RunTransport } from './run-transport.js';
import { DEFAULT_CHECKPOINT_GRACE_MS, checkpointOptions, slotsOf, type AgentExit, type AgentExitReason, type AgentHandle, type AgentOptions } from './start-agent.js';

const FROZEN_AFTER_POLLS = 3;
/** After a failed claim call (server away), a slot waits this long before asking again. */
const CLAIM_RETRY_MS = 1 * SECOND;

export interface HttpAgentOptions extends AgentOptions {
  /** The controller's base URL, e.g. http://controller:8080. */
  server: string;
  /** HARROW_TOKEN, sent as a bearer token. */
  token?: string;
}

export async function startHttpAgent(options: HttpAgentOptions): Promise<AgentHandle> {
  const slots = slotsOf(options);
  const host = options.host ?? hostname();
  const agentId = `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const secrets = [...agentSecrets(options.config), ...(options.token ? [options.token] : [])];
  const baseLog = options.logger ?? createAgentLogger({ level: options.config.logLevel, format: options.config.logFormat, secrets });
  const log = baseLog.child({ agentId, sweepId: options.sweepId });
  // Several replicas, comma-separated: the agent moves to the next when one cannot be reached.
  const servers = options.server.split(',').map((s) => s.trim().replace(/\/+$/, ''));
  const server = servers.join(', ');
  const errors = new ErrorThrottle(log, `the Harrow server at ${server} is unreachable; retrying`, 'the Harrow server answers again', 'message');
  const client = new AgentHttpClient(servers, options.token, options.sweepId, (err) => errors.report(err));
  // One poll first: a wrong sweep id, server or token is an error now, not a silent wait.
  const first = await client.poll({
    presence: { agentId, host, slots: slots.length, busy: 0, accepting: true, at: Date.now() },
    runs: [],
    heartbeat: false,
  });
  if (first.functionAgentOnly) {
    await client.leave(agentId).catch(() => undefined);
    throw new HarrowError('INVALID_CONFIG', functionAgentOnly({ sweepId: options.sweepId, program: undefined, command: ['${program}'] }) ?? '');
  }
  if (first.state === 'finished' || first.state === 'canceled') {
    await client.leave(agentId).catch(() => undefined);
    log.info({ state: first.state }, `sweep ${options.sweepId} is already ${first.state}; nothing to run`);
    const closed = Promise.resolve<AgentExit>({ reason: first.state === 'finished' ? 'sweep-finished' : 'sweep-canceled', runs: 0 });
    return { agentId, slots: slots.length, stop: () => closed, terminate: () => closed, drain: () => closed, closed };
  }
  const agent = new HttpAgent(options, slots, host, agentId, log, client, errors);
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

class HttpAgent {
  readonly closed: Promise<AgentExit>;
  private resolveClosed!: (exit: AgentExit) => void;
  /**
   * The agent's GPUs (`--gpus`), or null. A slot about to claim holds back every free GPU and
   * offers them; the controller takes only a run they can hold and names the GPUs it gets, and
   * the slot gives the rest back at once. So a claim never takes a run this agent cannot start.
   */
  private readonly pool: GpuPool | null;
  /** GPUs the last run asked for: a slot claims only once that many are free. */
  private gpusPerRun = 1;
  /** Slots waiting for GPUs to be freed (or for the agent to stop). */
  private gpuWaiters: Array<() => void> = [];
  private exitDetail: string | undefined;
  private readonly active = new Set<RunAttempt>();
  private readonly guard: OrphanGuard;
  private readonly claims = new AbortController();
  private accepting = true;
  private exitReason: AgentExitReason | null = null;
  /** Runs taken or being asked for: never more than --count. */
  private reserved = 0;
  private started = 0;
  private ended = 0;
  private loops: Array<Promise<void>> = [];
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private lastPollTick = Date.now();
  private lastBeat = 0;
  private pulseAfter: number | null = null;
  private shutdownPromise: Promise<void> | null = null;

  constructor(
    private readonly o: HttpAgentOptions,
    private readonly slots: Array<string | null>,
    private readonly host: string,
    private readonly agentId: string,
    private readonly log: Logger,
    private readonly client: AgentHttpClient,
    private readonly errors: ErrorThrottle,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.guard = OrphanGuard.start(log);
    this.pool = o.gpus !== undefined ? new GpuPool(slots.filter((g): g is string => g !== null)) : null;
  }

  /** Runs at once: the slots, or with GPUs as many runs of the sweep's `gpus_per_run` as fit. */
  private get capacity(): number {
    if (this.pool === null) return this.slots.length;
    return Math.max(1, Math.min(Math.floor(this.pool.size / this.gpusPerRun), this.o.count ?? Infinity));
  }

  start(): void {
    this.pollTimer = setInterval(() => void this.poll(), this.o.config.controlPollMs);
    // With GPUs, one slot per GPU (runs of one GPU each at most); each claims only with free GPUs.
    this.loops = this.slots.map(() => this.slotLoop());
    void Promise.all(this.loops).then(() => this.shutdown());
    this.log.info({ slots: this.slots.length, gpus: this.o.gpus ?? undefined, count: this.o.count, server: this.client.server }, 'agent started over HTTP; waiting for runs');
  }

  stop(): Promise<AgentExit> {
    this.stopAccepting('stopped');
    return this.closed;
  }

  terminate(): Promise<AgentExit> {
    this.exitReason = 'interrupted';
    this.stopAccepting('interrupted');
    if (this.active.size > 0) this.log.warn({ runs: this.active.size }, 'terminating active runs');
    for (const attempt of this.active) attempt.interrupt();
    return this.closed;
  }

  drain(reason = 'agent drained'): Promise<AgentExit> {
    this.stopAccepting('drained');
    const graceMs = this.o.config.checkpointGraceMs ?? DEFAULT_CHECKPOINT_GRACE_MS;
    if (this.active.size > 0) this.log.warn({ runs: this.active.size, graceMs, reason }, 'draining: checkpointing the active runs and handing them back');
    for (const attempt of this.active) attempt.preempt(reason, graceMs);
    return this.closed;
  }

  private stopAccepting(reason: AgentExitReason): void {
    this.exitReason ??= reason;
    if (!this.accepting) return;
    this.accepting = false;
    this.log.info({ reason, active: this.active.size }, 'taking no more runs');
    // Claims still waiting for a run end now; one already holding a run is answered as usual.
    this.claims.abort();
    this.wakeGpuWaiters();
  }

  private wakeGpuWaiters(): void {
    const waiters = this.gpuWaiters;
    this.gpuWaiters = [];
    for (const wake of waiters) wake();
  }

  private releaseGpus(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.pool?.release(ids);
    this.wakeGpuWaiters();
  }

  /**
   * Every free GPU, held for one claim, once at least `gpusPerRun` are free; null when the agent
   * stops taking runs meanwhile. Taken in the same turn as the check, so two slots never hold one GPU.
   */
  private async holdFreeGpus(pool: GpuPool): Promise<string[] | null> {
    while (this.accepting && pool.freeCount < this.gpusPerRun) await new Promise<void>((wake) => this.gpuWaiters.push(wake));
    if (!this.accepting) return null;
    return pool.take(pool.freeCount);
  }

  private async slotLoop(): Promise<void> {
    while (this.accepting) {
      if (this.o.count !== undefined && this.reserved >= this.o.count) return;
      const offered = this.pool ? await this.holdFreeGpus(this.pool) : null;
      if (this.pool && offered === null) return;
      if (this.o.count !== undefined && this.reserved >= this.o.count) {
        this.releaseGpus(offered ?? []);
        return;
      }
      this.reserved++;
      const token = randomUUID();
      let got: { job: RunJob; answer: ClaimAnswer; gpus?: string[] | undefined } | null = null;
      let tooBig: number | undefined;
      try {
        const res = await this.client.claim(
          { agentId: this.agentId, host: this.host, gpu: null, ...(offered ? { gpus: offered } : {}), token },
          this.claims.signal,
        );
        if (res.kind === 'none') {
          this.onSweepState(res.state);
          tooBig = res.gpusPerRun;
        } else got = res;
        this.errors.recovered();
      } catch (err) {
        this.releaseGpus(offered ?? []);
        if (!this.accepting) {
          this.reserved--;
          return;
        }
        if (!retryable(err)) {
          this.log.error({ err }, 'the server refused the claim; stopping');
          this.reserved--;
          this.stopAccepting('stopped');
          return;
        }
        this.errors.report(err);
        await delay(CLAIM_RETRY_MS);
        this.reserved--;
        continue;
      }
      // The run's GPUs (the controller named them: the first it needs of those offered); the rest go back.
      const gpus = got !== null && offered !== null ? (got.gpus ?? offered.slice(0, got.job.gpusPerRun)).filter((g) => offered.includes(g)) : [];
      this.releaseGpus((offered ?? []).filter((g) => !gpus.includes(g)));
      if (tooBig !== undefined && this.pool) this.onTooBig(tooBig, this.pool);
      if (got === null || got.answer.verdict === 'refused') {
        if (got?.answer.verdict === 'refused') this.log.info({ runId: got.job.runId, reason: got.answer.reason }, 'claim refused by the controller; nothing started');
        this.releaseGpus(gpus);
        this.reserved--;
        continue;
      }
      if (this.pool) this.sized(got.job.gpusPerRun, this.pool);
      this.started++;
      if (this.o.count !== undefined && this.started >= this.o.count) this.stopAccepting('count-reached');
      try {
        await this.runOne(got.job, got.answer, token, this.pool ? gpus.join(',') : null);
      } finally {
        this.releaseGpus(gpus);
      }
    }
  }

  /**
   * The queued run needs `n` GPUs, more than were free: with fewer than `n` in all, the agent can
   * never run it and leaves (as a Redis agent does, with the same words); otherwise its slots
   * claim again once `n` are free.
   */
  private onTooBig(n: number, pool: GpuPool): void {
    if (n > pool.size) {
      const detail = tooFewGpus(this.o.sweepId, n, pool);
      this.log.error({ gpusPerRun: n, gpus: pool.ids }, `${detail}; its runs are left queued`);
      this.exitDetail ??= detail;
      this.stopAccepting('too-few-gpus');
      return;
    }
    this.sized(n, pool);
  }

  /** The sweep's runs take `n` GPUs each: say how many run at once when that changes. */
  private sized(n: number, pool: GpuPool): void {
    if (n === this.gpusPerRun) return;
    this.gpusPerRun = n;
    this.log.info({ gpusPerRun: n, runsAtOnce: this.capacity, gpus: pool.ids }, `runs take ${n} GPUs each: ${this.capacity} at once`);
  }

  private async runOne(job: RunJob, answer: ClaimAnswer, token: string, gpu: string | null): Promise<void> {
    const runLog = this.log.child({ runId: job.runId, attempt: answer.verdict === 'accepted' ? answer.attempt : undefined });
    // The controller's answers to the end report come back as the answers to its requests.
    const ends = answerBox<EndAnswer>();
    const transport: RunTransport = {
      // The controller wrote the claim when it handed the run over; the answer came with it.
      send: async (report) => {
        if (report.type === 'claim') return;
        const ack = await this.client.send(report);
        if (report.type === 'end' && ack.answer) ends.put(ack.answer);
      },
      listen: () => Promise.resolve({ next: () => Promise.resolve(answer), close: () => Promise.resolve() }),
      listenEnd: () => Promise.resolve({ next: ends.next, close: () => Promise.resolve() }),
    };
    const attempt: RunAttempt = new RunAttempt({
      job,
      token,
      agentId: this.agentId,
      host: this.host,
      gpu,
      env: this.o.env ?? process.env,
      cwd: this.o.cwd ?? process.cwd(),
      tmpRoot: this.o.tmpRoot ?? tmpdir(),
      ...checkpointOptions(this.o.config),
      transport,
      ...(this.o.launcher ? { launcher: this.o.launcher } : {}),
      claimWaitMs: this.o.config.claimWaitMs,
      guard: this.guard,
      log: runLog,
      echo: this.echoFor(job.number),
      beforeStart: () => this.poll(true),
    });
    this.active.add(attempt);
    try {
      await attempt.run();
      this.ended++;
    } catch (err) {
      runLog.error({ err }, 'the run could not be run; the controller will mark it crashed');
    } finally {
      this.active.delete(attempt);
    }
  }

  private echoFor(runNumber: number): ((line: string) => void) | null {
    if (this.o.quiet) return null;
    const out = this.o.output ?? process.stdout;
    return (line) => void out.write(`[run ${runNumber}] ${line}\n`);
  }

  /** Presence and heartbeat out, controls and sweep state in; the orphan guard's pulse. */
  private async poll(now = false): Promise<void> {
    const tick = Date.now();
    const limit = FROZEN_AFTER_POLLS * this.o.config.controlPollMs;
    if (!now) {
      if (tick - this.lastPollTick > limit) this.pulseAfter = tick;
      this.lastPollTick = tick;
      if (this.pulseAfter === null) this.guard.alive(limit);
    }
    if (this.shutdownPromise) return;
    // The timer's polls never overlap; one asked for `now` (before a run starts) runs beside them.
    if (!now) {
      if (this.polling) return;
      this.polling = true;
    }
    try {
      const live = [...this.active].filter((a) => a.live);
      const heartbeat = tick - this.lastBeat >= this.o.config.heartbeatMs;
      const res = await this.client.poll({
        presence: { agentId: this.agentId, host: this.host, slots: this.capacity, busy: this.active.size, accepting: this.accepting, at: tick },
        runs: live.map((a) => ({ runId: a.runId, token: a.token })),
        heartbeat,
      });
      if (heartbeat) this.lastBeat = tick;
      this.errors.recovered();
      live.forEach((attempt, i) => {
        const control = res.controls[i];
        if (control) attempt.applyControl(control);
      });
      this.onSweepState(res.state);
      if (this.pulseAfter !== null && tick >= this.pulseAfter) {
        this.pulseAfter = null;
        this.guard.alive(limit);
      }
    } catch (err) {
      this.errors.report(err);
    } finally {
      if (!now) this.polling = false;
    }
  }

  private onSweepState(state: SweepState | null): void {
    if (state === 'finished' || state === 'canceled') {
      if (this.accepting) this.log.info({ state }, `sweep ${state}`);
      this.stopAccepting(state === 'finished' ? 'sweep-finished' : 'sweep-canceled');
    }
  }

  private shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      const reason = this.exitReason ?? 'stopped';
      if (this.pollTimer) clearInterval(this.pollTimer);
      await this.client.leave(this.agentId).catch(() => undefined);
      this.client.close();
      await this.guard.close();
      const detail = this.exitDetail !== undefined ? { detail: this.exitDetail } : {};
      this.log.info({ reason, runs: this.ended, ...detail }, 'agent exited');
      this.resolveClosed({ reason, runs: this.ended, ...detail });
    })();
    return this.shutdownPromise;
  }
}

