/**
 * Test functions for the optimizer benchmarks, each with its sweep config (W&B syntax, parsed by
 * `parseSweepConfig` in the harness) and its known global minimum, so simple regret is
 * f(best so far) − f*. All are minimized.
 */
import type { Params } from '../strategies/types.js';

export interface BenchFunction {
  name: string;
  dims: number;
  /** Evaluation budget of a run (50 for ≤ 3 dimensions, 100 above). */
  budget: number;
  /** The sweep config as a YAML-shaped object. */
  config: Record<string, unknown>;
  fStar: number;
  evaluate(params: Params): number;
}

function num(params: Params, key: string): number {
  const v = params[key];
  if (typeof v !== 'number') throw new Error(`benchmark: parameter ${key} is ${JSON.stringify(v)}, expected a number`);
  return v;
}

function sweep(parameters: Record<string, unknown>): Record<string, unknown> {
  return { method: 'bayes', metric: { name: 'loss', goal: 'minimize' }, parameters, program: 'bench.py' };
}

function uniforms(names: string[], min: number, max: number): Record<string, unknown> {
  return Object.fromEntries(names.map((n) => [n, { distribution: 'uniform', min, max }]));
}

const branin: BenchFunction = {
  name: 'Branin',
  dims: 2,
  budget: 50,
  config: sweep({ x1: { distribution: 'uniform', min: -5, max: 10 }, x2: { distribution: 'uniform', min: 0, max: 15 } }),
  fStar: 0.39788735772973816,
  evaluate(p) {
    const x1 = num(p, 'x1');
    const x2 = num(p, 'x2');
    const b = 5.1 / (4 * Math.PI * Math.PI);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
};

const sixHumpCamel: BenchFunction = {
  name: 'Six-hump camel',
  dims: 2,
  budget: 50,
  config: sweep({ x1: { distribution: 'uniform', min: -3, max: 3 }, x2: { distribution: 'uniform', min: -2, max: 2 } }),
  fStar: -1.0316284534898774,
  evaluate(p) {
    const x = num(p, 'x1');
    const y = num(p, 'x2');
    return (4 - 2.1 * x * x + x ** 4 / 3) * x * x + x * y + (-4 + 4 * y * y) * y * y;
  },
};

const H3_A = [
  [3, 10, 30],
  [0.1, 10, 35],
  [3, 10, 30],
  [0.1, 10, 35],
];
const H3_P = [
  [0.3689, 0.117, 0.2673],
  [0.4699, 0.4387, 0.747],
  [0.1091, 0.8732, 0.5547],
  [0.03815, 0.5743, 0.8828],
];
const H3_ALPHA = [1, 1.2, 3, 3.2];

const hartmann3: BenchFunction = {
  name: 'Hartmann-3',
  dims: 3,
  budget: 50,
  config: sweep(uniforms(['x1', 'x2', 'x3'], 0, 1)),
  fStar: -3.862782147820752,
  evaluate(p) {
    const x = [num(p, 'x1'), num(p, 'x2'), num(p, 'x3')];
    let s = 0;
    for (let i = 0; i < 4; i++) {
      let e = 0;
      for (let j = 0; j < 3; j++) e += H3_A[i]![j]! * (x[j]! - H3_P[i]![j]!) ** 2;
      s += H3_ALPHA[i]! * Math.exp(-e);
    }
    return -s;
  },
};

const rosenbrock4: BenchFunction = {
  name: 'Rosenbrock-4',
  dims: 4,
  budget: 100,
  config: sweep(uniforms(['x1', 'x2', 'x3', 'x4'], -5, 10)),
  fStar: 0,
  evaluate(p) {
    const x = [num(p, 'x1'), num(p, 'x2'), num(p, 'x3'), num(p, 'x4')];
    let s = 0;
    for (let i = 0; i < 3; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
    return s;
  },
};

const ackley5: BenchFunction = {
  name: 'Ackley-5',
  dims: 5,
  budget: 100,
  config: sweep(uniforms(['x1', 'x2', 'x3', 'x4', 'x5'], -32.768, 32.768)),
  fStar: 0,
  evaluate(p) {
    const x = ['x1', 'x2', 'x3', 'x4', 'x5'].map((k) => num(p, k));
    const d = x.length;
    let s1 = 0;
    let s2 = 0;
    for (const v of x) {
      s1 += v * v;
      s2 += Math.cos(2 * Math.PI * v);
    }
    return -20 * Math.exp(-0.2 * Math.sqrt(s1 / d)) - Math.exp(s2 / d) + 20 + Math.E;
  },
};

/**
 * A synthetic training loss over a log-scale learning rate, two integers (a short grid and a long
 * one) a categorical optimizer and a float: the best learning rate depends on the optimizer (a
 * categorical interaction), `width` has 497 levels (encoded as a rounded continuous coordinate),
 * `layers` 8 (a discrete dimension).
 */
const MIXED_LR_CENTRE: Record<string, number> = { sgd: -1.3, adam: -3.2, rmsprop: -2.6 };
const MIXED_OFFSET: Record<string, number> = { sgd: 0.25, adam: 0, rmsprop: 0.1 };
const MIXED_WIDTH_TERM = (w: number): number => 0.075 * (Math.log2(w) - 7.5) ** 2;

const mixed: BenchFunction = {
  name: 'Mixed-5 (log, int, cat)',
  dims: 5,
  budget: 100,
  config: sweep({
    lr: { distribution: 'log_uniform_values', min: 1e-4, max: 0.1 },
    layers: { distribution: 'int_uniform', min: 1, max: 8 },
    width: { distribution: 'int_uniform', min: 16, max: 512 },
    optimizer: { values: ['sgd', 'adam', 'rmsprop'] },
    dropout: { distribution: 'uniform', min: 0, max: 0.5 },
  }),
  // Optimum: adam, lr = 10^−3.2, layers = 5, dropout = 0.15, width the integer nearest 2^7.5.
  fStar: Math.min(MIXED_WIDTH_TERM(181), MIXED_WIDTH_TERM(182)),
  evaluate(p) {
    const opt = p.optimizer;
    if (typeof opt !== 'string' || !(opt in MIXED_LR_CENTRE)) throw new Error(`benchmark: bad optimizer ${JSON.stringify(opt)}`);
    const lr = num(p, 'lr');
    return (
      MIXED_OFFSET[opt]! +
      0.8 * (Math.log10(lr) - MIXED_LR_CENTRE[opt]!) ** 2 +
      0.04 * (num(p, 'layers') - 5) ** 2 +
      MIXED_WIDTH_TERM(num(p, 'width')) +
      2 * (num(p, 'dropout') - 0.15) ** 2
    );
  },
};

export const BENCH_FUNCTIONS: readonly BenchFunction[] = [branin, sixHumpCamel, hartmann3, rosenbrock4, ackley5, mixed];

/** A d-dimensional smooth multimodal function on [0, 1]^d for latency runs (values only matter for realism). */
export function latencyFunction(d: number): BenchFunction {
  const names = Array.from({ length: d }, (_, i) => `x${i + 1}`);
  return {
    name: `Styblinski-Tang-${d}`,
    dims: d,
    budget: 0,
    config: sweep(uniforms(names, -5, 5)),
    fStar: -39.16616570377142 * d,
    evaluate(p) {
      let s = 0;
      for (const k of names) {
        const v = num(p, k);
        s += v ** 4 - 16 * v * v + 5 * v;
      }
      return s / 2;
    },
  };
}
