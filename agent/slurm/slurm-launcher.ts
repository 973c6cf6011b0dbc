/**
 * Runs each attempt as a Slurm batch job (`harrow agent SWEEP --slurm '<sbatch options>'`).
 *
 * The agent stays the run's owner towards the controller: it claims the run, heartbeats for it
 * while Slurm says the job is pending or running, relays stops as `scancel --signal=TERM` and then
 * `scancel` after the grace period, and reports the end from the job's exit state. The job runs a
 * small batch script that `exec`s the rendered command with the run's environment (sbatch
 * --export=ALL); its stdout and stderr go to files in the attempt's directory, which the agent
 * tails for metric lines exactly as it reads a local child's pipes. That directory (TMPDIR, or
 * os.tmpdir()) must be on a file system the compute nodes share with the agent's host.
 *
 * GPUs come from Slurm: put `--gres=gpu:N` in the options and Slurm sets CUDA_VISIBLE_DEVICES in
 * the job; the agent sets none itself.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SECOND } from '../../protocol/time.js';
import { MetricsFileTail } from '../metrics-file-tail.js';
import type { LaunchEnd, LaunchRequest, LaunchedRun, RunLauncher } from '../run-launcher.js';
import { baseJobState, endOfJob, jobHasEnded, parseScontrolJob } from './slurm-job-state.js';

/** How often squeue is asked about the agent's jobs (one call for all of them). */
const DEFAULT_POLL_MS = 1 * SECOND;
/** A Slurm command that hangs (slurmctld unreachable) is given up after this long; the next poll tries again. */
const COMMAND_TIMEOUT_MS = 30 * SECOND;
/** How often the job's output files are read while it is active. */
const OUTPUT_POLL_MS = 200;
/**
 * A job Slurm no longer knows (not in squeue, scontrol nor sacct) this many polls in a row is
 * declared lost: slurmctld may forget ended jobs after MinJobAge when accounting is off.
 */
const VANISHED_AFTER_POLLS = 5;

export interface SlurmLauncherOptions {
  /** The words of `--slurm`, passed to sbatch before Harrow's own options. */
  sbatchOptions: readonly string[];
  /** Environment of the Slurm commands (SLURM_CONF, PATH). */
  env: Record<string, string | undefined>;
  log: Logger;
  pollMs?: number;
}

interface CommandResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** Set when the command could not be run at all (not installed). */
  spawnError?: NodeJS.ErrnoException;
}

export class SlurmLauncher implements RunLauncher {
  readonly name = 'slurm';
  private readonly jobs = new Map<string, SlurmJob>();
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(private readonly o: SlurmLauncherOptions) {
    this.pollMs = o.pollMs ?? DEFAULT_POLL_MS;
  }

