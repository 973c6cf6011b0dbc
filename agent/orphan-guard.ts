import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

/**
 * Runs start in their own process group (so Ctrl-C at the agent's terminal is the agent's to
 * interpret), which also means they would outlive an agent killed with SIGKILL, holding a GPU
 * while the controller retries the run elsewhere. This small companion process holds a pipe
 * from the agent and, when the pipe closes for any reason, terminates the groups the agent
 * had registered, then removes the run directories the agent had registered (their params and
 * metrics files). One per agent, not per run, so it costs nothing per run.
 */
export class OrphanGuard {
  private readonly child: ChildProcess | null;
  private broken = false;

  private constructor(private readonly log: Logger) {
    const program = fileURLToPath(new URL('./orphan-guard-process.js', import.meta.url));
    let child: ChildProcess | null = null;
    try {
      // Detached, so that a signal to the agent's whole group (Ctrl-\, a supervisor) spares it.
      child = spawn(process.execPath, [program], { stdio: ['pipe', 'ignore', 'inherit'], detached: true });
      child.on('error', (err) => this.fail(err));
      child.stdin?.on('error', (err) => this.fail(err));
    } catch (err) {
      this.fail(err);
    }
    this.child = child;
  }

  static start(log: Logger): OrphanGuard {
    return new OrphanGuard(log);
  }

  /** Registers a run's group: it is terminated (SIGKILL after `graceMs`) if the agent dies. */
  watch(pgid: number, graceMs: number): void {
    this.write(`add ${pgid} ${graceMs}\n`);
  }

  unwatch(pgid: number): void {
    this.write(`del ${pgid}\n`);
  }

  /**
   * The agent's pulse: should the next one be more than `limitMs` away (the agent frozen), the
   * guard freezes the run groups until it comes (see orphan-guard-process.ts).
   */
  alive(limitMs: number): void {
    this.write(`alive ${Math.round(limitMs)}\n`);
  }

  /** Registers a run's directory: removed (after the groups are gone) if the agent dies. */
  watchDir(path: string): void {
    this.write(`dir+ ${encodeURIComponent(path)}\n`);
  }

  unwatchDir(path: string): void {
    this.write(`dir- ${encodeURIComponent(path)}\n`);
  }

  /** Ends the guard; groups still registered are terminated by it, so unwatch them first. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    await exited;
  }

  private write(line: string): void {
    if (this.broken || !this.child?.stdin?.writable) return;
    this.child.stdin.write(line);
  }

  private fail(err: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.log.warn(
      { err },
      'orphan guard unavailable: runs will still be stopped on Ctrl-C, but would outlive an agent killed with SIGKILL',
    );
  }
}
