/**
 * What the API says about a run's command and its failure: the run detail carries the command line
 * rendered by the agent's renderer and the indices of the tail's error lines; the runs list carries
 * a failed run's last error line, read from the end of its stored tail (the same answer as the
 * whole tail gives), and none for runs that did not fail.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListRunsResponseSchema, RunDetailSchema } from '../../../protocol/api.js';
import { lastErrorLine } from '../../../protocol/output-errors.js';
import { needServices } from '../../helpers/services.js';
import { waitFor } from '../../helpers/processes.js';
import { FakeAgent, createSweep, expectOk, http, newToken, startTestController, waitRun, type TestController } from './controller-harness.js';

const opts = await needServices();

const SWEEP = [
  'name: output-api',
  'method: random',
  'program: train.py',
  'command: [python3, "${program}", "${args}", "--data=${envvar:DATA_DIR}", "--params", "${args_json_file}"]',
  'metric: {name: loss, goal: minimize}',
  'parameters:',
  '  lr: {min: 0.1, max: 0.2}',
  '  opt: {values: [sgd]}',
  '',
].join('\n');

describe('run command line and error lines (Postgres)', { ...opts, timeout: 60_000 }, () => {
  let c: TestController;
  before(async () => {
    c = await startTestController();
  });
  after(async () => {
    await c?.close();
  });

  test('run detail: the rendered command and error line indices; runs list: the failed run\'s error line', async () => {
    const sweep = await createSweep(c.url, SWEEP);
    const agent = new FakeAgent(c.redis, c.keys, sweep.id);
    await agent.advertise(3);
    const runs = await waitFor('3 queued runs', async () => {
      const r = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${sweep.id}/runs?state=queued`));
      return r.total >= 3 ? r.runs.slice(0, 3) : undefined;
    });
    await agent.withdraw();
    const [ok, failed, longFail] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    const traceback = 'epoch 1\nval_error=0.3\nTraceback (most recent call last):\n  File "train.py", line 3\nValueError: lr too high\nbye\n';
    // Longer than the list's window, cut in the middle of a line that names an error.
    const long = `${'RuntimeError: old '.repeat(400)}\n${'step ok\n'.repeat(600)}`;
    for (const [run, outcome, tail] of [[ok, 'finished', 'Error-free\n'], [failed, 'failed', traceback], [longFail, 'failed', long]] as const) {
      const token = newToken();
      await agent.claim(run.id, token);
      await agent.end(run.id, token, outcome, { tail });
      await waitRun(c.url, run.id, outcome, (r) => r.state === outcome);
    }

    const detail = await expectOk(RunDetailSchema, http(c.url, `/api/runs/${failed.id}`));
    const lr = String(failed.params.lr);
    assert.deepEqual(detail.command, ['python3', 'train.py', `--lr=${lr}`, '--opt=sgd', '--data=$DATA_DIR', '--params', '$HARROW_PARAMS_FILE']);
    assert.deepEqual(detail.errorLines, [2, 4]);
    assert.equal(detail.errorLine, 'ValueError: lr too high');

    const list = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${sweep.id}/runs?limit=10`));
    const byId = new Map(list.runs.map((r) => [r.id, r]));
    assert.equal(byId.get(failed.id)?.errorLine, 'ValueError: lr too high');
    assert.equal(byId.get(ok.id)?.errorLine, null, 'a finished run has no error line');
    assert.equal(byId.get(longFail.id)?.errorLine, lastErrorLine(long), 'the list reads the end of the tail and answers as the whole tail does');
    assert.equal(byId.get(longFail.id)?.errorLine, 'step ok');
    const longDetail = await expectOk(RunDetailSchema, http(c.url, `/api/runs/${longFail.id}`));
    assert.equal(longDetail.errorLine, byId.get(longFail.id)?.errorLine);
  });
});
