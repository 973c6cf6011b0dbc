import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AVOID_MAX_LENGTHSCALE, calibrate, CHANCE_AVOID, CHANCE_LEVEL, CHANCE_WEIGHT, chanceLogLevel, ConstrainedAcquisition, FeasibilityModel, leaveOneOut } from '../../../strategies/bayes/feasibility.js';
import { GpPosterior } from '../../../strategies/bayes/gp-posterior.js';
import { thetaToHyper } from '../../../strategies/bayes/gp-fit.js';
import { logNormalCdf, stdNormalCdf } from '../../../strategies/bayes/log-ei.js';
import { buildTrainingSet } from '../../../strategies/bayes/training-set.js';
import { createBayesStrategyForSpace } from '../../../strategies/bayes/index.js';
import type { MetricSpec, Observation } from '../../../strategies/types.js';
import { centralDiff, fixtureStream, relErr } from './fd.js';
import { handSpace } from './spaces.js';

test('ln Φ matches ln of Φ where Φ is representable, and hand values far in the tail', () => {
  for (const z of [-2.4, -1, 0, 0.7, 3]) assert.ok(relErr(logNormalCdf(z), Math.log(stdNormalCdf(z))) < 1e-12, `z=${z}`);
  // ln Φ(−10) = −53.23128515051247 and ln Φ(−40) = −804.6084420137538 (mpmath, 30 digits).
  assert.ok(relErr(logNormalCdf(-10), -53.23128515051247) < 1e-12);
  assert.ok(relErr(logNormalCdf(-40), -804.6084420137538) < 1e-12);
});

test('d ln Φ/dz equals a central difference on both sides of the tail switch', () => {
  const der = new Float64Array(1);
  for (const z of [-30, -5, -2.6, -2.4, -0.5, 0, 2, 4]) {
    logNormalCdf(z, der);
    const fd = centralDiff((x) => logNormalCdf(x[0]!), [z], 0, 1e-5);
    assert.ok(relErr(der[0]!, fd, 1e-10) < 1e-6, `z=${z}: ${der[0]} vs ${fd}`);
  }
});

const isCat2 = Uint8Array.of(0, 0);

function randomPoints(n: number, seed: number): Float64Array {
  const r = fixtureStream(seed);
  return Float64Array.from({ length: 2 * n }, () => r());
}

test('leave-one-out means and variances equal refitting the posterior without each point', () => {
  const n = 7;
  const x = randomPoints(n, 3);
  const y = Float64Array.from({ length: n }, (_, i) => Math.sin(5 * x[2 * i]!) - x[2 * i + 1]!);
  const h = thetaToHyper(Float64Array.of(Math.log(0.3), Math.log(0.5), Math.log(1.2), Math.log(0.05)), 2);
  const post = GpPosterior.create(x, n, 2, isCat2, h, y)!;
  const loo = leaveOneOut(post);
  for (let i = 0; i < n; i++) {
    const keep = [...Array(n).keys()].filter((k) => k !== i);
    const xi = Float64Array.from(keep.flatMap((k) => [x[2 * k]!, x[2 * k + 1]!]));
    const yi = Float64Array.from(keep, (k) => y[k]!);
    const p = GpPosterior.create(xi, n - 1, 2, isCat2, h, yi)!.predict(x.slice(2 * i, 2 * i + 2));
    assert.ok(relErr(loo.mean[i]!, p.mean) < 1e-8, `mean ${i}`);
    // GPML eq. 5.12's variance is the predictive variance of y_i: latent plus noise.
    assert.ok(relErr(loo.variance[i]!, p.variance + h.noise) < 1e-8, `variance ${i}`);
  }
});

test('calibration: a separable set gets a steep positive slope, a label-blind one a flat one', () => {
  const label = [1, 1, 1, -1, -1, -1, 1, -1];
  const sep = calibrate(label, label.map((l) => 0.8 * l), label.map(() => 0.1));
  assert.ok(sep.a > 2, `slope ${sep.a}`);
  const blind = calibrate(label, label.map((_, i) => (i % 2 ? 0.5 : -0.5)), label.map(() => 0.1));
  assert.ok(blind.a < sep.a / 2, `slope ${blind.a} vs ${sep.a}`);
});

function failingSet(n: number): { x: Float64Array; label: Float64Array } {
  const x = randomPoints(n, 11);
  const label = Float64Array.from({ length: n }, (_, i) => (x[2 * i]! + x[2 * i + 1]! > 1.2 ? -1 : 1));
  return { x, label };
}

