import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logH, logExpectedImprovement, stdNormalCdf } from '../../../strategies/bayes/log-ei.js';
import { relErr } from './fd.js';

// ln h(z), h = φ(z) + zΦ(z), and d ln h/dz = Φ/h, from 50-digit mpmath rounded to the nearest
// double (gp-bo.md §7 gives the same ln h at −30, −5, 0 and 1).
const REFERENCE: Array<[number, number, number]> = [
  [-1e6, -500000000028.55, 1000000.000002],
  [-1000, -500014.73445209116, 1000.001999994],
  [-30, -457.724653760598, 30.06644615416242],
  [-5, -16.744301162661, 5.361816241288088],
  [-2.5, -6.212541645443513, 3.098423296791162],
  [-1, -2.4851210257126413, 1.9042712333296918],
  [0, -0.918938533204673, 1.2533141373155003],
  [1, 0.0800262188493069, 0.7766387252017393],
  [3, 1.0987396653277077, 0.3328409684517952],
  [10, 2.302585092994046, 0.1],
];

test('ln h matches high-precision values from z = −1e6 to 10, including the far tails', () => {
  const der = new Float64Array(1);
  for (const [z, value, slope] of REFERENCE) {
    const got = logH(z, der);
    assert.ok(relErr(got, value) < 1e-12, `ln h(${z}) = ${got}, expected ${value}`);
    assert.ok(relErr(der[0]!, slope) < 1e-12, `d ln h/dz at ${z} = ${der[0]}, expected ${slope}`);
  }
});

test('ln h stays finite and smooth across the switch at z = −2.5 and in extreme tails', () => {
  const left = logH(-2.5 - 1e-9);
  const right = logH(-2.5 + 1e-9);
  const der = new Float64Array(1);
  logH(-2.5, der);
  // The two formulas agree to the slope times the gap.
  assert.ok(Math.abs(right - left - 2e-9 * der[0]!) < 1e-12);
  assert.ok(Number.isFinite(logH(-1e100)));
  assert.equal(logH(-Infinity) < -1e290, true);
  // Plain EI underflows to 0 near z = −38; the log form does not.
  assert.ok(logH(-40) > -810 && logH(-40) < -795);
});

test('d ln h/dz agrees with central differences of ln h', () => {
  const der = new Float64Array(1);
  for (const z of [-200, -30, -7, -2.6, -2.4, -1.3, 0.2, 2.4, 2.6, 6]) {
    logH(z, der);
    const h = 1e-5 * Math.max(1, Math.abs(z));
    const fd = (logH(z + h) - logH(z - h)) / (2 * h);
    assert.ok(relErr(der[0]!, fd) < 1e-7, `z=${z}: ${der[0]} vs ${fd}`);
  }
});

test('Φ keeps full relative precision in both tails', () => {
  assert.ok(relErr(stdNormalCdf(-5), 2.866515718791939e-7) < 1e-13);
  assert.ok(relErr(stdNormalCdf(-1), 0.15865525393145705) < 1e-13);
  assert.ok(relErr(stdNormalCdf(3), 0.9986501019683699) < 1e-15);
  assert.ok(relErr(stdNormalCdf(-30), 4.906713927148187e-198) < 1e-12);
  assert.equal(stdNormalCdf(0), 0.5);
});

test('LogEI is ln σ + ln h((μ − best)/σ) and handles σ = 0', () => {
  assert.ok(relErr(logExpectedImprovement(1, 2, 1), Math.log(2) - 0.918938533204673) < 1e-14);
  assert.equal(logExpectedImprovement(0, 0, 1), -Infinity);
  assert.ok(relErr(logExpectedImprovement(3, 0, 1), Math.log(2)) < 1e-15);
});
