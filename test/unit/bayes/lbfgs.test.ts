import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minimizeBox } from '../../../strategies/bayes/lbfgs.js';

test('bounded quadratic: converges to the projection of the unconstrained minimum', () => {
  // f = Σ w_i (x_i − c_i)², minimum at c, box [0, 1]: the answer is clamp(c, 0, 1).
  const c = [1.7, -0.4, 0.3, 0.95, 2, -3];
  const w = [1, 10, 0.1, 3, 50, 0.5];
  const res = minimizeBox(
    (x, g) => {
      let f = 0;
      for (let i = 0; i < x.length; i++) {
        f += w[i]! * (x[i]! - c[i]!) ** 2;
        g[i] = 2 * w[i]! * (x[i]! - c[i]!);
      }
      return f;
    },
    [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    [0, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1],
    { gtol: 1e-9, ftol: 0 },
  );
  const expected = c.map((v) => Math.min(1, Math.max(0, v)));
  for (let i = 0; i < c.length; i++) assert.ok(Math.abs(res.x[i]! - expected[i]!) < 1e-7, `x${i}=${res.x[i]}`);
  assert.ok(res.status === 'gradient' || res.status === 'function', res.status);
});

function rosenbrock(x: Float64Array, g: Float64Array): number {
  let f = 0;
  g.fill(0);
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1]! - x[i]! * x[i]!;
    const b = 1 - x[i]!;
    f += 100 * a * a + b * b;
    g[i] = g[i]! - 400 * x[i]! * a - 2 * b;
    g[i + 1] = g[i + 1]! + 200 * a;
  }
  return f;
}

test('Rosenbrock-4 inside a loose box reaches the global minimum (1, 1, 1, 1)', () => {
  const res = minimizeBox(rosenbrock, [-1.2, 1, -1.2, 1], [-5, -5, -5, -5], [5, 5, 5, 5], { maxIterations: 500, gtol: 1e-8, ftol: 0 });
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(res.x[i]! - 1) < 1e-5, `x${i}=${res.x[i]}`);
  assert.ok(res.f < 1e-10);
});

test('Rosenbrock-2 with the minimum outside the box stops on the bound with a KKT point', () => {
  // Box x ≤ 0.5: the constrained optimum has x = 0.5, y = 0.25 (minimize along y = x²).
  const res = minimizeBox(rosenbrock, [-1, 2], [-2, -2], [0.5, 2], { maxIterations: 500, gtol: 1e-8 });
  assert.ok(Math.abs(res.x[0]! - 0.5) < 1e-8);
  assert.ok(Math.abs(res.x[1]! - 0.25) < 1e-6);
  const g = new Float64Array(2);
  rosenbrock(res.x, g);
  assert.ok(g[0]! < 0, 'gradient pushes outward at the active bound');
});

test('a non-finite start is reported, not optimized', () => {
  const res = minimizeBox(() => NaN, [0], [-1], [1]);
  assert.equal(res.status, 'non-finite-start');
});
