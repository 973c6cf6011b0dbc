import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StrategyWorker } from '../../../controller/strategy-worker.js';
import { createStrategy, parseSweepConfig } from '../../../strategies/index.js';
import { Rng } from '../../../strategies/space/rng.js';
import { sampleParams } from '../../../strategies/space/index.js';
import type { Observation, Params, SweepSpec } from '../../../strategies/types.js';

const fakeEntry = new URL('./fake-worker-entry.js', import.meta.url);

function sixDimSpec(): SweepSpec {
  const parameters: Record<string, unknown> = {};
  for (let i = 1; i <= 6; i++) parameters[`x${i}`] = { distribution: 'uniform', min: -5, max: 5 };
  return parseSweepConfig({ method: 'bayes', metric: { name: 'loss', goal: 'minimize' }, program: 'train.py', parameters });
}

function styblinski(p: Params): number {
  let s = 0;
  for (const v of Object.values(p)) s += (v as number) ** 4 - 16 * (v as number) ** 2 + 5 * (v as number);
  return s / 2;
}

function history(spec: SweepSpec, n: number): Observation[] {
  const rng = Rng.from(11);
  return Array.from({ length: n }, () => {
    const params = sampleParams(spec.parameters, rng);
    return { params, state: 'finished' as const, value: styblinski(params) };
  });
}

test('the event loop keeps ticking while a 300-observation GP proposal runs in the worker', async () => {
  const spec = sixDimSpec();
  const observations = history(spec, 300);
  const worker = new StrategyWorker();
  try {
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 5);
    const start = performance.now();
    const [proposal] = await worker.propose('s1', spec, 1, { observations, pending: [], count: 1 });
    const end = performance.now();
    clearInterval(timer);
    assert.equal(proposal?.info?.source, 'gp');
    const during = ticks.filter((t) => t > start && t < end);
    // Run inline, this proposal would block the loop and no tick would land inside it.
    assert.ok(during.length >= 3, `${during.length} ticks during a ${(end - start).toFixed(0)} ms proposal`);
    const stamps = [start, ...during, end];
    let maxGap = 0;
    for (let i = 1; i < stamps.length; i++) maxGap = Math.max(maxGap, stamps[i]! - stamps[i - 1]!);
    assert.ok(maxGap < (end - start) / 2, `largest gap between ticks ${maxGap.toFixed(0)} ms of ${(end - start).toFixed(0)} ms`);
  } finally {
    await worker.close();
  }
});

test('worker proposals equal inline ones and the per-sweep instance (warm start) persists', async () => {
  const spec = sixDimSpec();
  const base = history(spec, 14);
  const worker = new StrategyWorker();
  const inline = createStrategy(spec, { seed: 3 });
  try {
    const observations = [...base];
    for (let i = 0; i < 3; i++) {
      const viaWorker = await worker.propose('s2', spec, 3, { observations, pending: [], count: 1 });
      const direct = inline.propose({ observations, pending: [], count: 1 });
      assert.deepEqual(viaWorker, direct);
      observations.push({ params: direct[0]!.params, state: 'finished', value: styblinski(direct[0]!.params) });
    }
  } finally {
    await worker.close();
  }
});

test('strategy errors come back as rejections with their name and message', async () => {
  const spec = { ...sixDimSpec() };
  delete spec.metric;
  const worker = new StrategyWorker();
  try {
    await assert.rejects(worker.propose('s3', spec, 1, { observations: [], pending: [], count: 1 }), (err: Error) => {
      assert.equal(err.name, 'RangeError');
      assert.match(err.message, /method: bayes needs a metric/);
      return true;
    });
  } finally {
    await worker.close();
  }
});

test('requests for one sweep are serialized; a crash rejects in-flight calls and the next call gets a new worker', async () => {
  const spec = sixDimSpec();
  const worker = new StrategyWorker({ entry: fakeEntry });
  try {
    const ask = (sweepId: string, delayMs: number) =>
      worker.propose(sweepId, spec, 1, { observations: [], pending: [], count: delayMs }).then((p) => p[0]!.params);
    // Three concurrent asks for one sweep: the worker never holds more than one of them.
    const same = await Promise.all([ask('a', 30), ask('a', 1), ask('a', 10)]);
    assert.deepEqual(
      same.map((p) => p.outstanding),
      [0, 0, 0],
    );
    const firstThread = same[0]?.thread;
    const slow = ask('b', 500);
    const crash = ask('crash', 0);
    await assert.rejects(crash, /strategy worker thread died \(it exited with code 3\).*next one starts a new worker/);
    await assert.rejects(slow, /strategy worker thread died/);
    const after = await ask('a', 0);
    assert.notEqual(after.thread, firstThread, 'a fresh worker thread');
  } finally {
    await worker.close();
  }
  await assert.rejects(worker.propose('a', spec, 1, { observations: [], pending: [], count: 0 }), /closed/);
});
