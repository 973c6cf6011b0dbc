/**
 * Statistical tests of every distribution's sampling law, with fixed seeds: bounds, types,
 * quantization, inclusive ends, and the shape of the law (a Kolmogorov–Smirnov distance against the
 * exact CDF, or level frequencies against their exact prior mass). Tolerances are derived from the
 * sample size: KS at α = 0.001 (1.95/√n), frequencies within 5 standard errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flattenParameters, parseSweepConfig } from '../../../strategies/index.js';
import { leafModel, type LeafModel } from '../../../strategies/space/leaf-model.js';
import { Rng } from '../../../strategies/space/rng.js';
import { betaCdf, normalCdf } from '../../../strategies/space/special.js';
import type { JsonValue } from '../../../strategies/types.js';

const N = 20_000;
const KS_CRITICAL = 1.95 / Math.sqrt(N);

function leaf(param: string): LeafModel {
  const spec = parseSweepConfig(`method: random\nprogram: t.py\nparameters:\n  x: ${param}\n`);
  return leafModel(flattenParameters(spec.parameters)[0]!);
}

function draw(model: LeafModel, seed: number, n = N): JsonValue[] {
  const rng = Rng.from(seed);
  return Array.from({ length: n }, () => model.sample(rng));
}

function numbers(values: JsonValue[]): number[] {
  for (const v of values) assert.equal(typeof v, 'number');
  return values as number[];
}

/** Kolmogorov–Smirnov distance between the sample and a continuous CDF. */
function ks(sample: number[], cdf: (x: number) => number): number {
  const xs = [...sample].sort((a, b) => a - b);
  let d = 0;
  xs.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / xs.length), Math.abs((i + 1) / xs.length - f));
  });
  return d;
}

function assertKs(sample: number[], cdf: (x: number) => number, what: string): void {
  const d = ks(sample, cdf);
  assert.ok(d < KS_CRITICAL, `${what}: KS distance ${d.toFixed(4)} ≥ ${KS_CRITICAL.toFixed(4)}`);
}

/** Empirical frequency of each value vs its expected probability, within 5 standard errors. */
function assertFrequencies(values: JsonValue[], expected: Map<string, number>, what: string): void {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(JSON.stringify(v), (counts.get(JSON.stringify(v)) ?? 0) + 1);
  for (const key of counts.keys()) assert.ok(expected.has(key), `${what}: unexpected value ${key}`);
  for (const [key, p] of expected) {
    const f = (counts.get(key) ?? 0) / values.length;
    const se = Math.sqrt((p * (1 - p)) / values.length);
    assert.ok(Math.abs(f - p) <= 5 * se + 1e-12, `${what}: P(${key}) = ${f.toFixed(4)}, expected ${p.toFixed(4)} ± ${(5 * se).toFixed(4)}`);
  }
}

function probs(entries: Array<[JsonValue, number]>): Map<string, number> {
  return new Map(entries.map(([v, p]) => [JSON.stringify(v), p]));
}

/** The level masses the model reports must match the empirical law too (random search relies on them). */
function assertModelMasses(model: LeafModel, values: JsonValue[], what: string): void {
  const expected = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < model.count; i++) {
    expected.set(JSON.stringify(model.value(i)), model.mass(i));
    total += model.mass(i);
  }
  assert.ok(Math.abs(total - 1) < 1e-12, `${what}: masses sum to ${total}`);
  assertFrequencies(values, expected, `${what} (model masses)`);
}