test('the classifier learns a failing half-plane: P(feasible) high inside, low beyond the boundary', () => {
  const { x, label } = failingSet(40);
  const m = FeasibilityModel.fit({ x, label, n: 40, d: 2, isCat: isCat2 }, { preset: 'optuna', warmStart: null })!;
  assert.ok(m.prob(Float64Array.of(0.2, 0.2)) > 0.9, `inside ${m.prob(Float64Array.of(0.2, 0.2))}`);
  assert.ok(m.prob(Float64Array.of(0.9, 0.9)) < 0.1, `beyond ${m.prob(Float64Array.of(0.9, 0.9))}`);
});

test('∇ ln P(feasible) equals central differences', () => {
  const { x, label } = failingSet(25);
  const m = FeasibilityModel.fit({ x, label, n: 25, d: 2, isCat: isCat2 }, { preset: 'optuna', warmStart: null })!;
  const grad = new Float64Array(2);
  for (const p of [
    [0.3, 0.4],
    [0.6, 0.65],
    [0.9, 0.1],
  ]) {
    m.logProb(Float64Array.from(p), grad);
    for (let j = 0; j < 2; j++) {
      const fd = centralDiff((v) => m.logProb(v, null), p, j, 1e-6);
      assert.ok(relErr(grad[j]!, fd, 1e-6) < 1e-4, `at ${p.join(",")} coordinate ${j}: ${grad[j]} vs ${fd}`);
    }
  }
});

test('the constrained acquisition: ln EI + ln P above the chance level, a steeper barrier below; gradient and batch scores agree', () => {
  const { x, label } = failingSet(25);
  const m = FeasibilityModel.fit({ x, label, n: 25, d: 2, isCat: isCat2 }, { preset: 'optuna', warmStart: null })!;
  const inner = {
    value: (p: Float64Array) => p[0]! * 2,
    valueAndGradient: (p: Float64Array, g: Float64Array) => {
      g[0] = 2;
      g[1] = 0;
      return p[0]! * 2;
    },
    scoreBatch: (pts: Float64Array, k: number, out: Float64Array) => {
      for (let i = 0; i < k; i++) out[i] = pts[2 * i]! * 2;
    },
  };
  const acq = new ConstrainedAcquisition(inner, m, 2);
  const inside = Float64Array.of(0.2, 0.2);
  assert.ok(m.prob(inside) > CHANCE_LEVEL);
  assert.equal(acq.value(inside), 0.4 + m.logProb(inside, null));
  const beyond = Float64Array.of(0.9, 0.9);
  const lp = m.logProb(beyond, null);
  assert.ok(relErr(acq.value(beyond), 1.8 + lp + CHANCE_WEIGHT * (lp - Math.log(CHANCE_LEVEL))) < 1e-14);
  const g = new Float64Array(2);
  for (const p of [inside, beyond, Float64Array.of(0.6, 0.55)]) {
    acq.valueAndGradient(p, g);
    for (let j = 0; j < 2; j++) {
      const fd = centralDiff((v) => acq.value(v), p, j, 1e-6);
      assert.ok(relErr(g[j]!, fd, 1e-6) < 1e-4, `coordinate ${j}: ${g[j]} vs ${fd}`);
    }
  }
  const out = new Float64Array(2);
  acq.scoreBatch(Float64Array.of(0.2, 0.2, 0.9, 0.9), 2, out);
  assert.equal(out[0], acq.value(inside));
  assert.equal(out[1], acq.value(beyond));
});

/** 30 feasible runs refining a corner, two failures on the far side: the optimizer's usual data. */
function clusteredSet(): { x: Float64Array; label: Float64Array; n: number } {
  const r = fixtureStream(21);
  const pts: number[] = [];
  const label: number[] = [];
  for (let i = 0; i < 30; i++) {
    pts.push(0.05 + 0.25 * r(), 0.05 + 0.25 * r());
    label.push(1);
  }
  pts.push(0.9, 0.1, 0.95, 0.25);
  label.push(-1, -1);
  return { x: Float64Array.from(pts), label: Float64Array.from(label), n: label.length };
}

