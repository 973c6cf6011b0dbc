/**
 * One attempt of one run on this agent: claim it, wait until the controller has committed the
 * claim, start the training command in its own process group, read its metrics, obey the
 * controller's stop/cancel/abort, and report how it ended.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Params } from '../strategies/types.js';
import { renderArgsJson, renderCommand } from '../strategies/index.js';
import { SECOND } from '../protocol/time.js';
import type { ControlMessage, EndAnswer, EndReport, MetricPoint, RunJob, RunOutcome } from '../protocol/wire.js';
import { WIRE_VERSION } from '../protocol/wire.js';
import { LineSplitter } from './line-splitter.js';
import { parseMetricLine, type ParsedMetrics } from './metric-line.js';
import { MetricsFileTail } from './metrics-file-tail.js';
import type { OrphanGuard } from './orphan-guard.js';
import { OutputTail } from './output-tail.js';
import { groupAlive, signalGroup } from './process-group.js';
import type { AnswerListener, ClaimListener } from './claim-answers.js';
import type { RunTransport } from './run-transport.js';
import type { LaunchedRun, RunLauncher } from './run-launcher.js';
import { METRICS_MAX_BATCH, RunMetrics } from './run-metrics.js';
import { runPythonPath } from './python-path.js';

/** How often the metrics file is read while the run is active. */
const METRICS_FILE_POLL_MS = 100;
/** How often a group being terminated is checked for survivors. */
const GROUP_POLL_MS = 50;
/** After the group is gone, how long to wait for pipes held by a process that left the group. */
const STDIO_CLOSE_WAIT_MS = 1 * SECOND;
/**
 * An unanswered claim is sent again this often: the answer (or the claim itself) may have been
 * lost to a Redis restart or flush, or to a controller killed between its commit and its answer.
 * The controller answers a repeated claim like the first, so this only costs a stream entry.
 */
export const CLAIM_RESEND_MS = 3 * SECOND;
/**
 * An end report unanswered this long is sent again (Redis may have lost it, or the answer); after
 * END_ANSWER_WAIT_MS in all the agent goes on and forgets the run's points. The controller answers
 * within a few seconds (it waits at most 5 s for missing points), unless it is down: then the end
 * report waits in the stream, and the points it might ask for are gone with this wait.
 */
export const END_RESEND_MS = 3 * SECOND;
export const END_ANSWER_WAIT_MS = 20 * SECOND;

export interface RunAttemptOptions {
  job: RunJob;
  agentId: string;
  host: string;
  /** The slot's GPU (CUDA_VISIBLE_DEVICES) when the agent was given GPUs. */
  gpu: string | null;
  /** The agent's environment: renders `${envvar:X}` and is the base of the run's environment. */
  env: Record<string, string | undefined>;
  cwd: string;
  /** Where the per-run directory (params and metrics files) is made. */
  tmpRoot: string;
  /** Runs the command elsewhere (a Slurm job) instead of as a child process of the agent. */
  launcher?: RunLauncher;
  /**
   * Root of the checkpoint directories: the run gets `<root>/<sweep>/<run>` (HARROW_CHECKPOINT_DIR),
   * the same for every attempt, kept after the run. Default: no HARROW_CHECKPOINT_DIR.
   */
  checkpointRoot?: string;
  /** HARROW_CHECKPOINT_GRACE_MS in the run's environment: its time between SIGUSR1 and the stop on a drain. */
  checkpointGraceMs?: number;
  /** Where reports go and claim answers come from (Redis or HTTP). */
  transport: RunTransport;
  /** The attempt's fencing token; by default a fresh one (the HTTP agent made it before the claim). */
  token?: string;
  /** How long an unanswered claim waits (the controller may be restarting) before the job is given back. */
  claimWaitMs: number;
  guard: OrphanGuard;
  log: Logger;
  /** Echo of the run's output lines (already prefixed with the run number), or null (--quiet). */
  echo: ((line: string) => void) | null;
  /** Called once the claim is sent: the agent checks controls right away and starts heartbeats. */
  onClaimed?: (attempt: RunAttempt) => void;
  /**
   * Called once the claim is accepted, just before the command starts: reads this run's control
   * key, so an agent that was frozen past its crash timeout sees its abort before it starts.
   */
  beforeStart?: (attempt: RunAttempt) => Promise<void>;
  now?: () => number;
}