describe('sampling laws', () => {
  it('constant: always the value, as a fresh copy', () => {
    const m = leaf('{value: {a: [1, 2]}}');
    const rng = Rng.from(1);
    const a = m.sample(rng);
    const b = m.sample(rng);
    assert.deepEqual(a, { a: [1, 2] });
    assert.deepEqual(b, a);
    assert.notEqual(a, b);
  });

  it('categorical: uniform over the listed values, duplicates counted as W&B does', () => {
    const values = draw(leaf('{values: [a, b, a, [1, 2]]}'), 11);
    assertFrequencies(values, probs([['a', 0.5], ['b', 0.25], [[1, 2], 0.25]]), 'categorical');
    assertModelMasses(leaf('{values: [a, b, a, [1, 2]]}'), values, 'categorical');
  });

  it('categorical_w_probabilities: the given weights; zero-weight values never drawn', () => {
    const m = leaf('{values: [x, y, z, w], probabilities: [0.2, 0.5, 0.3, 0]}');
    const values = draw(m, 12);
    assertFrequencies(values, probs([['x', 0.2], ['y', 0.5], ['z', 0.3]]), 'weighted');
    assert.equal(m.count, 3);
    assertModelMasses(m, values, 'weighted');
  });

  it('int_uniform: every integer from min to max, both ends included, equally likely', () => {
    const values = numbers(draw(leaf('{min: -2, max: 3}'), 13));
    for (const v of values) assert.ok(Number.isInteger(v) && v >= -2 && v <= 3);
    assertFrequencies(values, probs([-2, -1, 0, 1, 2, 3].map((v) => [v, 1 / 6])), 'int_uniform');
  });

  it('uniform: inside [min, max] with a flat law', () => {
    const xs = numbers(draw(leaf('{min: -2.0, max: 3.0}'), 14));
    for (const x of xs) assert.ok(x >= -2 && x <= 3);
    assertKs(xs, (x) => (x + 2) / 5, 'uniform');
  });

  it('log_uniform_values: inside [min, max], ln x uniform between ln min and ln max', () => {
    const xs = numbers(draw(leaf('{distribution: log_uniform_values, min: 1.0e-5, max: 0.1}'), 15));
    for (const x of xs) assert.ok(x >= 1e-5 && x <= 0.1);
    assertKs(xs, (x) => (Math.log(x) - Math.log(1e-5)) / (Math.log(0.1) - Math.log(1e-5)), 'log_uniform_values');
    // Shape: a decade near the bottom is as likely as a decade near the top.
    const low = xs.filter((x) => x < 1e-4).length / xs.length;
    const high = xs.filter((x) => x >= 1e-2).length / xs.length;
    assert.ok(Math.abs(low - 0.25) < 0.02 && Math.abs(high - 0.25) < 0.02, `decades ${low}, ${high}`);
  });

  it('log_uniform (natural-log exponents): e^U(min, max)', () => {
    const xs = numbers(draw(leaf('{distribution: log_uniform, min: -5, max: 0}'), 16));
    for (const x of xs) assert.ok(x >= Math.exp(-5) - 1e-15 && x <= 1);
    assertKs(xs, (x) => (Math.log(x) + 5) / 5, 'log_uniform');
  });

  it('inv_log_uniform (exponents): ln(1/X) ~ U(min, max)', () => {
    const xs = numbers(draw(leaf('{distribution: inv_log_uniform, min: 1, max: 5}'), 17));
    for (const x of xs) assert.ok(x >= Math.exp(-5) - 1e-15 && x <= Math.exp(-1) + 1e-15);
    // P(X ≤ x) = P(ln(1/X) ≥ −ln x) = (5 + ln x) / 4.
    assertKs(xs, (x) => (5 + Math.log(x)) / 4, 'inv_log_uniform');
  });

  it('inv_log_uniform_values: inside [min, max], ln(1/X) uniform', () => {
    const xs = numbers(draw(leaf('{distribution: inv_log_uniform_values, min: 0.01, max: 1.0}'), 18));
    for (const x of xs) assert.ok(x >= 0.01 && x <= 1);
    assertKs(xs, (x) => (Math.log(x) - Math.log(0.01)) / -Math.log(0.01), 'inv_log_uniform_values');
  });

  it('normal: the N(mu, sigma) law, mean and spread', () => {
    const xs = numbers(draw(leaf('{distribution: normal, mu: 2, sigma: 3}'), 19));
    assertKs(xs, (x) => normalCdf((x - 2) / 3), 'normal');
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    assert.ok(Math.abs(mean - 2) < (5 * 3) / Math.sqrt(N), `mean ${mean}`);
    assert.ok(Math.abs(sd - 3) < (5 * 3) / Math.sqrt(2 * N), `sd ${sd}`);
  });

  it('normal with defaults: mu 0, sigma 1', () => {
    assertKs(numbers(draw(leaf('{distribution: normal}'), 20)), normalCdf, 'standard normal');
  });

  it('log_normal: ln x ~ N(mu, sigma), always positive', () => {
    const xs = numbers(draw(leaf('{distribution: log_normal, mu: -1, sigma: 0.5}'), 21));
    for (const x of xs) assert.ok(x > 0);
    assertKs(xs, (x) => normalCdf((Math.log(x) + 1) / 0.5), 'log_normal');
    // Median e^mu.
    const below = xs.filter((x) => x < Math.exp(-1)).length / xs.length;
    assert.ok(Math.abs(below - 0.5) < 5 * Math.sqrt(0.25 / N), `median share ${below}`);
  });

  it('beta: the Beta(a, b) law inside [0, 1], including U-shaped and tiny parameters', () => {
    const xs = numbers(draw(leaf('{distribution: beta, a: 2, b: 5}'), 22));
    for (const x of xs) assert.ok(x >= 0 && x <= 1);
    assertKs(xs, (x) => betaCdf(x, 2, 5), 'beta(2,5)');
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(mean - 2 / 7) < 5 * Math.sqrt(10 / (49 * 8) / N), `mean ${mean}`);
    assertKs(numbers(draw(leaf('{distribution: beta, a: 0.3, b: 0.3}'), 23)), (x) => betaCdf(x, 0.3, 0.3), 'beta(0.3,0.3)');
    const tiny = numbers(draw(leaf('{distribution: beta, a: 0.01, b: 0.02}'), 24, 2000));
    for (const x of tiny) assert.ok(x >= 0 && x <= 1 && !Number.isNaN(x));
    assertKs(numbers(draw(leaf('{distribution: beta}'), 25)), (x) => x, 'beta defaults a=b=1');
  });

  it('q_uniform: multiples of q, max included (inclusive ends), half-width end cells', () => {
    const m = leaf('{distribution: q_uniform, min: 0, max: 1, q: 0.25}');
    const values = draw(m, 26);
    assertFrequencies(values, probs([[0, 1 / 8], [0.25, 1 / 4], [0.5, 1 / 4], [0.75, 1 / 4], [1, 1 / 8]]), 'q_uniform');
    assertModelMasses(m, values, 'q_uniform');
  });

  it('q_uniform with an integer q: integers, rounded as round(x/q)·q, which can leave [min, max]', () => {
    const m = leaf('{distribution: q_uniform, min: 1, max: 10, q: 3}');
    const values = numbers(draw(m, 27));
    for (const v of values) assert.ok(Number.isInteger(v));
    // x ∈ [1, 10]: round(x/3)·3 is 0 on [1, 1.5), 3 on [1.5, 4.5), 6 on [4.5, 7.5), 9 on [7.5, 10].
    assertFrequencies(values, probs([[0, 0.5 / 9], [3, 3 / 9], [6, 3 / 9], [9, 2.5 / 9]]), 'q_uniform q=3');
    assertModelMasses(m, values, 'q_uniform q=3');
  });

  it('q_uniform without q: q defaults to 1.0 (a float, so not cast to int in W&B)', () => {
    const m = leaf('{distribution: q_uniform, min: 0, max: 2}');
    assert.deepEqual(m.flat.spec, { distribution: 'q_uniform', min: 0, max: 2, q: 1, qIsInteger: false });
    assertFrequencies(draw(m, 28), probs([[0, 0.25], [1, 0.5], [2, 0.25]]), 'q_uniform default q');
  });

  it('q_uniform with a fractional q: values are k·q exactly as computed by W&B (float noise included)', () => {
    const values = numbers(draw(leaf('{distribution: q_uniform, min: 0.0, max: 1.0, q: 0.1}'), 29, 2000));
    for (const v of values) assert.equal(v, Math.round(v / 0.1) * 0.1);
    assert.ok(values.includes(0.30000000000000004), 'k·q keeps float noise as numpy does');
  });

  it('q_log_uniform_values: integers with log law; both ends reachable', () => {
    const m = leaf('{distribution: q_log_uniform_values, min: 1, max: 100, q: 1}');
    const values = numbers(draw(m, 30));
    for (const v of values) assert.ok(Number.isInteger(v) && v >= 1 && v <= 100);
    assert.ok(values.includes(1) && values.includes(100));
    // P(value ≤ 10) = P(x < 10.5) = ln 10.5 / ln 100.
    const p = Math.log(10.5) / Math.log(100);
    const f = values.filter((v) => v <= 10).length / N;
    assert.ok(Math.abs(f - p) < 5 * Math.sqrt((p * (1 - p)) / N), `P(≤10) = ${f}, expected ${p}`);
    assertModelMasses(m, values, 'q_log_uniform_values');
  });

  it('q_log_uniform (exponents): the same law as q_log_uniform_values on e^min..e^max', () => {
    const m = leaf(`{distribution: q_log_uniform, min: 0, max: ${Math.log(100)}, q: 1}`);
    const values = numbers(draw(m, 31));
    const p = Math.log(10.5) / Math.log(100);
    const f = values.filter((v) => v <= 10).length / N;
    assert.ok(Math.abs(f - p) < 5 * Math.sqrt((p * (1 - p)) / N));
    assertModelMasses(m, values, 'q_log_uniform');
  });

  it('q_normal: multiples of q with the rounded normal law', () => {
    const values = numbers(draw(leaf('{distribution: q_normal, mu: 0, sigma: 2, q: 0.5}'), 32));
    for (const v of values) assert.equal(v / 0.5, Math.round(v / 0.5));
    const p0 = normalCdf(0.125) - normalCdf(-0.125);
    const p1 = normalCdf(0.375) - normalCdf(0.125);
    assertFrequencies(
      values.filter((v) => v === 0 || v === 0.5),
      probs([[0, p0 / (p0 + p1)], [0.5, p1 / (p0 + p1)]]),
      'q_normal',
    );
    const f0 = values.filter((v) => v === 0).length / N;
    assert.ok(Math.abs(f0 - p0) < 5 * Math.sqrt((p0 * (1 - p0)) / N), `P(0) = ${f0}, expected ${p0}`);
  });

  it('q_log_normal: non-negative integers (integer q) with the rounded log-normal law', () => {
    const values = numbers(draw(leaf('{distribution: q_log_normal, mu: 1, sigma: 0.5, q: 1}'), 33));
    for (const v of values) assert.ok(Number.isInteger(v) && v >= 0);
    const p3 = normalCdf((Math.log(3.5) - 1) / 0.5) - normalCdf((Math.log(2.5) - 1) / 0.5);
    const f3 = values.filter((v) => v === 3).length / N;
    assert.ok(Math.abs(f3 - p3) < 5 * Math.sqrt((p3 * (1 - p3)) / N), `P(3) = ${f3}, expected ${p3}`);
  });

  it('q_beta: multiples of q in [0, 1], both ends reachable, masses from the Beta CDF', () => {
    const m = leaf('{distribution: q_beta, a: 2, b: 2, q: 0.1}');
    assert.equal(m.count, 11);
    const values = numbers(draw(m, 34));
    for (const v of values) assert.ok(v >= 0 && v <= 1 && Math.abs(v / 0.1 - Math.round(v / 0.1)) < 1e-9);
    // Beta(2,2): I(x) = 3x² − 2x³; P(0.5) = I(0.55) − I(0.45) = 0.1495.
    const f = values.filter((v) => v === 0.5).length / N;
    assert.ok(Math.abs(f - 0.1495) < 5 * Math.sqrt((0.1495 * 0.8505) / N), `P(0.5) = ${f}`);
    assertModelMasses(m, values, 'q_beta');
    const ends = numbers(draw(leaf('{distribution: q_beta, a: 0.5, b: 0.5, q: 0.25}'), 35, 2000));
    assert.ok(ends.includes(0) && ends.includes(1), 'inclusive ends');
  });

  it('every law is reproducible from its seed and differs across seeds', () => {
    const m = leaf('{distribution: log_normal}');
    assert.deepEqual(draw(m, 99, 50), draw(m, 99, 50));
    assert.notDeepEqual(draw(m, 99, 50), draw(m, 100, 50));
  });
});
