import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HaltonSequence, SobolSequence, createQmcSequence } from '../../../strategies/bayes/qmc.js';
import { Rng } from '../../../strategies/space/rng.js';

test('unscrambled Sobol matches SciPy (Joe–Kuo directions) in low and high dimensions', () => {
  const s = new SobolSequence(128, null);
  const out = new Float64Array(128);
  // scipy.stats.qmc.Sobol(d=128, scramble=False, bits=30).random(1024)[i][dims]
  const dims = [0, 1, 2, 9, 19, 63, 127];
  const expected: Array<[number, number[]]> = [
    [0, [0, 0, 0, 0, 0, 0, 0]],
    [5, [0.875, 0.875, 0.125, 0.125, 0.625, 0.625, 0.125]],
    [37, [0.921875, 0.640625, 0.578125, 0.171875, 0.140625, 0.828125, 0.671875]],
    [1000, [0.2197265625, 0.0966796875, 0.5185546875, 0.0693359375, 0.7255859375, 0.4462890625, 0.5439453125]],
    [1023, [0.0009765625, 0.7529296875, 0.6123046875, 0.8505859375, 0.3193359375, 0.0400390625, 0.7001953125]],
  ];
  for (const [i, values] of expected) {
    s.point(i, out);
    assert.deepEqual(
      dims.map((j) => out[j]),
      values,
      `point ${i}`,
    );
  }
});

/** Counts points per cell of a 2-D grid with 2^a × 2^b cells. */
function cellCounts(pts: Float64Array, d: number, m: number, j1: number, j2: number, a: number, b: number): number[] {
  const counts = new Array<number>(2 ** (a + b)).fill(0);
  for (let i = 0; i < m; i++) {
    const c1 = Math.floor(pts[i * d + j1]! * 2 ** a);
    const c2 = Math.floor(pts[i * d + j2]! * 2 ** b);
    counts[c1 * 2 ** b + c2]!++;
  }
  return counts;
}

test('scrambled Sobol keeps the net property: 2^m points fill every elementary interval once', () => {
  const d = 12;
  const m = 256;
  const s = new SobolSequence(d, Rng.from(42));
  const pts = new Float64Array(m * d);
  for (let i = 0; i < m; i++) s.point(i, pts, i * d);
  for (let j = 0; j < d; j++) {
    // One point in each 1/256 slice of every dimension.
    assert.ok(cellCounts(pts, d, m, j, j, 8, 0).every((c) => c === 1), `dim ${j}`);
  }
  // Dimensions 1 and 2 of Sobol form a (0, m, 2)-net: any 2^a × 2^(8−a) split holds one point each.
  for (let a = 0; a <= 8; a++) assert.ok(cellCounts(pts, d, m, 0, 1, a, 8 - a).every((c) => c === 1), `split ${a}`);
  // Scrambling moved the points off the dyadic grid and the origin.
  assert.ok(pts[0]! !== 0 || pts[1]! !== 0);
});

test('scrambled sequences are reproducible by seed and differ across seeds', () => {
  const a = new Float64Array(5);
  const b = new Float64Array(5);
  const c = new Float64Array(5);
  new SobolSequence(5, Rng.from(7)).point(17, a);
  new SobolSequence(5, Rng.from(7)).point(17, b);
  new SobolSequence(5, Rng.from(8)).point(17, c);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('Halton: radical inverses unscrambled; scrambled points stratify each dimension by b^k', () => {
  const h = new HaltonSequence(3, null);
  const out = new Float64Array(3);
  h.point(5, out);
  // 5 = 101₂ → 0.101₂ = 0.625; 5 = 12₃ → 0.21₃ = 7/9; 5 in base 5 = 10₅ → 0.01₅ = 1/25.
  assert.ok(Math.abs(out[0]! - 0.625) < 1e-15);
  assert.ok(Math.abs(out[1]! - 7 / 9) < 1e-15);
  assert.ok(Math.abs(out[2]! - 1 / 25) < 1e-15);
  const hs = new HaltonSequence(3, Rng.from(3));
  const bases = [2, 3, 5];
  const pts = new Float64Array(3);
  for (const [j, b] of bases.entries()) {
    const m = b ** 3;
    const seen = new Set<number>();
    for (let i = 0; i < m; i++) {
      hs.point(i, pts);
      assert.ok(pts[j]! >= 0 && pts[j]! < 1);
      seen.add(Math.floor(pts[j]! * m));
    }
    assert.equal(seen.size, m, `base ${b}`);
  }
});

test('createQmcSequence uses Halton above Sobol’s 128 dimensions', () => {
  assert.ok(createQmcSequence(128, null) instanceof SobolSequence);
  const big = createQmcSequence(200, Rng.from(1));
  assert.ok(big instanceof HaltonSequence);
  const out = new Float64Array(200);
  big.point(3, out);
  assert.ok(out.every((v) => v >= 0 && v < 1));
});