/** What ended the attempt, as reported; null when it was aborted (nothing is reported). */
export type AttemptResult = { outcome: RunOutcome; reason: string; exitCode: number | null; signal: string | null } | null;

type StopRequest =
  | { kind: 'stop' | 'cancel'; reason: string }
  | { kind: 'abort'; reason: string }
  | { kind: 'interrupt'; reason: string }
  | { kind: 'preempt'; reason: string };

type ProcessEnd =
  | { kind: 'not-started'; reason: string }
  | { kind: 'spawn-failed'; reason: string }
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  /** The launcher's scheduler ended it (Slurm: node failure, time limit, scancel by someone else). */
  | { kind: 'lost'; reason: string };

export class RunAttempt {
  readonly token: string;
  readonly runId: string;
  /** The attempt number Postgres gave this claim (HARROW_ATTEMPT); 0 until it is accepted. */
  attempt = 0;
  private claimed = false;
  /** Wakes a claim waiting for its answer when a control arrives. */
  private wakeClaim: (() => void) | null = null;
  private stopRequest: StopRequest | null = null;
  private pid: number | null = null;
  /** The command, when a launcher runs it. */
  private launched: LaunchedRun | null = null;
  private exited = false;
  private killDeadline: number | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private readonly warned = new Set<string>();
  private readonly tail = new OutputTail();
  private readonly metrics: RunMetrics;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly o: RunAttemptOptions) {
    this.runId = o.job.runId;
    this.token = o.token ?? randomUUID();
    this.now = o.now ?? Date.now;
    this.log = o.log.child({ token: this.token });
    this.metrics = new RunMetrics({
      send: (points) => this.sendPoints(points, false),
      onError: (err) => this.log.error({ err }, 'could not send a batch of metrics; they are sent again if the controller asks for them at the end of the run'),
      now: this.now,
    });
  }

  /** Claimed and not aborted: listed in heartbeats, polled for controls. */
  get live(): boolean {
    return this.claimed && this.stopRequest?.kind !== 'abort';
  }

  /**
   * Runs the attempt to its end and reports it. Rejects (with ClaimError) only when the claim
   * could not be sent: then nothing was started and the job can go back to the queue.
   */
  async run(): Promise<AttemptResult> {
    let verdict: 'accepted' | 'refused' | 'stopped';
    let listener: ClaimListener;
    try {
      listener = await this.o.transport.listen(this.runId, this.token);
    } catch (err) {
      throw new ClaimError(`could not listen for the answer to the claim of run ${this.runId}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      try {
        await this.sendClaim();
      } catch (err) {
        throw new ClaimError(`could not send the claim of run ${this.runId}: ${errorMessage(err)}`, { cause: err });
      }
      this.claimed = true;
      this.log.debug({ gpu: this.o.gpu ?? undefined }, 'claim sent; waiting for the controller to accept it');
      this.o.onClaimed?.(this);
      verdict = await this.awaitAnswer(listener);
    } finally {
      await listener.close();
    }
    if (verdict === 'refused') return null;
    try {
      if (verdict === 'accepted') await this.o.beforeStart?.(this);
      if (this.stopRequest?.kind === 'abort') {
        this.log.info({ reason: this.stopRequest.reason }, 'run aborted before it started; nothing reported');
        return null;
      }
      return await this.runClaimed();
    } catch (err) {
      // An agent-side fault (disk full, temp dir gone): an infrastructure problem, not the
      // program's. No end report: the run drops out of our heartbeats, so the controller marks
      // it crashed and retries it under the sweep's policy.
      this.log.error({ err }, 'agent error while running the run; leaving it to the controller to mark crashed');
      this.metrics.discard();
      this.stopRequest ??= { kind: 'abort', reason: 'agent error' };
      if (this.started && !this.exited) this.beginKill();
      return null;
    }
  }

  /**
   * Waits for the controller's answer, sending the claim again every CLAIM_RESEND_MS. Nothing
   * runs before `accepted`: Postgres accepts only the first claim of a queued run, so a second
   * claimant of the same run (its job enqueued again) is refused and never starts. A stop or
   * cancel while waiting ends the wait (the run then reports its end without starting); an
   * answer that never comes within claimWaitMs gives the job back (ClaimError).
   */
  private async awaitAnswer(listener: ClaimListener): Promise<'accepted' | 'refused' | 'stopped'> {
    const since = this.now();
    for (;;) {
      const interrupt = new Promise<void>((resolve) => (this.wakeClaim = resolve));
      const left = since + this.o.claimWaitMs - this.now();
      const answer = this.stopRequest ? null : await listener.next(Math.min(CLAIM_RESEND_MS, Math.max(0, left)), interrupt);
      this.wakeClaim = null;
      if (answer?.verdict === 'accepted') {
        this.attempt = answer.attempt;
        this.log.info({ gpu: this.o.gpu ?? undefined, attempt: answer.attempt, waitedMs: this.now() - since }, 'run claimed');
        return 'accepted';
      }
      if (answer?.verdict === 'refused') {
        this.log.info({ reason: answer.reason }, 'claim refused by the controller: another attempt owns the run; nothing started');
        this.stopRequest = { kind: 'abort', reason: answer.reason };
        return 'refused';
      }
      if (this.stopRequest) {
        if (this.stopRequest.kind === 'abort') return 'refused';
        return 'stopped';
      }
      if (this.now() - since >= this.o.claimWaitMs) {
        this.stopRequest = { kind: 'abort', reason: 'claim unanswered' };
        throw new ClaimError(
          `the controller did not answer the claim of run ${this.runId} within ${this.o.claimWaitMs} ms (is it running?); nothing was started`,
        );
      }
      this.log.debug({ waitedMs: this.now() - since }, 'claim not answered yet; sending it again');
      try {
        await this.sendClaim();
      } catch (err) {
        this.log.warn({ err }, 'could not send the claim again');
      }
    }
  }

  private sendClaim(): Promise<unknown> {
    const { job } = this.o;
    return this.o.transport.send({
      v: WIRE_VERSION,
      type: 'claim',
      sweepId: job.sweepId,
      agentId: this.o.agentId,
      runId: this.runId,
      token: this.token,
      host: this.o.host,
      gpu: this.o.gpu,
      pid: null,
      at: this.now(),
    });
  }

  private async runClaimed(): Promise<AttemptResult> {
    const { job } = this.o;
    const dir = await mkdtemp(join(this.o.tmpRoot, `harrow-${safeName(job.runId)}-`));
    this.o.guard.watchDir(dir);
    let end: ProcessEnd;
    try {
      const paramsFile = join(dir, 'params.json');
      const metricsFile = join(dir, 'metrics.jsonl');
      await Promise.all([
        // The same text as `${args_json}` (Python's json.dumps), so `${args_json_file}` matches W&B.
        writeFile(paramsFile, `${renderArgsJson(job.params as Params)}\n`),
        writeFile(metricsFile, ''),
      ]);
      end = await this.execute(paramsFile, metricsFile);
      await this.metrics.flush();
    } finally {
      await rm(dir, { recursive: true, force: true }).then(
        () => this.o.guard.unwatchDir(dir),
        (err: unknown) => this.log.warn({ err, dir }, 'could not remove the run directory'),
      );
    }

    if (this.stopRequest?.kind === 'abort') {
      this.log.info({ reason: this.stopRequest.reason }, 'run aborted: another attempt owns it; nothing reported');
      return null;
    }
    const result = this.outcome(end);
    const report: EndReport = {
      v: WIRE_VERSION,
      type: 'end',
      sweepId: job.sweepId,
      agentId: this.o.agentId,
      runId: this.runId,
      token: this.token,
      outcome: result.outcome,
      exitCode: result.exitCode,
      signal: result.signal,
      reason: result.reason,
      tail: this.tail.text(),
      // Every point numbered, sent or not: one whose batch could not be sent is lost too, and the
      // controller's check of this number against what it stored must see it.
      lastSeq: this.metrics.count,
      at: this.now(),
    };
    await this.deliverEnd(report);
    const level = result.outcome === 'finished' ? 'info' : 'warn';
    this.log[level]({ outcome: result.outcome, reason: result.reason, points: this.metrics.count }, 'run ended');
    return result;
  }

  private async sendPoints(points: MetricPoint[], resent: boolean): Promise<void> {
    await this.o.transport.send({
      v: WIRE_VERSION,
      type: 'metrics',
      sweepId: this.o.job.sweepId,
      agentId: this.o.agentId,
      runId: this.runId,
      token: this.token,
      points,
      ...(resent ? { resent: true } : {}),
    });
  }

  /**
   * Sends the end report and waits for the controller's answer: `resend` names points it never got
   * (Redis lost them), which are sent again from those kept, then the end report again; `ended`
   * means the end is committed, and the kept points are forgotten. Unanswered, the end report is
   * sent again every END_RESEND_MS, until END_ANSWER_WAIT_MS.
   */
  private async deliverEnd(report: EndReport): Promise<void> {
    let listener: AnswerListener<EndAnswer> | null = null;
    try {
      listener = await this.o.transport.listenEnd(this.runId, this.token);
    } catch (err) {
      this.log.warn({ err }, 'cannot listen for the answer to the end of the run; points lost on the way cannot be sent again');
    }
    const since = this.now();
    // An agent that is being terminated (Ctrl-C twice) waits for one answer at most.
    const patience = this.stopRequest?.kind === 'interrupt' ? END_RESEND_MS : END_ANSWER_WAIT_MS;
    try {
      for (;;) {
        try {
          await this.o.transport.send({ ...report, at: this.now() });
        } catch (err) {
          this.log.error({ err }, 'could not send the end of the run; the controller will find it by its missing heartbeat');
          return;
        }
        if (listener === null) return;
        const left = since + patience - this.now();
        const answer = left > 0 ? await listener.next(Math.min(END_RESEND_MS, left)) : null;
        if (answer?.kind === 'ended') {
          if (answer.missing > 0) this.log.warn({ missing: answer.missing, lastSeq: report.lastSeq }, 'the controller recorded metric points of this run as lost');
          return;
        }
        if (answer?.kind === 'resend') {
          const { points, unavailable } = this.metrics.pointsIn(answer.ranges);
          this.log.warn({ resent: points.length, unavailable }, 'the controller never got some metric points (Redis lost them?); sending them again');
          for (let i = 0; i < points.length; i += METRICS_MAX_BATCH) await this.sendPoints(points.slice(i, i + METRICS_MAX_BATCH), true);
          continue;
        }
        if (this.now() - since >= patience) {
          this.log.warn({ waitedMs: this.now() - since }, 'the controller did not answer the end of the run (is it running?); its metric points are no longer kept for sending again');
          return;
        }
      }
    } catch (err) {
      this.log.error({ err }, 'could not send metric points again; the controller records them as lost');
    } finally {
      this.metrics.forget();
      await listener?.close();
    }
  }

  /**
   * A control message for this run. Applies once; `token`, when set, must be this attempt's.
   * Returns whether it applied.
   */
  applyControl(message: ControlMessage): boolean {
    if (message.token !== undefined && message.token !== this.token) return false;
    if (this.stopRequest !== null || this.exited) return false;
    this.log.info({ action: message.action, reason: message.reason }, 'control received');
    this.wakeClaim?.();
    switch (message.action) {
      case 'stop':
        this.requestStop({ kind: 'stop', reason: message.reason });
        return true;
      case 'cancel':
        this.requestStop({ kind: 'cancel', reason: message.reason });
        return true;
      case 'abort':
        this.metrics.discard();
        this.requestStop({ kind: 'abort', reason: message.reason });
        return true;
    }
  }

  /**
   * The agent drains (SIGUSR2, or a spot box's SIGTERM with --preemptible): SIGUSR1 to the run's
   * group ("checkpoint now"), SIGTERM after `graceMs` if it is still running (SIGKILL after the
   * job's kill grace). Whatever its exit, the attempt ends `preempted`: the controller queues a new
   * attempt that resumes from the checkpoint, and it is not counted as a failure.
   */
  preempt(reason: string, graceMs: number): void {
    if (this.stopRequest !== null || this.exited) return;
    this.stopRequest = { kind: 'preempt', reason };
    this.wakeClaim?.();
    if (this.pid === null) return;
    const pid = this.pid;
    this.log.info({ graceMs }, 'checkpoint requested (SIGUSR1) before handing the run back');
    signalGroup(pid, 'SIGUSR1');
    this.checkpointTimer = setTimeout(() => {
      if (this.exited) return;
      this.log.info({ graceMs }, 'checkpoint grace over; stopping the run');
      this.beginKill();
    }, graceMs);
  }

  /** The agent is terminating (second Ctrl-C): end the run as `stopped`. */
  interrupt(): void {
    if (this.stopRequest?.kind === 'preempt' && !this.exited) {
      // Ctrl-C during a drain: no more waiting for the checkpoint; still handed back, not stopped.
      this.beginKill();
      return;
    }
    if (this.stopRequest !== null || this.exited) return;
    this.requestStop({ kind: 'interrupt', reason: 'agent interrupted' });
    this.wakeClaim?.();
  }

  private requestStop(request: StopRequest): void {
    this.stopRequest = request;
    if (this.started && !this.exited) this.beginKill();
  }

  /** A process (or a launcher's job) was started for this attempt. */
  private get started(): boolean {
    return this.pid !== null || this.launched !== null;
  }

  /** SIGTERM to the group now, SIGKILL when the grace runs out. */
  private beginKill(): void {
    if (this.launched !== null) {
      this.launched.terminate(this.o.job.killGraceMs);
      return;
    }
    if (this.pid === null || this.killDeadline !== null) return;
    const pid = this.pid;
    this.killDeadline = this.now() + this.o.job.killGraceMs;
    signalGroup(pid, 'SIGTERM');
    this.killTimer = setTimeout(() => {
      this.log.warn({ graceMs: this.o.job.killGraceMs }, 'run did not stop after SIGTERM; sending SIGKILL');
      signalGroup(pid, 'SIGKILL');
    }, this.o.job.killGraceMs);
  }

  private async execute(paramsFile: string, metricsFile: string): Promise<ProcessEnd> {
    const { job } = this.o;
    if (this.stopRequest) return { kind: 'not-started', reason: this.stopRequest.reason };
    let argv: string[];
    try {
      argv = renderCommand(job.command, job.params as Params, {
        program: job.program,
        env: this.o.env,
        argsJsonFile: paramsFile,
      });
    } catch (err) {
      return { kind: 'spawn-failed', reason: `cannot render the command: ${errorMessage(err)}` };
    }
    const [file, ...args] = argv;
    if (file === undefined || file === '') {
      return { kind: 'spawn-failed', reason: `the command renders to nothing (template ${JSON.stringify(job.command)})` };
    }
    const env: Record<string, string | undefined> = {
      // Python block-buffers a piped stdout; unbuffered, its metric lines arrive as they are printed.
      PYTHONUNBUFFERED: '1',
      ...this.o.env,
      PYTHONPATH: runPythonPath(this.o.env),
      HARROW_SWEEP_ID: job.sweepId,
      HARROW_RUN_ID: job.runId,
      // 1 for the first attempt, 2 for the first retry...: a program can tell a retry (resume
      // from its checkpoint) from a fresh start.
      HARROW_ATTEMPT: String(this.attempt),
      HARROW_PARAMS_FILE: paramsFile,
      HARROW_METRICS_FILE: metricsFile,
    };
    if (this.o.checkpointRoot !== undefined) {
      // The same directory for every attempt of the run, on whichever box: a retry resumes from it.
      const checkpointDir = join(this.o.checkpointRoot, safeName(job.sweepId), safeName(job.runId));
      try {
        await mkdir(checkpointDir, { recursive: true });
      } catch (err) {
        return { kind: 'spawn-failed', reason: `cannot make the checkpoint directory ${checkpointDir}: ${errorMessage(err)}; fix HARROW_CHECKPOINT_ROOT` };
      }
      env.HARROW_CHECKPOINT_DIR = checkpointDir;
      env.HARROW_CHECKPOINT_GRACE_MS = String(this.o.checkpointGraceMs ?? 0);
    }
    if (this.o.gpu !== null) env.CUDA_VISIBLE_DEVICES = this.o.gpu;
    if (this.o.launcher) return this.executeLaunched(this.o.launcher, argv, env, dirname(paramsFile), metricsFile);

    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: this.o.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      return { kind: 'spawn-failed', reason: spawnFailure(file, err, this.o.cwd) };
    }
    const exit = new Promise<ProcessEnd>((resolve) => {
      child.on('error', (err) => {
        // After a successful start, 'error' only means a signal could not be delivered.
        if (child.pid === undefined) resolve({ kind: 'spawn-failed', reason: spawnFailure(file, err, this.o.cwd) });
        else this.log.warn({ err }, 'error from the run process');
      });
      child.once('exit', (code, signal) => resolve({ kind: 'exited', code, signal }));
    });
    const stdioClosed = new Promise<void>((resolve) => child.once('close', () => resolve()));

    const fileTail = new MetricsFileTail(
      metricsFile,
      (line) => this.onMetricsFileLine(line),
      (err) => this.warnOnce('metrics-file', { err }, 'cannot read the metrics file'),
    );
    const outLines = new LineSplitter();
    const errLines = new LineSplitter();
    child.stdout!.on('data', (chunk: Buffer) => {
      this.tail.append(chunk);
      for (const line of outLines.push(chunk)) this.onStdoutLine(line);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.tail.append(chunk);
      for (const line of errLines.push(chunk)) this.o.echo?.(line);
    });

    if (child.pid === undefined) {
      const failed = await exit;
      await fileTail.close();
      return failed;
    }
    const pid = child.pid;
    this.pid = pid;
    this.o.guard.watch(pid, job.killGraceMs);
    this.log.info({ pid, argv }, 'run started');
    const poller = setInterval(() => void fileTail.poll(), METRICS_FILE_POLL_MS);
    if (this.stopRequest) this.beginKill();

    const end = await exit;
    this.exited = true;
    clearInterval(poller);
    // Whatever the leader left behind in its group goes too: no orphans.
    await this.reapGroup(pid);
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    if (this.checkpointTimer !== null) clearTimeout(this.checkpointTimer);
    this.o.guard.unwatch(pid);
    await Promise.race([stdioClosed, delay(STDIO_CLOSE_WAIT_MS)]);
    child.stdout!.destroy();
    child.stderr!.destroy();
    for (const line of outLines.end()) this.onStdoutLine(line);
    for (const line of errLines.end()) this.o.echo?.(line);
    await fileTail.close();
    return end;
  }

  /** The command runs where the launcher puts it (a Slurm job); its output arrives as lines. */
  private async executeLaunched(
    launcher: RunLauncher,
    argv: string[],
    env: Record<string, string | undefined>,
    dir: string,
    metricsFile: string,
  ): Promise<ProcessEnd> {
    const fileTail = new MetricsFileTail(
      metricsFile,
      (line) => this.onMetricsFileLine(line),
      (err) => this.warnOnce('metrics-file', { err }, 'cannot read the metrics file'),
    );
    const launched = launcher.launch({
      sweepId: this.o.job.sweepId,
      runId: this.runId,
      argv,
      env,
      cwd: this.o.cwd,
      dir,
      log: this.log,
      onStdoutLine: (line) => {
        this.tail.append(Buffer.from(`${line}\n`));
        this.onStdoutLine(line);
      },
      onStderrLine: (line) => {
        this.tail.append(Buffer.from(`${line}\n`));
        this.o.echo?.(line);
      },
    });
    this.launched = launched;
    const poller = setInterval(() => void fileTail.poll(), METRICS_FILE_POLL_MS);
    if (this.stopRequest) this.beginKill();
    const end = await launched.end;
    this.exited = true;
    clearInterval(poller);
    await fileTail.close();
    return end;
  }

  /** Terminates what is left of the group, waiting until the kill deadline before SIGKILL. */
  private async reapGroup(pid: number): Promise<void> {
    if (!groupAlive(pid)) return;
    if (this.killDeadline === null) {
      this.log.info('the run left processes behind in its group; terminating them');
      this.killDeadline = this.now() + this.o.job.killGraceMs;
      signalGroup(pid, 'SIGTERM');
    }
    while (groupAlive(pid) && this.now() < this.killDeadline) await delay(GROUP_POLL_MS);
    if (!groupAlive(pid)) return;
    signalGroup(pid, 'SIGKILL');
    const until = this.now() + 5 * SECOND;
    while (groupAlive(pid) && this.now() < until) await delay(GROUP_POLL_MS);
  }

  private onStdoutLine(line: string): void {
    this.o.echo?.(line);
    const parsed = parseMetricLine(line);
    if (parsed) this.addMetrics(parsed, 'stdout');
  }

  private onMetricsFileLine(line: string): void {
    const parsed = parseMetricLine(line);
    if (parsed) this.addMetrics(parsed, 'metrics file');
    else if (line.trim() !== '') {
      this.warnOnce('file-line', { line: line.slice(0, 200) }, 'ignored a line of the metrics file that holds no metrics');
    }
  }

  private addMetrics(parsed: ParsedMetrics, source: string): void {
    for (const w of parsed.warnings) this.warnOnce(w, { source }, w);
    if (parsed.values.length > 0 && this.stopRequest?.kind !== 'abort') this.metrics.add(parsed);
  }

  private warnOnce(key: string, fields: object, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(fields, message);
  }

  private outcome(end: ProcessEnd): NonNullable<AttemptResult> {
    if (end.kind === 'spawn-failed') return { outcome: 'failed', reason: end.reason, exitCode: null, signal: null };
    const exitCode = end.kind === 'exited' ? end.code : null;
    const signal = end.kind === 'exited' ? end.signal : null;
    const stop = this.stopRequest;
    if (stop !== null) {
      switch (stop.kind) {
        case 'stop':
          return { outcome: 'stopped', reason: `stopped by controller: ${stop.reason}`, exitCode, signal };
        case 'cancel':
          return { outcome: 'canceled', reason: `canceled: ${stop.reason}`, exitCode, signal };
        case 'interrupt':
        case 'abort':
          return { outcome: 'stopped', reason: stop.reason, exitCode, signal };
        case 'preempt':
          return { outcome: 'preempted', reason: `preempted: ${stop.reason}`, exitCode, signal };
      }
    }
    if (end.kind === 'not-started') return { outcome: 'failed', reason: end.reason, exitCode: null, signal: null };
    // Not the program's fault: the run is crashed, and retried as the sweep's retry policy says.
    if (end.kind === 'lost') return { outcome: 'crashed', reason: end.reason, exitCode: null, signal: null };
    if (exitCode === 0) return { outcome: 'finished', reason: 'exit code 0', exitCode, signal };
    if (exitCode !== null) return { outcome: 'failed', reason: `exit code ${exitCode}`, exitCode, signal };
    const hint = signal === 'SIGKILL' ? ' (not sent by Harrow; often the out-of-memory killer)' : '';
    return { outcome: 'failed', reason: `killed by ${signal ?? 'an unknown signal'}${hint}`, exitCode, signal };
  }
}

/** The claim never reached Redis: the run was not started and is not ours. */
export class ClaimError extends Error {
  override readonly name = 'ClaimError';
}

function spawnFailure(file: string, err: unknown, cwd: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `command not found: ${file} (not on PATH, or no such file relative to ${cwd}); install it on this box or fix the sweep's command`;
    case 'EACCES':
      return `permission denied: ${file} is not executable; chmod +x it or run it through its interpreter`;
    default:
      return `cannot start ${file}: ${errorMessage(err)}`;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
