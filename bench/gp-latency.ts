/**
 * `npm run bench:latency`: how long one `method: bayes` proposal takes at 50/100/200/500
 * observations in 6 and 20 dimensions, through the library API (`parseSweepConfig` →
 * `createStrategy`), as a long-lived sweep sees it: the instance has been proposing all along
 * (warm-started fits, refit cadence past 200 observations, incremental Cholesky), each timed call
 * adds the evaluated proposal to the history. The first call on a fresh instance (a cold fit, as
 * after a controller restart) is reported separately.
 *
 * Also timed: 50 dimensions at 200 observations, 20 dimensions at 200 observations of which the
 * runs with x1 > 2 (30%) failed (the feasibility classifier's cost), and the hand-written
 * Cholesky factorization and triangular solves (strategies/bayes/linalg.ts) against ml-matrix's
 * at n = 50/200/500 (issue 17.6: keep the hand-written kernels only where they win).
 *
 *   node dist/bench/gp-latency.js [--quick] [--reps N]
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { StrategyWorker } from '../controller/strategy-worker.js';
import { createStrategy, parseSweepConfig, Rng, sampleParams } from '../strategies/index.js';
import type { Observation, Params, Proposal } from '../strategies/types.js';
import { latencyFunction } from './functions.js';
import { backSolve, choleskyInPlace, forwardSolve } from '../strategies/bayes/linalg.js';

const SIZES = [50, 100, 200, 500];
const DIMS = [6, 20];
/** Untimed calls before timing: the first is the cold fit, the rest warm the instance and V8. */
const WARMUP = 3;

interface Flags {
  reps: number;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { reps: 30 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') flags.reps = 10;
    else if (a === '--reps') flags.reps = Number.parseInt(argv[++i] ?? '', 10);
    else throw new Error(`unknown flag ${a}; use --quick or --reps N`);
  }
  if (!(flags.reps >= 2)) throw new Error('--reps needs an integer ≥ 2');
  return flags;
}

