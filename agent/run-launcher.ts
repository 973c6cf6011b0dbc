import type { Logger } from 'pino';

/**
 * Where a run's command executes when it is not a child process of the agent: a batch scheduler
 * (Slurm, see agent/slurm/). RunAttempt keeps everything else (claim, fencing, heartbeats,
 * metrics, the end report); a launcher only starts the command, streams its output back, stops it
 * on request and says how it ended. Without a launcher the agent spawns the command itself.
 */
export interface RunLauncher {
  /** For log lines: `slurm`. */
  readonly name: string;
  launch(request: LaunchRequest): LaunchedRun;
  /** Stops polling; jobs still live are the caller's to terminate first. */
  close(): Promise<void>;
}

export interface LaunchRequest {
  sweepId: string;
  runId: string;
  /** The rendered command. */
  argv: readonly string[];
  /** The run's full environment (HARROW_* included). */
  env: Record<string, string | undefined>;
  cwd: string;
  /** The attempt's own directory (it holds the params and metrics files); removed after the end. */
  dir: string;
  log: Logger;
  /** Each complete line the command writes to stdout (metric lines among them), in order. */
  onStdoutLine(line: string): void;
  onStderrLine(line: string): void;
}

/** How a launched command ended. */
export type LaunchEnd =
  /** Never started because of the run itself (the scheduler refused the job): `failed`. */
  | { kind: 'spawn-failed'; reason: string }
  /** The command ran and exited (code) or died of a signal. */
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  /** The scheduler ended it (node failure, time limit, canceled by an admin): `crashed`, retried by policy. */
  | { kind: 'lost'; reason: string };

export interface LaunchedRun {
  /** Settles once the command has ended and its output has been read to the end; never rejects. */
  readonly end: Promise<LaunchEnd>;
  /** Asks the command to stop (SIGTERM), and forces it after graceMs. Idempotent. */
  terminate(graceMs: number): void;
}
