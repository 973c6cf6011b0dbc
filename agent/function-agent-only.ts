import type { RunJob } from '../protocol/wire.js';

/**
 * Why a command agent cannot run this sweep's runs, or null when it can: a sweep file without
 * `program` whose command needs it is meant for W&B's function agent (train() called in the
 * agent's own Python process), which the controller accepts with a warning.
 */
export function functionAgentOnly(job: Pick<RunJob, 'sweepId' | 'program' | 'command'>): string | null {
  if (job.program !== undefined || !job.command.some((el) => el.includes('${program}'))) return null;
  return (
    `sweep ${job.sweepId} has no program, so only a function agent can run it: in Python, ` +
    `harrow.agent("${job.sweepId}", function=train) (or wandb.agent(..., function=train) with the wandb module), ` +
    'with HARROW_URL set; or add program: train.py to the sweep file and create it again'
  );
}
