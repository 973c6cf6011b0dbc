import { constants } from 'node:os';
import type { LaunchEnd } from '../run-launcher.js';

/**
 * Slurm job states (squeue's %T, `scontrol show job`'s JobState, sacct's State) and what each
 * means for a Harrow run. A state not listed is treated as still active: Slurm adds states over
 * versions, and waiting a little longer is safer than ending a run that may still be running.
 */
const ENDED_BY_PROGRAM = new Set(['COMPLETED', 'FAILED', 'OUT_OF_MEMORY']);
/** Ended by Slurm, not by the program: an infrastructure fault, so the run is `crashed` and retried by policy. */
const ENDED_BY_SLURM = new Set(['CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'REVOKED']);

/** `CANCELLED by 0` → `CANCELLED`; `sacct` and `scontrol` may append such details. */
export function baseJobState(state: string): string {
  return state.trim().split(/[\s+]/)[0]?.toUpperCase() ?? '';
}

export function jobHasEnded(state: string): boolean {
  const base = baseJobState(state);
  return ENDED_BY_PROGRAM.has(base) || ENDED_BY_SLURM.has(base);
}

/** Slurm's `ExitCode=2:0` / `0:9`: the exit code, then the number of the signal that killed it. */
export function parseExitCode(text: string | undefined): { code: number | null; signal: NodeJS.Signals | null } {
  const m = /^(\d+):(\d+)$/.exec(text?.trim() ?? '');
  if (!m) return { code: null, signal: null };
  const code = Number(m[1]);
  const signo = Number(m[2]);
  if (signo > 0) {
    const name = Object.entries(constants.signals).find(([, n]) => n === signo)?.[0];
    return { code: null, signal: (name as NodeJS.Signals | undefined) ?? null };
  }
  return { code, signal: null };
}

/** The end of a job Slurm reports as ended, as a run end. */
export function endOfJob(jobId: string, state: string, exitCode: string | undefined, reason?: string): LaunchEnd {
  const base = baseJobState(state);
  const exit = parseExitCode(exitCode);
  if (base === 'COMPLETED') return { kind: 'exited', code: exit.code ?? 0, signal: null };
  if (base === 'FAILED') {
    // FAILED with 0:0 happens when the batch script could not start (its file gone, bad --chdir).
    if (exit.code === 0 && exit.signal === null) return { kind: 'spawn-failed', reason: `Slurm job ${jobId} failed to start${reasonText(reason)}` };
    return { kind: 'exited', code: exit.code, signal: exit.signal };
  }
  if (base === 'OUT_OF_MEMORY') return { kind: 'spawn-failed', reason: `Slurm job ${jobId} ran out of memory (OUT_OF_MEMORY); ask for more with --mem in --slurm` };
  return { kind: 'lost', reason: `Slurm ended job ${jobId} as ${base}${reasonText(reason)}` };
}

function reasonText(reason: string | undefined): string {
  return reason && reason !== 'None' ? ` (${reason})` : '';
}

/** `scontrol show job -o ID`: one line of Key=Value fields. */
export function parseScontrolJob(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  // Values have no spaces except a few free-text ones (Command, WorkDir with spaces); we read only JobState, ExitCode, Reason.
  for (const m of line.matchAll(/(?:^|\s)([A-Za-z/:]+)=(\S*)/g)) fields[m[1]!] = m[2]!;
  return fields;
}
