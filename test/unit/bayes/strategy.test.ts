import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBayesStrategy, createBayesStrategyForSpace, defaultInitialDesign } from '../../../strategies/bayes/index.js';
import { parseSweepConfig } from '../../../strategies/spec/index.js';
import { Rng } from '../../../strategies/space/rng.js';
import { sampleParams } from '../../../strategies/space/index.js';
import { valueKey } from '../../../strategies/space/value-key.js';
import type { EncodedSpace, MetricSpec, Observation, Params, Proposal, Strategy } from '../../../strategies/types.js';
import { BRANIN_MIN, branin, handSpace, minimize, unit2 } from './spaces.js';

/** Runs `budget` sequential evaluations; returns the proposals and the best value. */
function run(strategy: Strategy, f: (p: Params) => number, budget: number): { proposals: Proposal[]; best: number } {
  const observations: Observation[] = [];
  const proposals: Proposal[] = [];
  let best = Infinity;
  for (let t = 0; t < budget; t++) {
    const [p] = strategy.propose({ observations, pending: [], count: 1 });
    assert.ok(p, `a proposal at step ${t}`);
    proposals.push(p);
    const v = f(p.params);
    best = Math.min(best, v);
    observations.push({ params: p.params, state: 'finished', value: v });
  }
  return { proposals, best };
}

test('initial design: clamp(2d, 5, 10) scrambled-Sobol points counted over finished runs, then the GP', () => {
  assert.equal(defaultInitialDesign(1), 5);
  assert.equal(defaultInitialDesign(3), 6);
  assert.equal(defaultInitialDesign(8), 10);
  assert.equal(defaultInitialDesign(8, 30), 6);
  assert.equal(defaultInitialDesign(8, 10), 5);
  const s = createBayesStrategyForSpace(unit2(), minimize, { seed: 1 });
  const observations: Observation[] = [];
  // Failed runs do not count toward the design.
  for (let i = 0; i < 5; i++) {
    const [p] = s.propose({ observations, pending: [], count: 1 });
    assert.equal(p!.info?.source, 'sobol');
    observations.push({ params: p!.params, state: i === 0 ? 'failed' : 'finished', value: i === 0 ? null : branin(p!.params) });
  }
  const [sixth] = s.propose({ observations, pending: [], count: 1 });
  assert.equal(sixth!.info?.source, 'sobol', '4 finished runs < 5');
  observations.push({ params: sixth!.params, state: 'finished', value: branin(sixth!.params) });
  const [gp] = s.propose({ observations, pending: [], count: 1 });
  assert.equal(gp!.info?.source, 'gp');
  // The failed run trains the feasibility classifier (harrow.bayes.failures: model).
  assert.equal(gp!.info?.acquisition, 'logei+feasibility');
});

test('proposals are reproducible by seed (including warm-started GP steps) and differ across seeds', () => {
  const a = run(createBayesStrategyForSpace(unit2(), minimize, { seed: 5 }), branin, 12).proposals.map((p) => p.params);
  const b = run(createBayesStrategyForSpace(unit2(), minimize, { seed: 5 }), branin, 12).proposals.map((p) => p.params);
  const c = run(createBayesStrategyForSpace(unit2(), minimize, { seed: 6 }), branin, 12).proposals.map((p) => p.params);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.slice(0, 5), c.slice(0, 5));
  assert.notDeepEqual(a.slice(8), c.slice(8));
});

test('goal: maximize on v proposes exactly what goal: minimize does on −v', () => {
  const maximize: MetricSpec = { ...minimize, goal: 'maximize' };
  const up = run(createBayesStrategyForSpace(unit2(), maximize, { seed: 2 }), (p) => -branin(p), 10).proposals;
  const down = run(createBayesStrategyForSpace(unit2(), minimize, { seed: 2 }), branin, 10).proposals;
  assert.deepEqual(
    up.map((p) => p.params),
    down.map((p) => p.params),
  );
});

