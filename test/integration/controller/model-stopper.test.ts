/**
 * `harrow.early_terminate: {type: model}` in the controller, on real Postgres and on PGlite, with
 * a stand-in agent: five runs finish with whole curves; two more report, and when their count of
 * the metric crosses the first checkpoint (3) the controller judges them after the commit, in the
 * strategy worker: the one heading for a bad end gets a stop (its control message and its
 * recorded `stop_info` carry the model's numbers), the one heading for the best does not. A run
 * that reports values between checkpoints is not judged.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, needServices } from '../../helpers/services.js';
import { waitFor } from '../../helpers/processes.js';
import { allocateRunNumbers } from '../../../db/sweeps.js';
import { insertRuns } from '../../../db/runs.js';
import { createSweep, FakeAgent, getRun, newToken, startTestController, waitRun, type TestController } from './controller-harness.js';

const opts = await needServices();

const STEPS = 12;
const final = (x: number): number => 0.1 + (x - 0.3) ** 2;
const lossAt = (x: number, t: number): number => final(x) + 0.5 * Math.exp(-t / 4);

const SWEEP = `
method: bayes
program: train.py
metric: {name: loss, goal: minimize}
parameters:
  x: {distribution: uniform, min: 0, max: 1}
harrow:
  early_terminate: {type: model, at: [3, 6]}
`;

for (const { name: backend } of BACKENDS) {
  describe(`model-based stopping in the controller (${backend})`, { ...opts, timeout: 120_000 }, () => {
    let c: TestController;
    before(async () => {
      c = await startTestController({ backend });
    });
    after(async () => {
      await c.close();
    });

    test('stops the run the curve model gives up on, with the prediction in its reason', async () => {
      const s = await createSweep(c.url, SWEEP);
      const xs = [0.1, 0.25, 0.4, 0.6, 0.8, 0.95, 0.3];
      // Runs put in by hand (no agent advertises, so the scheduler queues none).
      const ids = await c.handle.ctx.db.transaction(async (tx) => {
        const n = await allocateRunNumbers(tx, s.id, xs.length);
        const runs = await insertRuns(
          tx,
          xs.map((x, i) => ({ id: `${s.id}-${n + i}`, sweepId: s.id, number: n + i, params: { x }, paramsHash: `h${i}`, proposal: null })),
          'test',
        );
        return runs.map((r) => r.id);
      });
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      const tokens = ids.map(() => newToken());
      const points = (x: number, from: number, to: number): Array<[number, string, number]> =>
        Array.from({ length: to - from }, (_, k) => [from + k, 'loss', lossAt(x, from + k + 1)]);
      for (let i = 0; i < 5; i++) {
        await agent.claim(ids[i]!, tokens[i]!);
        await agent.metrics(ids[i]!, tokens[i]!, points(xs[i]!, 0, STEPS));
        await agent.end(ids[i]!, tokens[i]!, 'finished');
      }
      await waitFor('5 finished runs', async () => ((await getRun(c.url, ids[4]!)).state === 'finished' ? true : undefined), 15_000, 50);

      const models = c.handle.ingestor.models;
      // The finished runs crossed checkpoints too (judged while running, before 3 had finished: no stop).
      await models.idle();
      const judgedBefore = models.judgements;
      const [bad, good] = [ids[5]!, ids[6]!];
      for (const i of [5, 6]) {
        await agent.claim(ids[i]!, tokens[i]!);
        await waitRun(c.url, ids[i]!, 'running', (r) => r.state === 'running');
        // Two values: below the first checkpoint, nothing is judged.
        await agent.metrics(ids[i]!, tokens[i]!, points(xs[i]!, 0, 2));
      }
      await waitFor('the two values stored', async () => ((await getRun(c.url, good)).summary.loss?.count === 2 ? true : undefined), 10_000, 50);
      await models.idle();
      assert.equal(models.judgements, judgedBefore, 'no run crossed a checkpoint');
      assert.equal(models.stops, 0);

      for (const i of [5, 6]) await agent.metrics(ids[i]!, tokens[i]!, points(xs[i]!, 2, 3));
      const stopped = await waitRun(c.url, bad, 'a stop decision', (r) => r.stopInfo !== null, 20_000);
      const info = stopped.stopInfo as { rule: string; at: number; threshold: number; value: number; optimistic: number; message: string };
      assert.equal(info.rule, 'model');
      assert.equal(info.at, 3);
      // The best finished run: x = 0.25, whose best value is its last, final(0.25) + 0.5·e^(−12/4).
      assert.ok(Math.abs(info.threshold - lossAt(0.25, STEPS)) < 1e-9, `threshold ${info.threshold}`);
      assert.ok(info.value >= info.optimistic && info.optimistic > info.threshold, JSON.stringify(info));
      assert.match(info.message, /^model after 3 values: predicted final [\d.]+ \(optimistic [\d.]+, z 1\.645\) vs best finished [\d.]+: STOP$/);
      const control = await agent.control(bad);
      assert.equal(control?.action, 'stop');
      assert.equal(control?.token, tokens[5]);
      assert.match(control.reason, /^model after 3 values/);

      // The good run was judged in the same or a later judgement (once its third value is stored), and kept.
      await waitFor('the third value of the good run', async () => ((await getRun(c.url, good)).summary.loss?.count === 3 ? true : undefined), 10_000, 50);
      await models.idle();
      assert.ok(models.judgements > judgedBefore);
      assert.equal(await agent.control(good), null);
      const kept = await getRun(c.url, good);
      assert.equal(kept.stopInfo, null);
      assert.equal(kept.state, 'running');
      assert.equal(models.stops, 1);
    });
  });
}