test('failures: avoid — far from every run the classifier says ½, not the runs\' base rate; its length scales are capped', () => {
  const { x, label, n } = clusteredSet();
  const far = Float64Array.of(0.25, 0.9);
  const model = FeasibilityModel.fit({ x, label, n, d: 2, isCat: isCat2 }, { preset: 'optuna', warmStart: null })!;
  const avoid = FeasibilityModel.fit({ x, label, n, d: 2, isCat: isCat2 }, { preset: 'optuna', warmStart: null, conservative: true })!;
  assert.ok(model.prob(far) > CHANCE_AVOID.level, `model: P = ${model.prob(far)} where no run ever went`);
  assert.ok(avoid.prob(far) < 0.75, `avoid: P = ${avoid.prob(far)} where no run ever went`);
  assert.ok(avoid.prob(Float64Array.of(0.15, 0.15)) > CHANCE_AVOID.level, 'inside the cluster of runs that ended');
  for (let j = 0; j < 2; j++) assert.ok(Math.exp(avoid.theta[j]!) <= AVOID_MAX_LENGTHSCALE * Math.SQRT2 * (1 + 1e-12), `length scale ${Math.exp(avoid.theta[j]!)}`);
  assert.deepEqual(model.chance, { level: CHANCE_LEVEL, weight: CHANCE_WEIGHT });
  assert.deepEqual(avoid.chance, CHANCE_AVOID);
});

test('failures: avoid — below P = 0.95 the barrier outweighs any EI, and its gradient is exact', () => {
  const { x, label, n } = clusteredSet();
  const m = FeasibilityModel.fit({ x, label, n, d: 2, isCat: isCat2 }, { preset: 'optuna', warmStart: null, conservative: true })!;
  const inner = {
    value: (p: Float64Array) => 50 * p[0]!,
    valueAndGradient: (p: Float64Array, g: Float64Array) => {
      g[0] = 50;
      g[1] = 0;
      return 50 * p[0]!;
    },
    scoreBatch: (pts: Float64Array, k: number, out: Float64Array) => {
      for (let i = 0; i < k; i++) out[i] = 50 * pts[2 * i]!;
    },
  };
  const acq = new ConstrainedAcquisition(inner, m, 2);
  const home = Float64Array.of(0.15, 0.15);
  const away = Float64Array.of(0.6, 0.15);
  const lp = m.logProb(away, null);
  assert.ok(lp < Math.log(CHANCE_AVOID.level));
  assert.ok(relErr(acq.value(away), 30 + lp + CHANCE_AVOID.weight * (lp - Math.log(CHANCE_AVOID.level))) < 1e-12);
  // ln EI is 22.5 higher away from the runs, yet the feasible point scores higher.
  assert.ok(acq.value(home) > acq.value(away), `${acq.value(home)} vs ${acq.value(away)}`);
  const g = new Float64Array(2);
  for (const p of [home, Float64Array.of(0.4, 0.2)]) {
    acq.valueAndGradient(p, g);
    for (let j = 0; j < 2; j++) {
      const fd = centralDiff((v) => acq.value(v), p, j, 1e-7);
      assert.ok(relErr(g[j]!, fd, 1e-6) < 1e-4, `coordinate ${j}: ${g[j]} vs ${fd}`);
    }
  }
});

const space1 = handSpace({ floats: [{ name: 'x', lo: 0, hi: 1 }] });
const metricOf = (impute: MetricSpec['impute']): MetricSpec => ({ name: 'loss', goal: 'minimize', impute, imputeWhileRunning: false });
const history: Observation[] = [
  { params: { x: 0.1 }, state: 'finished', value: 3 },
  { params: { x: 0.2 }, state: 'finished', value: 1 },
  { params: { x: 0.3 }, state: 'failed', value: null, best: 2, latest: 5 },
  { params: { x: 0.4 }, state: 'crashed', value: null },
  { params: { x: 0.5 }, state: 'stopped', value: null, best: 0.5, latest: 4 },
  { params: { x: 0.7 }, state: 'finished', value: null },
  { params: { x: 0.6 }, state: 'canceled', value: null },
];

test('failures: avoid — the failure probability allowed is min(1 − level, EI / failureCost): hand values', () => {
  const c = { level: 0.95, weight: 1000, failureCost: 10 };
  // EI = 0.1: δ = 0.01, level 0.99, d ln(1 − δ)/d ln EI = −δ/(1 − δ).
  const small = chanceLogLevel(c, Math.log(0.1));
  assert.ok(relErr(small.logLevel, Math.log(0.99)) < 1e-12);
  assert.ok(relErr(small.dLogLevel, -0.01 / 0.99) < 1e-12);
  // EI = 1: δ = 0.1 is above 1 − level, so the fixed level holds.
  assert.deepEqual(chanceLogLevel(c, 0), { logLevel: Math.log(0.95), dLogLevel: 0 });
  // EI = 0: no risk is worth taking.
  const none = chanceLogLevel(c, -Infinity);
  assert.ok(none.logLevel === 0 && none.dLogLevel === 0, JSON.stringify(none));
  assert.deepEqual(chanceLogLevel({ level: 0.95, weight: 1000 }, Math.log(1e-9)), { logLevel: Math.log(0.95), dLogLevel: 0 });
  assert.equal(CHANCE_AVOID.failureCost, 10);
});