  launch(request: LaunchRequest): LaunchedRun {
    const job = new SlurmJob(this, request);
    void job.submit();
    return job;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.jobs.values()].map((j) => j.end));
  }

  /** @internal */
  track(job: SlurmJob): void {
    this.jobs.set(job.jobId!, job);
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
  }

  /** @internal */
  untrack(job: SlurmJob): void {
    if (job.jobId !== null) this.jobs.delete(job.jobId);
    if (this.jobs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** @internal */
  run(command: string, args: readonly string[], env: Record<string, string | undefined> = this.o.env): Promise<CommandResult> {
    return new Promise((resolve) => {
      execFile(command, args, { env, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = (err as NodeJS.ErrnoException | null)?.code;
        if (err && typeof code === 'string') resolve({ ok: false, stdout, stderr, spawnError: err as NodeJS.ErrnoException });
        else resolve({ ok: err === null, stdout, stderr });
      });
    });
  }

  get sbatchOptions(): readonly string[] {
    return this.o.sbatchOptions;
  }

  get log(): Logger {
    return this.o.log;
  }

  /** One squeue for every job; the ended and the unknown ones are then read in detail. */
  private async poll(): Promise<void> {
    if (this.polling || this.jobs.size === 0) return;
    this.polling = true;
    try {
      const ids = [...this.jobs.keys()];
      const q = await this.run('squeue', ['--noheader', '--states=all', `--jobs=${ids.join(',')}`, '--format=%i %T']);
      const states = new Map<string, string>();
      if (q.ok) {
        for (const line of q.stdout.split('\n')) {
          const [id, state] = line.trim().split(/\s+/);
          if (id && state) states.set(id, state);
        }
      }
      await Promise.all(
        ids.map(async (id) => {
          const job = this.jobs.get(id);
          if (!job) return;
          const state = states.get(id);
          if (state !== undefined && !jobHasEnded(state)) job.seen(state);
          // squeue exits non-zero when none of the ids is known any more.
          else await job.readEnd(state === undefined && (q.ok || /invalid job id/i.test(q.stderr)));
        }),
      );
    } catch (err) {
      this.o.log.warn({ err }, 'could not poll Slurm for the state of its jobs; trying again');
    } finally {
      this.polling = false;
    }
  }
}

class SlurmJob implements LaunchedRun {
  readonly end: Promise<LaunchEnd>;
  jobId: string | null = null;
  private resolveEnd!: (end: LaunchEnd) => void;
  private state = 'SUBMITTING';
  private terminateAt: number | null = null;
  private forceTimer: NodeJS.Timeout | null = null;
  private vanishedPolls = 0;
  private done = false;
  private readonly out: MetricsFileTail;
  private readonly err: MetricsFileTail;
  private readonly outPath: string;
  private readonly errPath: string;
  private outputTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(
    private readonly launcher: SlurmLauncher,
    private readonly r: LaunchRequest,
  ) {
    this.end = new Promise((resolve) => (this.resolveEnd = resolve));
    this.outPath = join(r.dir, 'slurm.out');
    this.errPath = join(r.dir, 'slurm.err');
    this.out = new MetricsFileTail(this.outPath, (line) => r.onStdoutLine(line), (err) => this.log.warn({ err }, 'cannot read the job output'));
    this.err = new MetricsFileTail(this.errPath, (line) => r.onStderrLine(line), (err) => this.log.warn({ err }, 'cannot read the job error output'));
    this.log = r.log;
  }

  async submit(): Promise<void> {
    const script = join(this.r.dir, 'job.sh');
    try {
      await writeFile(script, batchScript(this.r.runId, this.r.argv), { mode: 0o755 });
    } catch (err) {
      this.finish({ kind: 'lost', reason: `cannot write the batch script: ${(err as Error).message}` });
      return;
    }
    const args = [
      ...this.launcher.sbatchOptions,
      '--parsable',
      `--job-name=harrow-${this.r.runId}`,
      `--output=${this.outPath}`,
      `--error=${this.errPath}`,
      `--chdir=${this.r.cwd}`,
      // The run's environment, as sbatch sees it at submission: HARROW_*, the agent's own variables.
      '--export=ALL',
      script,
    ];
    const result = await this.launcher.run('sbatch', args, this.r.env);
    if (!result.ok) {
      const why = result.spawnError
        ? result.spawnError.code === 'ENOENT'
          ? 'sbatch not found: install the Slurm client commands on the agent host (Debian: slurm-client) or put them on PATH'
          : `cannot run sbatch: ${result.spawnError.message}`
        : `sbatch refused the job: ${lastLines(result.stderr) || 'no message'} (options: ${this.launcher.sbatchOptions.join(' ') || 'none'})`;
      this.finish({ kind: 'spawn-failed', reason: why });
      return;
    }
    const id = result.stdout.trim().split(';')[0] ?? '';
    if (!/^\d+(_\d+)?$/.test(id)) {
      this.finish({ kind: 'lost', reason: `sbatch answered '${result.stdout.trim().slice(0, 200)}', not a job id` });
      return;
    }
    this.jobId = id;
    this.launcher.track(this);
    this.outputTimer = setInterval(() => this.pollOutput(), OUTPUT_POLL_MS);
    this.log.info({ slurmJobId: id, argv: this.r.argv }, 'run submitted to Slurm');
    if (this.terminateAt !== null) this.sendTerm();
  }

  /** squeue says the job is still active. */
  seen(state: string): void {
    this.vanishedPolls = 0;
    if (state !== this.state) this.log.info({ slurmJobId: this.jobId, state }, 'Slurm job state');
    this.state = state;
  }

  /** squeue no longer lists the job as active: read its end from scontrol, else sacct. */
  async readEnd(missing: boolean): Promise<void> {
    const id = this.jobId!;
    const sc = await this.launcher.run('scontrol', ['show', 'job', '--oneliner', id]);
    if (sc.ok) {
      const f = parseScontrolJob(sc.stdout);
      const state = f.JobState ?? '';
      if (!jobHasEnded(state)) {
        if (state) this.seen(state);
        return;
      }
      this.finish(endOfJob(id, state, f.ExitCode, f.Reason));
      return;
    }
    const sa = await this.launcher.run('sacct', ['--noheader', '--parsable2', '--allocations', `--jobs=${id}`, '--format=State,ExitCode']);
    const [state, exitCode] = sa.ok ? (sa.stdout.trim().split('\n')[0] ?? '').split('|') : [];
    if (state && jobHasEnded(state)) {
      this.finish(endOfJob(id, state, exitCode));
      return;
    }
    if (missing && ++this.vanishedPolls >= VANISHED_AFTER_POLLS) {
      this.finish({ kind: 'lost', reason: `Slurm no longer knows job ${id} (not in squeue, scontrol or sacct)` });
    }
  }

  terminate(graceMs: number): void {
    if (this.terminateAt !== null || this.done) return;
    this.terminateAt = Date.now() + graceMs;
    this.forceTimer = setTimeout(() => void this.cancel(), graceMs);
    if (this.jobId !== null) this.sendTerm();
  }

  private sendTerm(): void {
    if (baseJobState(this.state) === 'PENDING') {
      // Nothing runs yet: nothing to ask nicely.
      void this.cancel();
      return;
    }
    // --full: without it, Slurm signals only job steps, not the batch script that is our command.
    void this.launcher.run('scancel', ['--full', '--signal=TERM', this.jobId!]).then((r) => {
      if (!r.ok && !this.done) this.log.warn({ slurmJobId: this.jobId, stderr: lastLines(r.stderr) }, 'scancel --signal=TERM failed; cancelling the job');
      if (!r.ok) void this.cancel();
    });
  }

  private async cancel(): Promise<void> {
    if (this.done || this.jobId === null) return;
    this.log.info({ slurmJobId: this.jobId }, 'cancelling the Slurm job');
    const r = await this.launcher.run('scancel', [this.jobId]);
    if (!r.ok && !this.done) this.log.warn({ slurmJobId: this.jobId, stderr: lastLines(r.stderr) }, 'scancel failed');
  }

  private pollOutput(): void {
    void this.out.poll();
    void this.err.poll();
  }

  private finish(end: LaunchEnd): void {
    if (this.done) return;
    this.done = true;
    if (this.forceTimer) clearTimeout(this.forceTimer);
    if (this.outputTimer) clearInterval(this.outputTimer);
    this.launcher.untrack(this);
    if (this.jobId !== null) this.log.info({ slurmJobId: this.jobId, end }, 'Slurm job ended');
    // Slurm has written the output files completely once the job has ended (on a shared file
    // system after its attribute cache expires; the final read below picks up what is there).
    void Promise.all([this.out.close(), this.err.close()]).then(() => this.resolveEnd(end));
  }
}

/** The batch script: `exec` the rendered command, so Slurm's signals reach it directly. */
export function batchScript(runId: string, argv: readonly string[]): string {
  return `#!/bin/sh\n# Harrow run ${runId.replace(/[^\w.-]/g, '_')}\nexec ${argv.map(shellQuote).join(' ')}\n`;
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
}