test('N simultaneous asks get N distinct proposals away from the pending runs', () => {
  const s = createBayesStrategyForSpace(unit2(), minimize, { seed: 3 });
  const { proposals } = run(s, branin, 10);
  const observations: Observation[] = proposals.map((p) => ({ params: p.params, state: 'finished', value: branin(p.params) }));
  const pending = [proposals[0]!.params, { x1: 0.5, x2: 0.5 }];
  const batch = s.propose({ observations, pending, count: 8 });
  assert.equal(batch.length, 8);
  const keys = new Set([...observations.map((o) => valueKey(o.params)), ...pending.map((p) => valueKey(p))]);
  for (const p of batch) {
    assert.ok(!keys.has(valueKey(p.params)), 'not a duplicate of an evaluated or pending run');
    keys.add(valueKey(p.params));
    assert.equal(p.info?.source, 'gp');
    assert.equal(p.info?.acquisition, 'fantasy-logei');
  }
  // Distinct and not piled onto one spot.
  const pts = batch.map((p) => [p.params.x1 as number, p.params.x2 as number]);
  let minGap = Infinity;
  for (let i = 0; i < pts.length; i++)
    for (let j = 0; j < i; j++) minGap = Math.min(minGap, Math.hypot(pts[i]![0]! - pts[j]![0]!, pts[i]![1]! - pts[j]![1]!));
  assert.ok(minGap > 1e-3, `closest pair of the batch is ${minGap} apart`);
  // The Kriging-believer mode gives distinct proposals too.
  const believer = createBayesStrategyForSpace(unit2(), minimize, { seed: 3, pendingMode: 'kriging-believer' });
  run(believer, branin, 10);
  const kbBatch = believer.propose({ observations, pending, count: 4 });
  assert.equal(new Set(kbBatch.map((p) => valueKey(p.params))).size, 4);
  assert.ok(kbBatch.every((p) => p.info?.acquisition === 'kriging-believer'));
  // Agents asking one at a time, each seeing the previous one's run as pending, also differ.
  const seen: Params[] = [];
  for (let i = 0; i < 4; i++) {
    const [p] = s.propose({ observations, pending: seen, count: 1 });
    assert.ok(!seen.some((q) => valueKey(q) === valueKey(p!.params)));
    seen.push(p!.params);
  }
});

test('a finite space: no duplicates of evaluated or pending points, exhaustion returns fewer', () => {
  const space = handSpace({ ints: [{ name: 'n', lo: 1, hi: 3 }], cats: [{ name: 'c', values: ['a', 'b'] }] });
  const s = createBayesStrategyForSpace(space, minimize, { seed: 1, initialDesign: 2 });
  assert.equal(s.size, 6);
  const f = (p: Params): number => (p.n as number) + (p.c === 'a' ? 0 : 0.5);
  const observations: Observation[] = [
    { params: { n: 1, c: 'a' }, state: 'finished', value: 1 },
    { params: { n: 2, c: 'a' }, state: 'finished', value: 2 },
    { params: { n: 3, c: 'b' }, state: 'finished', value: 3.5 },
  ];
  const pending: Params[] = [{ n: 1, c: 'b' }];
  const out = s.propose({ observations, pending, count: 5 });
  assert.equal(out.length, 2, 'only (2, b) and (3, a) remain');
  const got = out.map((p) => valueKey(p.params)).sort();
  assert.deepEqual(got, [valueKey({ n: 2, c: 'b' }), valueKey({ n: 3, c: 'a' })].sort());
  for (const p of out) assert.ok(f(p.params) > 0);
  const none = s.propose({ observations, pending: [...pending, ...out.map((p) => p.params)], count: 1 });
  assert.deepEqual(none, []);
});