test('failures: avoid — with a negligible EI, a point the classifier is surer of wins over a riskier one it would accept at a fixed level; gradient exact', () => {
  const { x, label, n } = clusteredSet();
  const data = { x, label, n, d: 2, isCat: isCat2 };
  const costly = FeasibilityModel.fit(data, { preset: 'optuna', warmStart: null, conservative: true })!;
  const fixed = FeasibilityModel.fit(data, { preset: 'optuna', warmStart: null, conservative: true, chance: { level: 0.95, weight: 1000 } })!;
  // ln EI −20 + 5·x₁: 1 nat more at the edge of the cluster (P ≈ 0.98) than inside it (P ≈ 0.995).
  const inner = {
    value: (p: Float64Array) => -20 + 5 * p[0]!,
    valueAndGradient: (p: Float64Array, g: Float64Array) => {
      g[0] = 5;
      g[1] = 0;
      return -20 + 5 * p[0]!;
    },
    scoreBatch: (pts: Float64Array, k: number, out: Float64Array) => {
      for (let i = 0; i < k; i++) out[i] = -20 + 5 * pts[2 * i]!;
    },
  };
  const home = Float64Array.of(0.15, 0.15);
  const edge = Float64Array.of(0.35, 0.15);
  assert.ok(costly.prob(edge) > 0.95 && costly.prob(edge) < costly.prob(home), `P edge ${costly.prob(edge)}, home ${costly.prob(home)}`);
  const withCost = new ConstrainedAcquisition(inner, costly, 2);
  const atLevel = new ConstrainedAcquisition(inner, fixed, 2);
  assert.ok(atLevel.value(edge) > atLevel.value(home), 'a fixed level buys the risk for one nat of EI');
  assert.ok(withCost.value(home) > withCost.value(edge), 'the cost of a failure does not');
  const g = new Float64Array(2);
  for (const p of [home, edge, Float64Array.of(0.4, 0.2)]) {
    withCost.valueAndGradient(p, g);
    for (let j = 0; j < 2; j++) {
      const fd = centralDiff((v) => withCost.value(v), p, j, 1e-7);
      assert.ok(relErr(g[j]!, fd, 1e-6) < 1e-4, `coordinate ${j}: ${g[j]} vs ${fd}`);
    }
  }
  const out = new Float64Array(2);
  withCost.scoreBatch(Float64Array.of(0.15, 0.15, 0.35, 0.15), 2, out);
  assert.equal(out[0], withCost.value(home));
  assert.equal(out[1], withCost.value(edge));
});

test('failures: avoid — a failure among finished runs is not smoothed away as noise: the barrier holds at the failed run', () => {
  // Failures are deterministic labels: the classifier's noise stays at its floor. With a fitted
  // noise the regression read a failure 0.015 from four finished runs as noise (noise 0.1,
  // P = 0.97 at the failed run itself; Hartmann-3, seed 4: P = 0.89, noise 0.16) and the
  // optimizer proposed next to it again.
  const { x, label, n } = clusteredSet();
  const pts = [...x];
  const labels = [...label];
  for (const [dx, dy] of [[0.015, 0], [-0.015, 0], [0, 0.015], [0, -0.015]] as const) {
    pts.push(0.2 + dx, 0.2 + dy);
    labels.push(1);
  }
  pts.push(0.2, 0.2);
  labels.push(-1);
  const avoid = FeasibilityModel.fit({ x: Float64Array.from(pts), label: Float64Array.from(labels), n: n + 5, d: 2, isCat: isCat2 }, { preset: 'optuna', warmStart: null, conservative: true })!;
  const p = avoid.prob(Float64Array.of(0.2, 0.2));
  assert.ok(p < CHANCE_AVOID.level, `P = ${p} at the failed run`);
});

test("failures: model — failures are labeled −1 and still imputed per metric.impute", () => {
  const t = buildTrainingSet(space1, metricOf('worst'), history, 'model');
  assert.deepEqual([...t.y], [-3, -1, -5, -5, -5, -5]);
  assert.deepEqual([...t.feasibility!.label], [1, 1, -1, -1, 1, -1]);
});

test("failures: classifier-only — failures get no made-up value; stopped runs keep metric.impute's", () => {
  const t = buildTrainingSet(space1, metricOf('worst'), history, 'classifier-only');
  assert.deepEqual([...t.y], [-3, -1, -5], 'the stopped run is imputed with the worst value seen (latest 5)');
  assert.deepEqual([...t.feasibility!.label], [1, 1, -1, -1, 1, -1]);
  assert.equal(t.feasibility!.failures, 3);
  assert.equal(t.imputed, 1);
});

