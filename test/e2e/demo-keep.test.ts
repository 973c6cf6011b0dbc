/**
 * `harrow demo --keep`: after the sweep ends, the server it started stays up, so the dashboard
 * link it printed still answers, until Ctrl-C. (Without --keep the demo closes it at the end.)
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needRedis, REDIS_URL } from '../helpers/services.js';
import { startHarrow, waitFor, type Proc } from '../helpers/processes.js';

// One quick run, so the test waits for the demo's machinery, not for training.
const SWEEP = `name: demo-keep
method: random
metric: {name: loss, goal: minimize}
run_cap: 1
command: [node, -e, "console.log('loss=0.5')"]
parameters:
  x: {min: 0.0, max: 1.0}
`;

describe('harrow demo --keep', await needRedis('the demo test'), () => {
  let dir: string | undefined;
  let proc: Proc | undefined;
  after(async () => {
    if (proc?.child.exitCode === null) proc.child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the dashboard link answers after the sweep ended; Ctrl-C stops the server', { timeout: 120_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'harrow-demo-'));
    const file = join(dir, 'sweep.yaml');
    await writeFile(file, SWEEP);
    proc = startHarrow(['demo', '--keep', '--agents', '1', '--config', file], { REDIS_URL, HARROW_DATA_DIR: join(dir, 'data') });
    const p = proc;
    const link = await waitFor('the dashboard link', () => Promise.resolve(/dashboard: (http:\/\/\S+)/.exec(p.output())?.[1]), 90_000);
    await waitFor('the end of the sweep', () => Promise.resolve(/stays up for the dashboard/.test(p.output())), 90_000);
    assert.match(p.output(), /runs: 1 finished/);
    const page = await fetch(link);
    assert.equal(page.status, 200);
    const sweeps = (await (await fetch(new URL('/api/sweeps', link))).json()) as { sweeps: Array<{ state: string }> };
    assert.deepEqual(sweeps.sweeps.map((s) => s.state), ['finished']);
    p.child.kill('SIGINT');
    assert.equal(await p.exited, 0);
    await assert.rejects(fetch(link), 'the server is closed after Ctrl-C');
  });
});
