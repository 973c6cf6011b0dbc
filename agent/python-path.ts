/**
 * The PYTHONPATH a run gets: Harrow's `wandb` module (sdk/python/wandb_shim) first, so a script
 * written for W&B runs unchanged under `harrow agent` and sends nothing to W&B. Being first, it
 * also shadows a real `wandb` installed in the run's environment, on purpose: under a W&B agent the
 * script's `wandb.init()` takes the sweep's parameters, and only this module knows where Harrow
 * keeps them. `HARROW_WANDB_SHIM=0` in the agent's environment leaves PYTHONPATH alone (the real
 * package, if any, is imported and behaves as outside a sweep).
 */
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';

/** From dist/agent/ (the CLI runs compiled code), two levels up is the package root. */
export const WANDB_SHIM_DIR = fileURLToPath(new URL('../../sdk/python/wandb_shim', import.meta.url));

export function runPythonPath(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.HARROW_WANDB_SHIM === '0') return env.PYTHONPATH;
  return env.PYTHONPATH ? `${WANDB_SHIM_DIR}${delimiter}${env.PYTHONPATH}` : WANDB_SHIM_DIR;
}
