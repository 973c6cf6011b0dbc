/**
 * GET /api/sweeps/:id/importance over real HTTP, on Postgres: runs driven through the report
 * stream by a stand-in agent; the parameter that drives the metric ranks first; the answer is
 * cached until a run ends; a sweep with too few runs says why.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImportanceResponseSchema } from '../../../protocol/api.js';
import { needServices } from '../../helpers/services.js';
import { FakeAgent, createSweep, expectError, expectOk, finishRuns, http, startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();

const SWEEP = [
  'name: importance',
  'method: random',
  'program: train.py',
  'metric: {name: loss, goal: minimize}',
  'parameters:',
  '  depth: {values: [1, 2, 3, 4, 5, 6, 7, 8]}',
  '  noise_a: {min: 0.0, max: 1.0}',
  '  opt: {parameters: {momentum: {min: 0.0, max: 1.0}}}',
  '',
].join('\n');

describe('parameter importance API (Postgres)', { ...opts, timeout: 60_000 }, () => {
  let c: TestController;
  before(async () => {
    c = await startTestController();
  });
  after(async () => {
    await c?.close();
  });

  const importance = (id: string) => expectOk(ImportanceResponseSchema, http(c.url, `/api/sweeps/${id}/importance`));

  test('the parameter that drives the metric ranks first with an interval clear of the others; cached until a run ends', async () => {
    const s = await createSweep(c.url, SWEEP);
    const agent = new FakeAgent(c.redis, c.keys, s.id);

    const early = await importance(s.id);
    assert.deepEqual(early.parameters, []);
    assert.match(early.note ?? '', /at least 10 runs/);

    await finishRuns(c.url, agent, 40, (p) => Number(p.depth));
    const a = await importance(s.id);
    assert.equal(a.metric, 'loss');
    assert.equal(a.runs, 40);
    assert.deepEqual(a.parameters.map((p) => p.name).sort(), ['depth', 'noise_a', 'opt.momentum']);
    const [top, ...rest] = a.parameters;
    assert.equal(top!.name, 'depth');
    assert.ok(top!.correlation! > 0.9, `depth correlates with loss: ${top!.correlation}`);
    for (const p of rest) assert.ok(p.high < top!.low, `${p.name} [${p.low}, ${p.high}] is below depth's interval`);

    assert.deepEqual(await importance(s.id), a, 'the same answer while no run ends');
    await finishRuns(c.url, agent, 2, (p) => Number(p.depth));
    assert.equal((await importance(s.id)).runs, 42, 'a new finished run is seen at once');
  });

  test('unknown sweep → 404; a sweep without a metric says so', async () => {
    await expectError(http(c.url, '/api/sweeps/nope/importance'), 404, 'SWEEP_NOT_FOUND');
    const s = await createSweep(c.url, ['method: random', 'program: train.py', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n'));
    const r = await importance(s.id);
    assert.deepEqual(r.parameters, []);
    assert.equal(r.metric, null);
    assert.match(r.note ?? '', /no metric/);
  });
});
