/**
 * The analysis routes over real HTTP, on Postgres, with runs driven through the report stream by a
 * stand-in agent. /importance: the parameter that drives the metric ranks first; the answer is
 * cached until a run ends; a sweep with too few runs says why. /curves: many runs' curves of one
 * metric in one request, current attempt only, thinned to a bound.
 */
import { after, before, describe, test } from 'node:test';
import { get, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { BestResponseSchema, CurvesResponseSchema, ImportanceResponseSchema, ListRunsResponseSchema, RecommendationResponseSchema } from '../../../protocol/api.js';
import { needServices } from '../../helpers/services.js';
import { FakeAgent, createSweep, expectError, expectOk, finishRuns, http, newToken, startTestController, waitRun, type TestController } from './controller-harness.js';

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

describe('analysis API: importance and curves (Postgres)', { ...opts, timeout: 60_000 }, () => {
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

  test('recommendation: the best posterior mean among finished runs beside the best observed; too few runs fall back with a reason', async () => {
    const yaml = ['name: noisy', 'method: random', 'program: train.py', 'metric: {name: loss, goal: minimize}', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');
    const s = await createSweep(c.url, yaml);
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const recommendation = () => expectOk(RecommendationResponseSchema, http(c.url, `/api/sweeps/${s.id}/recommendation`));
    // A smooth bowl at x = 0.5 plus noise of ±0.05 (deterministic in x).
    const loss = (p: Record<string, unknown>) => (Number(p.x) - 0.5) ** 2 + 0.05 * Math.sin(Number(p.x) * 997);
    await finishRuns(c.url, agent, 3, loss);
    const few = await recommendation();
    assert.deepEqual([few.source, few.runs], ['best-observed', 3]);
    assert.match(few.warnings[0] ?? '', /fewer than 5 finished runs/);
    await finishRuns(c.url, agent, 27, loss);
    const r = await recommendation();
    assert.equal(r.source, 'posterior-mean');
    assert.equal(r.runs, 30);
    const best = await expectOk(BestResponseSchema, http(c.url, `/api/sweeps/${s.id}/best`));
    assert.equal(r.bestObserved?.runId, best.best?.runId, 'the best observed run is the sweep\'s best');
    assert.ok(r.recommended && Number.isFinite(r.recommended.predicted), 'a model mean');
    assert.ok(Math.abs(Number(r.recommended.params.x) - 0.5) < 0.2, `the recommendation sits near the bowl's bottom: x = ${String(r.recommended.params.x)}`);
    const runs = (await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${s.id}/runs?state=finished&limit=100`))).runs;
    assert.equal(runs.find((x) => x.id === r.recommended!.runId)?.number, r.recommended.number, 'it names a real finished run');
    assert.deepEqual(await recommendation(), r, 'cached while no run ends');
    await expectError(http(c.url, '/api/sweeps/nope/recommendation'), 404, 'SWEEP_NOT_FOUND');
  });

  test('unknown sweep → 404; a sweep without a metric says so', async () => {
    await expectError(http(c.url, '/api/sweeps/nope/importance'), 404, 'SWEEP_NOT_FOUND');
    const s = await createSweep(c.url, ['method: random', 'program: train.py', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n'));
    const r = await importance(s.id);
    assert.deepEqual(r.parameters, []);
    assert.equal(r.metric, null);
    assert.match(r.note ?? '', /no metric/);
  });

  test('curves: one request for many runs, the current attempt only, NaN as null, thinned to ?points', async () => {
    const s = await createSweep(c.url, SWEEP);
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    await finishRuns(c.url, agent, 3, () => 1);
    const runs = (await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${s.id}/runs?state=finished`))).runs;
    const [a, b, d] = runs.map((r) => r.id) as [string, string, string];
    // A second sweep's run with the same metric is not part of this sweep's answer.
    const other = await createSweep(c.url, SWEEP);
    await finishRuns(c.url, new FakeAgent(c.redis, c.keys, other.id), 1, () => 5);
    const otherRun = (await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${other.id}/runs?state=finished`))).runs[0]!.id;
    // Run a: a longer curve with a diverged point.
    await agent.advertise(1);
    const queued = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${s.id}/runs?state=queued`));
    await agent.withdraw();
    const extra = queued.runs[0]!.id;
    const token = newToken();
    await agent.claim(extra, token);
    await agent.metrics(extra, token, Array.from({ length: 50 }, (_, i) => [i, 'loss', i === 10 ? 'nan' : 100 - i] as [number, string, number | 'nan']));
    await agent.end(extra, token, 'finished');
    await waitRun(c.url, extra, 'finished', (r) => r.state === 'finished');

    const res = await expectOk(CurvesResponseSchema, http(c.url, `/api/sweeps/${s.id}/curves?name=loss&runs=${[a, b, d, extra, otherRun].join(',')}&points=20`));
    assert.deepEqual(res.curves.map((x) => x.runId).sort(), [a, b, d, extra].sort(), 'only runs of this sweep');
    const long = res.curves.find((x) => x.runId === extra)!;
    assert.equal(long.points.length, 20, 'thinned to ?points');
    assert.deepEqual(long.points[0]!.slice(0, 2), [0, 100]);
    assert.deepEqual(long.points[19]!.slice(0, 2), [49, 51], 'the last point is kept');
    const full = await expectOk(CurvesResponseSchema, http(c.url, `/api/sweeps/${s.id}/curves?name=loss&runs=${extra}`));
    assert.equal(full.curves[0]!.points.length, 50);
    assert.equal(full.curves[0]!.points[10]![1], null, 'a NaN travels as null');
    // Each point's time is its stored time in whole milliseconds, as a Date of it says.
    const { rows } = await c.handle.ctx.db.query<{ time: Date }>(`SELECT time FROM metrics WHERE run_id = $1 AND name = 'loss' ORDER BY seq`, [extra]);
    assert.deepEqual(full.curves[0]!.points.map((p) => p[2]), rows.map((r) => new Date(r.time).getTime()));

    await expectError(http(c.url, `/api/sweeps/${s.id}/curves?name=loss`), 400, 'INVALID_REQUEST');
    await expectError(http(c.url, `/api/sweeps/${s.id}/curves?name=loss&runs=${Array.from({ length: 201 }, (_, i) => `r${i}`).join(',')}`), 400, 'INVALID_REQUEST');
  });

  test('API answers are gzipped for clients that ask, identical once unzipped; small ones are not', async () => {
    const s = await createSweep(c.url, SWEEP);
    await finishRuns(c.url, new FakeAgent(c.redis, c.keys, s.id), 12, () => 1);
    const raw = (path: string, encoding?: string) =>
      new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        get(`${c.url}${path}`, { headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject);
      });
    const plain = await raw(`/api/sweeps/${s.id}/runs?limit=100`);
    const zipped = await raw(`/api/sweeps/${s.id}/runs?limit=100`, 'gzip');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.ok(zipped.body.length < plain.body.length / 2, `${zipped.body.length} bytes gzipped vs ${plain.body.length}`);
    assert.deepEqual(JSON.parse(gunzipSync(zipped.body).toString('utf8')), JSON.parse(plain.body.toString('utf8')));
    const health = await raw('/healthz', 'gzip');
    assert.equal(health.headers['content-encoding'], undefined, 'a small answer is sent as it is');
  });
});