function percentile(sorted: number[], p: number): number {
  // Nearest rank: with 30 samples p99 is the slowest call.
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

interface Row {
  label: string;
  dims: number;
  n: number;
  cold: number;
  times: number[];
  refits: number;
}

/** With `failing`, runs whose x1 > 2 (30% of the space) fail: state `failed`, no value. */
function history(d: number, n: number, seed: number, failing = false): { observations: Observation[]; record: (p: Params) => Observation } {
  const fn = latencyFunction(d);
  const spec = parseSweepConfig(fn.config);
  const rng = Rng.from(seed, d, n);
  const record = (params: Params): Observation =>
    failing && (params.x1 as number) > 2 ? { params, state: 'failed', value: null } : { params, state: 'finished', value: fn.evaluate(params) };
  const observations: Observation[] = [];
  for (let i = 0; i < n; i++) observations.push(record(sampleParams(spec.parameters, rng)));
  return { observations, record };
}

function measure(d: number, n: number, reps: number, pendingCount: number, failing = false): Row {
  const fn = latencyFunction(d);
  const spec = parseSweepConfig(fn.config);
  const strategy = createStrategy(spec, { seed: 1 });
  const { observations, record } = history(d, n - WARMUP, 7, failing);
  const times: number[] = [];
  let cold = 0;
  let refits = 0;
  for (let i = 0; i < WARMUP + reps; i++) {
    const pending = pendingCount > 0 ? history(d, pendingCount, 1000 + i).observations.map((o) => o.params) : [];
    const t0 = performance.now();
    const [p] = strategy.propose({ observations, pending, count: 1 });
    const dt = performance.now() - t0;
    if (!p) throw new Error('no proposal');
    if (i === 0) cold = dt;
    if (i >= WARMUP) {
      times.push(dt);
      if (!String((p.info?.model as { fit?: string } | undefined)?.fit ?? '').startsWith('reused')) refits++;
    }
    observations.push(record(p.params));
  }
  const label = pendingCount > 0 ? `${n} obs, ${pendingCount} pending` : failing ? `${n} obs, 30% failed` : `${n} obs`;
  return { label, dims: d, n, cold, times: times.sort((a, b) => a - b), refits };
}

async function viaWorker(d: number, n: number, reps: number): Promise<number[]> {
  const fn = latencyFunction(d);
  const spec = parseSweepConfig(fn.config);
  const { observations, record } = history(d, n - WARMUP, 7);
  const worker = new StrategyWorker();
  const times: number[] = [];
  try {
    for (let i = 0; i < WARMUP + reps; i++) {
      const t0 = performance.now();
      const proposals: Proposal[] = await worker.propose('latency', spec, 1, { observations, pending: [], count: 1 });
      const dt = performance.now() - t0;
      if (i >= WARMUP) times.push(dt);
      observations.push(record(proposals[0]!.params));
    }
  } finally {
    await worker.close();
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  console.log('bench:latency — one method: bayes proposal (count 1) through parseSweepConfig + createStrategy');
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${flags.reps} timed calls per row after ${WARMUP} untimed (the first of which is "cold")`,
  );
  console.log('Objective: Styblinski-Tang on [−5, 5]^d; history of uniform random runs, then the strategy\'s own proposals.\n');
  console.log(pad('dims', 6) + pad('observations', 22) + pad('cold ms', 10) + pad('p50 ms', 10) + pad('p99 ms', 10) + pad('refits', 8));
  const rows: Row[] = [];
  for (const d of DIMS) {
    for (const n of SIZES) {
      const row = measure(d, n, flags.reps, 0);
      rows.push(row);
      console.log(
        pad(String(d), 6) +
          pad(row.label, 22) +
          pad(row.cold.toFixed(0), 10) +
          pad(percentile(row.times, 50).toFixed(1), 10) +
          pad(percentile(row.times, 99).toFixed(1), 10) +
          `${row.refits}/${row.times.length}`,
      );
    }
  }
  const extra = [
    { d: 6, row: measure(6, 100, flags.reps, 7) },
    { d: 50, row: measure(50, 200, flags.reps, 0) },
    { d: 20, row: measure(20, 200, flags.reps, 0, true) },
  ];
  for (const { d, row } of extra) {
    rows.push(row);
    console.log(
      pad(String(d), 6) +
        pad(row.label, 22) +
        pad(row.cold.toFixed(0), 10) +
        pad(percentile(row.times, 50).toFixed(1), 10) +
        pad(percentile(row.times, 99).toFixed(1), 10) +
        `${row.refits}/${row.times.length}`,
    );
  }
  const workerTimes = await viaWorker(6, 100, flags.reps);
  console.log(
    pad('6', 6) + pad('100 obs, via worker', 22) + pad('', 10) + pad(percentile(workerTimes, 50).toFixed(1), 10) + pad(percentile(workerTimes, 99).toFixed(1), 10),
  );

  linearAlgebra();

  const p50 = (d: number, n: number, label = `${n} obs`): number => percentile(rows.find((r) => r.dims === d && r.n === n && r.label === label)!.times, 50);
  const targets = [
    { name: 'p50 at 200 observations × 50 dims', target: '< 1000 ms', value: p50(50, 200), limit: 1000 },
    { name: 'p50 at 200 obs × 20 dims, 30% failed', target: '< 1000 ms', value: p50(20, 200, '200 obs, 30% failed'), limit: 1000 },
    { name: 'p50 at 100 observations × 6 dims', target: '< 100 ms', value: p50(6, 100), limit: 100 },
    { name: 'p50 at 500 observations × 6 dims', target: '< 1000 ms', value: p50(6, 500), limit: 1000 },
    { name: 'p50 at 500 observations × 20 dims', target: '< 1000 ms', value: p50(20, 500), limit: 1000 },
  ];
  console.log('\nTargets (issue 4, point 6)');
  for (const t of targets) {
    console.log(`${t.value < t.limit ? 'PASS' : 'FAIL'}  ${pad(t.name, 36)} target ${pad(t.target, 10)} measured ${t.value.toFixed(1)} ms`);
  }
}

/**
 * The GP's hand-written Cholesky and triangular solves against ml-matrix's CholeskyDecomposition
 * (factor; solve = forward + back substitution with the factor) on the same SPD matrices.
 */
function linearAlgebra(): void {
  console.log('\nLinear algebra: hand-written (linalg.ts, flat Float64Array) vs ml-matrix, median ms of repeated calls');
  console.log(pad('n', 6) + pad('cholesky: ours', 18) + pad('ml-matrix', 12) + pad('solve: ours', 16) + 'ml-matrix');
  for (const n of [50, 200, 500]) {
    const rng = Rng.from(99, n);
    const pts = Array.from({ length: n * 4 }, () => rng.uniform());
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let q = 0;
        for (let k = 0; k < 4; k++) q += (pts[i * 4 + k]! - pts[j * 4 + k]!) ** 2;
        a[i * n + j] = Math.exp(-q) + (i === j ? 1e-3 : 0);
      }
    }
    const b = Float64Array.from({ length: n }, () => rng.normal());
    const reps = n <= 50 ? 200 : n <= 200 ? 20 : 5;
    const time = (f: () => void): number => {
      f();
      const ts: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        f();
        ts.push(performance.now() - t0);
      }
      return ts.sort((x, y) => x - y)[Math.floor(ts.length / 2)]!;
    };
    const l = new Float64Array(n * n);
    const ours = time(() => {
      l.set(a);
      if (!choleskyInPlace(l, n)) throw new Error('not SPD');
    });
    const m = new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n))));
    let chol: CholeskyDecomposition | null = null;
    const theirs = time(() => {
      chol = new CholeskyDecomposition(m);
    });
    const out = new Float64Array(n);
    const solveOurs = time(() => {
      forwardSolve(l, n, b, out);
      backSolve(l, n, out, out);
    });
    const bm = Matrix.columnVector(Array.from(b));
    const solveTheirs = time(() => {
      chol!.solve(bm);
    });
    // Same answer, or the comparison is meaningless.
    const diff = Math.max(...Array.from(out, (v, i) => Math.abs(v - chol!.solve(bm).get(i, 0))));
    if (!(diff < 1e-6 * Math.max(1, ...Array.from(out, Math.abs)))) throw new Error(`linear algebra disagrees at n=${n}: ${diff}`);
    console.log(pad(String(n), 6) + pad(ours.toFixed(3), 18) + pad(theirs.toFixed(3), 12) + pad(solveOurs.toFixed(4), 16) + solveTheirs.toFixed(4));
  }
}

await main();
