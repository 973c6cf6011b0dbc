import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCommandLine } from '../../../controller/run-command.js';
import { renderCommand } from '../../../strategies/index.js';
import type { SweepSpec } from '../../../strategies/types.js';

const spec = (command: string[], program?: string) => ({ command, ...(program === undefined ? {} : { program }) }) as unknown as SweepSpec;

test("the run's argv is the agent's renderer's, with the agent box's values left as names", () => {
  const s = spec(['${env}', '${interpreter}', '${program}', '${args}', '--data=${envvar:DATA_DIR}', '--config', '${args_json_file}'], 'train.py');
  const params = { lr: 0.001, model: { depth: 3 }, act: 'relu' };
  const argv = runCommandLine(s, params);
  assert.deepEqual(argv, ['/usr/bin/env', 'python', 'train.py', '--act=relu', "--lr=0.001", "--model={'depth': 3}", '--data=$DATA_DIR', '--config', '$HARROW_PARAMS_FILE']);
  // Exactly what the agent spawns when its environment and params file are those names.
  assert.deepEqual(argv, renderCommand(s.command, params, { program: 'train.py', env: { DATA_DIR: '$DATA_DIR' }, argsJsonFile: '$HARROW_PARAMS_FILE' }));
});

test('a sweep for function agents (no program) has no command line to show', () => {
  assert.equal(runCommandLine(spec(['${env}', '${interpreter}', '${program}', '${args}']), { x: 1 }), null);
});