test('mixed space (float, int, categorical) through parseSweepConfig: valid, distinct proposals', () => {
  const spec = parseSweepConfig({
    method: 'bayes',
    metric: { name: 'loss', goal: 'minimize' },
    program: 'train.py',
    parameters: {
      lr: { distribution: 'log_uniform_values', min: 1e-4, max: 1e-1 },
      layers: { distribution: 'int_uniform', min: 1, max: 6 },
      width: { distribution: 'int_uniform', min: 16, max: 512 },
      opt: { values: ['sgd', 'adam'] },
      seed: { value: 7 },
    },
  });
  const s = createBayesStrategy(spec, { seed: 4 });
  const f = (p: Params): number =>
    (Math.log10(p.lr as number) + (p.opt === 'adam' ? 3 : 1.5)) ** 2 + 0.1 * ((p.layers as number) - 3) ** 2 + ((p.width as number) - 200) ** 2 / 1e4;
  const { proposals } = run(s, f, 16);
  const keys = new Set(proposals.map((p) => valueKey(p.params)));
  assert.equal(keys.size, proposals.length);
  for (const p of proposals) {
    assert.equal(p.params.seed, 7);
    assert.ok(Number.isInteger(p.params.layers) && Number.isInteger(p.params.width));
    assert.ok((p.params.lr as number) >= 1e-4 && (p.params.lr as number) <= 0.1);
    assert.ok(['sgd', 'adam'].includes(p.params.opt as string));
  }
  assert.equal(proposals.at(-1)!.info?.source, 'gp');
});

test('the GP beats random search on Branin (5 fixed seeds, 30 evaluations)', () => {
  const gp: number[] = [];
  const random: number[] = [];
  const spec = parseSweepConfig({
    method: 'random',
    program: 'train.py',
    parameters: { x1: { min: 0.0, max: 1.0 }, x2: { min: 0.0, max: 1.0 } },
  });
  for (let seed = 0; seed < 5; seed++) {
    gp.push(run(createBayesStrategyForSpace(unit2(), minimize, { seed }), branin, 30).best - BRANIN_MIN);
    const rng = Rng.from(seed, 77);
    let best = Infinity;
    for (let t = 0; t < 30; t++) best = Math.min(best, branin(sampleParams(spec.parameters, rng)));
    random.push(best - BRANIN_MIN);
  }
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[2]!;
  assert.ok(median(gp) < 0.1 * median(random), `median regret GP ${median(gp)} vs random ${median(random)}`);
  assert.ok(median(gp) < 0.05, `median GP regret ${median(gp)}`);
});

test('fallbacks are reported in info.warnings, never silent', () => {
  // A run that does not fit the space, and a GP that cannot be built (NaN coordinates).
  const base = unit2();
  const poisoned: EncodedSpace = {
    dimensions: base.dimensions,
    decode: (x) => base.decode(x),
    encode: (p) => (p.x1 === 0.123 ? Float64Array.of(NaN, 0.5) : base.encode(p)),
  };
  const s = createBayesStrategyForSpace(poisoned, minimize, { seed: 9 });
  const { proposals } = run(createBayesStrategyForSpace(base, minimize, { seed: 9 }), branin, 6);
  const observations: Observation[] = proposals.map((p) => ({ params: p.params, state: 'finished', value: branin(p.params) }));
  observations.push({ params: { x1: 5, x2: 0 }, state: 'finished', value: 1 });
  const [ok] = s.propose({ observations, pending: [], count: 1 });
  assert.equal(ok!.info?.source, 'gp');
  assert.match((ok!.info?.warnings ?? []).join('\n'), /1 run\(s\) whose params do not fit the search space/);
  observations.push({ params: { x1: 0.123, x2: 0.5 }, state: 'finished', value: 3 });
  const [fallback] = s.propose({ observations, pending: [], count: 1 });
  assert.equal(fallback!.info?.source, 'sobol');
  assert.match((fallback!.info?.warnings ?? []).join('\n'), /GP proposal failed .*fell back to the quasi-random sequence/);
});

test('bad construction input gets a message saying what to fix', () => {
  const constants = handSpace({});
  assert.throws(() => createBayesStrategyForSpace(constants, minimize, { seed: 1 }), /at least one parameter that varies/);
  assert.throws(
    () => createBayesStrategyForSpace(unit2(), minimize, { seed: 1, prior: 'botorch' as never }),
    /unknown prior preset "botorch"; use one of optuna, hvarfner/,
  );
});
