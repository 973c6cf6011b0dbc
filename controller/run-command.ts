/**
 * The command line of a run as its agent runs it, for the run page: the sweep's `command`
 * rendered with the run's params by the agent's own `renderCommand` (strategies/command), so the
 * page never disagrees with what was spawned. What only the agent's box knows stays a name:
 * `${envvar:NAME}` shows as `$NAME`, `${args_json_file}` as `$HARROW_PARAMS_FILE` (the variable
 * that names that file in the run's environment).
 */
import { renderCommand } from '../strategies/index.js';
import type { Params, SweepSpec } from '../strategies/types.js';

/** `${envvar:NAME}` → `$NAME`: the value is the agent's environment, unknown here. */
const AGENT_ENV: Record<string, string | undefined> = new Proxy({}, { get: (_t, name) => (typeof name === 'string' ? `$${name}` : undefined) });

/** The argv, or null when the sweep's command cannot be rendered here (a function-agent sweep without `program`). */
export function runCommandLine(spec: SweepSpec, params: Params): string[] | null {
  try {
    return renderCommand(spec.command, params, { program: spec.program, env: AGENT_ENV, argsJsonFile: '$HARROW_PARAMS_FILE' });
  } catch {
    return null;
  }
}