test('failures: classifier-only with metric.impute best — a failure that logged a best value keeps it for the objective', () => {
  const t = buildTrainingSet(space1, metricOf('best'), history, 'classifier-only');
  assert.deepEqual([...t.y], [-3, -1, -2, -0.5]);
  assert.deepEqual([...t.feasibility!.label], [1, 1, -1, -1, 1, -1]);
});

test('failures: impute (and model without any failure) is the W&B training set, no classifier', () => {
  const t = buildTrainingSet(space1, metricOf('worst'), history, 'impute');
  assert.equal(t.feasibility, null);
  assert.deepEqual([...t.y], [-3, -1, -5, -5, -5, -5]);
  const clean = buildTrainingSet(space1, metricOf('worst'), history.slice(0, 2), 'model');
  assert.equal(clean.feasibility, null);
});

test('the strategy weighs proposals by P(feasible) once runs have failed, and reports it', () => {
  const space = handSpace({ floats: [{ name: 'a', lo: 0, hi: 1 }, { name: 'b', lo: 0, hi: 1 }] });
  const obs: Observation[] = [];
  const r = fixtureStream(5);
  for (let i = 0; i < 30; i++) {
    const a = r();
    const b = r();
    obs.push(a > 0.5 ? { params: { a, b }, state: 'failed', value: null } : { params: { a, b }, state: 'finished', value: (a - 0.45) ** 2 + (b - 0.5) ** 2 });
  }
  const model = createBayesStrategyForSpace(space, metricOf('worst'), { seed: 1 }).propose({ observations: obs, pending: [], count: 1 })[0]!;
  assert.equal(model.info?.acquisition, 'logei+feasibility');
  assert.ok(typeof model.info?.pFeasible === 'number');
  const only = createBayesStrategyForSpace(space, metricOf('worst'), { seed: 1, failures: 'classifier-only' }).propose({ observations: obs, pending: [], count: 1 })[0]!;
  assert.ok((only.params.a as number) < 0.5, `classifier-only proposed a = ${JSON.stringify(only.params.a)} in the failing half`);
  const avoid = createBayesStrategyForSpace(space, metricOf('worst'), { seed: 1, failures: 'avoid' }).propose({ observations: obs, pending: [], count: 1 })[0]!;
  assert.ok((avoid.info?.pFeasible as number) >= CHANCE_AVOID.level - 1e-3, `avoid proposed P = ${String(avoid.info?.pFeasible)}`);
  assert.equal((avoid.info?.model as { feasibility: { chanceLevel: number } }).feasibility.chanceLevel, CHANCE_AVOID.level);
  // The level this proposal had to meet (1 − min(0.05, EI/10)), reported beside P; P met it.
  const required = avoid.info?.pFeasibleRequired as number;
  assert.ok(required >= CHANCE_AVOID.level && required <= 1, `required ${required}`);
  assert.ok((avoid.info?.pFeasible as number) >= required - 1e-3, `P ${String(avoid.info?.pFeasible)} below the required ${required}`);
  assert.equal(model.info?.pFeasibleRequired, undefined);
  const impute = createBayesStrategyForSpace(space, metricOf('worst'), { seed: 1, failures: 'impute' }).propose({ observations: obs, pending: [], count: 1 })[0]!;
  assert.equal(impute.info?.acquisition, 'logei');
  assert.equal(impute.info?.pFeasible, undefined);
});

test('past feasibilitySubsetMax runs the classifier is fit on a subset of that size, and still steers', () => {
  const space = handSpace({ floats: [{ name: 'a', lo: 0, hi: 1 }, { name: 'b', lo: 0, hi: 1 }] });
  const r = fixtureStream(9);
  const obs: Observation[] = [];
  for (let i = 0; i < 120; i++) {
    const a = r();
    const b = r();
    obs.push(a > 0.7 ? { params: { a, b }, state: 'failed', value: null } : { params: { a, b }, state: 'finished', value: (a - 0.65) ** 2 + (b - 0.5) ** 2 });
  }
  const s = createBayesStrategyForSpace(space, metricOf('worst'), { seed: 2, feasibilitySubsetMax: 60 });
  const [p] = s.propose({ observations: obs, pending: [], count: 1 });
  const feas = (p!.info?.model as { feasibility?: { fitOn: number; failures: number } }).feasibility!;
  assert.equal(feas.fitOn, 60);
  assert.ok(feas.failures > 20);
  assert.ok(typeof p!.info?.pFeasible === 'number' && p!.info.pFeasible > 0.5, `pFeasible ${String(p!.info?.pFeasible)}`);
});
