import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { betaCdf, erfc, lnGamma, normalCdf, normalPpf } from '../../../strategies/space/special.js';

function close(actual: number, expected: number, rel: number, what = ''): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  assert.ok(err <= rel, `${what} ${actual} vs ${expected} (relative error ${err.toExponential(2)} > ${rel})`);
}

describe('special functions', () => {
  it('erfc matches reference values (Python math.erfc) on both sides of the series/fraction switch', () => {
    close(erfc(0.5), 0.4795001221869535, 1e-14);
    close(erfc(2), 0.004677734981047265, 1e-13);
    close(erfc(1.999999), 0.004677755648073953, 1e-12);
    close(erfc(2.000001), 0.004677714314103242, 1e-12);
    close(erfc(3), 2.2090496998585438e-5, 1e-13);
    close(erfc(-1), 2 - 0.15729920705028513, 1e-15);
    assert.equal(erfc(0), 1);
  });

  it('normalCdf matches reference values, including deep tails', () => {
    assert.equal(normalCdf(0), 0.5);
    close(normalCdf(1), 0.8413447460685429, 1e-15);
    close(normalCdf(3), 0.9986501019683699, 1e-15);
    close(normalCdf(-5), 2.866515718791933e-7, 1e-12);
    close(normalCdf(-10), 7.619853024160593e-24, 1e-12);
    close(normalCdf(-37), 5.7255712225239266e-300, 1e-10);
  });

  it('normalCdf has the normal density as its derivative (central differences)', () => {
    for (const z of [-3, -1.2, 0, 0.4, 2.5]) {
      const h = 1e-5;
      const fd = (normalCdf(z + h) - normalCdf(z - h)) / (2 * h);
      close(fd, Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI), 1e-8, `z=${z}`);
    }
  });

  it('normalPpf matches reference values and inverts normalCdf', () => {
    close(normalPpf(0.975), 1.959963984540054, 1e-14);
    close(normalPpf(0.3), -0.5244005127080409, 1e-14);
    close(normalPpf(1e-10), -6.361340902404056, 1e-13);
    close(normalPpf(1e-300), -37.0470962993612, 1e-12);
    assert.equal(normalPpf(0.5), 0);
    assert.equal(normalPpf(0), -Infinity);
    assert.equal(normalPpf(1), Infinity);
    assert.ok(Number.isNaN(normalPpf(1.5)));
    for (const p of [1e-12, 1e-6, 0.01, 0.02425, 0.2, 0.5, 0.77, 0.97575, 0.999, 1 - 1e-9]) {
      close(normalCdf(normalPpf(p)), p, 1e-12, `p=${p}`);
    }
  });

  it('lnGamma matches ln Γ at hand-checked points', () => {
    assert.ok(Math.abs(lnGamma(1)) < 1e-14 && Math.abs(lnGamma(2)) < 1e-14);
    close(lnGamma(5), Math.log(24), 1e-14);
    close(lnGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
    close(lnGamma(10.5), 13.940625219403763, 1e-14);
    close(lnGamma(0.01), 4.599479878042022, 1e-13);
    close(lnGamma(100.5), 361.4355404677776, 1e-14);
  });

  it('betaCdf matches closed forms and reference values', () => {
    for (const x of [0.05, 0.3, 0.5, 0.91]) {
      close(betaCdf(x, 1, 1), x, 1e-13, 'uniform');
      close(betaCdf(x, 2, 1), x * x, 1e-13, 'x^2');
      close(betaCdf(x, 1, 3), 1 - (1 - x) ** 3, 1e-13, '1-(1-x)^3');
      close(betaCdf(x, 2, 2), 3 * x * x - 2 * x ** 3, 1e-13, '3x^2-2x^3');
    }
    // Binomial identity by hand: I_0.3(2, 5) = 1 − 0.7^6 − 6·0.3·0.7^5 = 0.579825.
    close(betaCdf(0.3, 2, 5), 0.579825, 1e-13);
    close(betaCdf(0.5, 0.3, 0.3), 0.5, 1e-13);
    close(betaCdf(0.5, 7, 7), 0.5, 1e-13);
    close(betaCdf(0.7, 0.5, 0.5), 0.6309898804344546, 1e-13);
    close(betaCdf(0.01, 0.2, 3), 0.5237545708662276, 1e-12);
    close(betaCdf(0.9, 30, 4), 0.5769436641256929, 1e-12);
    assert.equal(betaCdf(0, 2, 3), 0);
    assert.equal(betaCdf(1, 2, 3), 1);
  });

  it('betaCdf has the beta density as its derivative (central differences)', () => {
    for (const [a, b] of [
      [2, 5],
      [0.7, 1.3],
      [4, 4],
    ] as const) {
      const B = Math.exp(lnGamma(a) + lnGamma(b) - lnGamma(a + b));
      for (const x of [0.1, 0.4, 0.8]) {
        const h = 1e-6;
        const fd = (betaCdf(x + h, a, b) - betaCdf(x - h, a, b)) / (2 * h);
        close(fd, (x ** (a - 1) * (1 - x) ** (b - 1)) / B, 1e-6, `a=${a} b=${b} x=${x}`);
      }
    }
  });
});
