/**
 * bench:warm-start — does a sweep seeded with a previous sweep's results need fewer runs?
 *
 * For each benchmark function (bench/functions.ts) and seed:
 * - prior: a Bayesian sweep of N runs (seed + 1000) on the same function: "last week's sweep".
 * - cold: a Bayesian sweep of `budget` runs (50 for the 2- and 3-dimensional functions) from nothing.
 * - warm: the same sweep with the prior's N results imported, fed to the strategy exactly as the
 *   controller does (`fitAll` through the space, imported observations first, then its own runs).
 * The target is the cold sweep's regret after its budget (f(best) − f*). Printed: the runs each
 * sweep needs to reach it, median [IQR] over seeds; the warm sweep's runs are its own only (its
 * imported results are not its runs, and never its best). `∞` means not reached within the budget.
 *
 *   npm run bench:warm-start -- [--seeds 10] [--prior 20] [--only Branin,Hartmann3]
 */
import { parseArgs } from 'node:util';
import { createStrategy, fitAll, parseSweepConfig } from '../strategies/index.js';
import type { Observation } from '../strategies/types.js';
import { BENCH_FUNCTIONS, type BenchFunction } from './functions.js';

interface Flags {
  seeds: number;
  prior: number;
  only: string[] | null;
}

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({ args: argv, options: { seeds: { type: 'string' }, prior: { type: 'string' }, only: { type: 'string' } }, strict: true });
  const int = (v: string | undefined, d: number, name: string): number => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1 (got ${v})`);
    return n;
  };
  return { seeds: int(values.seeds, 10, 'seeds'), prior: int(values.prior, 20, 'prior'), only: values.only ? values.only.split(',') : null };
}

/** Runs a sequential Bayesian sweep of `budget` runs; returns its results and its regret after each run. */
function sweep(fn: BenchFunction, seed: number, budget: number, imported: readonly Observation[] = []): { results: Observation[]; regret: number[] } {
  const spec = parseSweepConfig({ ...fn.config, run_cap: budget });
  const strategy = createStrategy(spec, { seed });
  // What the controller's strategyInput does with imported results: seen through the space, first.
  const prior = fitAll(spec, imported).fit;
  const results: Observation[] = [];
  const regret: number[] = [];
  let best = Infinity;
  for (let t = 0; t < budget; t++) {
    const [p] = strategy.propose({ observations: [...prior, ...results], pending: [], count: 1 });
    if (!p) throw new Error(`${fn.name}: no proposal at run ${t + 1}`);
    const v = fn.evaluate(p.params);
    results.push({ params: p.params, state: 'finished', value: v });
    best = Math.min(best, v);
    regret.push(best - fn.fStar);
  }
  return { results, regret };
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return lo === hi || sorted[lo] === sorted[hi] ? sorted[lo]! : sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function summary(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const f = (v: number): string => (v === Infinity ? '∞' : Number.isInteger(v) ? String(v) : v.toFixed(1));
  return `${f(quantile(s, 0.5))} [${f(quantile(s, 0.25))}–${f(quantile(s, 0.75))}]`;
}

const reach = (regret: readonly number[], target: number): number => {
  const i = regret.findIndex((r) => r <= target);
  return i < 0 ? Infinity : i + 1;
};

function main(): void {
  let flags: Flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    console.error(`bench:warm-start: ${(err as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const functions = BENCH_FUNCTIONS.filter((f) => f.dims <= 3 && (flags.only === null || flags.only.includes(f.name)));
  if (functions.length === 0) throw new Error(`--only matched no function of ≤ 3 dimensions; have: ${BENCH_FUNCTIONS.filter((f) => f.dims <= 3).map((f) => f.name).join(', ')}`);
  console.log(`bench:warm-start — Bayesian sweep warm-started with ${flags.prior} results of a previous sweep on the same function, vs cold; ${flags.seeds} seeds`);
  console.log('Runs needed to reach the cold sweep\'s regret after its budget (the warm sweep\'s own runs), median [IQR]:\n');
  console.log(`${'function'.padEnd(16)}${'budget'.padEnd(8)}${'cold'.padEnd(18)}${'warm'.padEnd(18)}warm reached it in`);
  const regretRows: string[] = [];
  const halfRows: string[] = [];
  for (const fn of functions) {
    const cold: number[] = [];
    const warm: number[] = [];
    const cold25: number[] = [];
    const warm25: number[] = [];
    const at = [1, 10, 25, fn.budget];
    const coldAt: number[][] = at.map(() => []);
    const warmAt: number[][] = at.map(() => []);
    let reached = 0;
    const t0 = performance.now();
    for (let seed = 1; seed <= flags.seeds; seed++) {
      const prior = sweep(fn, seed + 1000, flags.prior).results;
      const c = sweep(fn, seed, fn.budget);
      const target = c.regret[fn.budget - 1]!;
      const w = sweep(fn, seed, fn.budget, prior);
      at.forEach((k, i) => {
        coldAt[i]!.push(c.regret[k - 1]!);
        warmAt[i]!.push(w.regret[k - 1]!);
      });
      const half = c.regret[Math.floor(fn.budget / 2) - 1]!;
      cold25.push(reach(c.regret, half));
      warm25.push(reach(w.regret, half));
      cold.push(reach(c.regret, target));
      const n = reach(w.regret, target);
      warm.push(n);
      if (n !== Infinity) reached++;
    }
    console.log(`${fn.name.padEnd(16)}${String(fn.budget).padEnd(8)}${summary(cold).padEnd(18)}${summary(warm).padEnd(18)}${reached}/${flags.seeds} seeds   (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    halfRows.push(`${fn.name.padEnd(16)}${String(Math.floor(fn.budget / 2)).padEnd(8)}${summary(cold25).padEnd(18)}${summary(warm25).padEnd(18)}${warm25.filter((n) => n !== Infinity).length}/${flags.seeds} seeds`);
    const med = (v: number[]): string => quantile([...v].sort((a, b) => a - b), 0.5).toExponential(1);
    regretRows.push(`${fn.name.padEnd(16)}${at.map((k, i) => `${`@${k}`.padEnd(5)}${med(coldAt[i]!).padEnd(9)}${med(warmAt[i]!).padEnd(11)}`).join('')}`);
  }
  console.log("\nRuns needed to reach the cold sweep's regret after half its budget:");
  for (const r of halfRows) console.log(r);
  console.log('\nMedian regret of the sweep\'s own best after k runs (cold, then warm):');
  for (const r of regretRows) console.log(r);
}

main();
