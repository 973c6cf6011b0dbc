/**
 * `npm run bench:quality`: the GP strategy against random search on six test functions, through
 * the library API (`parseSweepConfig` → `createStrategy`), plus an asynchronous arm where 4 and 8
 * simulated workers ask for runs while others are still pending.
 *
 *   node dist/bench/quality.js [--quick] [--seeds N] [--first-seed K] [--only Branin,Hartmann-3]
 *                              [--jobs N] [--bayes trust_region=false,prior=hvarfner]
 *
 * Reports median and interquartile range of simple regret (f(best so far) − f*) at 25/50/100
 * evaluations; for the asynchronous arm, the evaluations it needs to reach the sequential GP's
 * median regret after c evaluations (c = half, three quarters and all of the budget; the target
 * is read at the whole budget) and its duplicate proposals; and PASS/FAIL per target of issue 4.
 * 20 seeds by default (the issue asks for at least 10): on Rosenbrock-4, whose seeds end either
 * near the global valley or near the local minimum at f ≈ 3.7, the median of 10 seeds moved the
 * sequential reference regret between 2.7 and 3.6 from one set of seeds to the next.
 * Runs are spread over worker threads (one per core by default). `--bayes` sets keys of the sweep
 * file's `harrow.bayes` block for every GP arm (an ablation goes through the same library API).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { createStrategy, parseSweepConfig, Rng, valueKey } from '../strategies/index.js';
import type { Observation, Params } from '../strategies/types.js';
import { BENCH_FUNCTIONS, type BenchFunction } from './functions.js';
import { parseBayesFlag } from './bayes-flag.js';

type Arm = 'gp' | 'random' | 'async4' | 'async8';

interface Job {
  fn: string;
  arm: Arm;
  seed: number;
  /** The sweep file's `harrow.bayes` block for the GP arms (`--bayes`). */
  bayes: Record<string, unknown>;
}

interface JobResult extends Job {
  /** Simple regret of the best value after each evaluation (in completion order). */
  regret: number[];
  /** Simulated time at which each evaluation finished (run times U(0.5, 1.5), one or more workers). */
  finished: number[];
  duplicates: number;
  ms: number;
}

const CHECKPOINTS = [25, 50, 100];

function findFunction(name: string): BenchFunction {
  const fn = BENCH_FUNCTIONS.find((f) => f.name === name);
  if (!fn) throw new Error(`unknown benchmark function ${name}`);
  return fn;
}

/** One optimization run; sequential, or `workers` simulated agents with pending runs. */
function runJob(job: Job): JobResult {
  const fn = findFunction(job.fn);
  const bayes = job.arm !== 'random' && Object.keys(job.bayes).length > 0 ? { harrow: { bayes: job.bayes } } : {};
  const config = { ...fn.config, method: job.arm === 'random' ? 'random' : 'bayes', ...bayes };
  const spec = parseSweepConfig(config);
  const strategy = createStrategy(spec, { seed: job.seed });
  const start = performance.now();
  const observations: Observation[] = [];
  const regret: number[] = [];
  const finished: number[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  let best = Infinity;
  const record = (params: Params, at: number): void => {
    finished.push(at);
    const v = fn.evaluate(params);
    best = Math.min(best, v);
    regret.push(best - fn.fStar);
    observations.push({ params, state: 'finished', value: v });
  };
  const ask = (pending: Params[]): Params => {
    const [p] = strategy.propose({ observations, pending, count: 1 });
    if (!p) throw new Error(`${job.fn}/${job.arm}: no proposal`);
    const key = valueKey(p.params);
    if (seen.has(key)) duplicates++;
    seen.add(key);
    return p.params;
  };

  // Simulated run times, the same stream for every arm of a seed.
  const durations = Rng.from(job.seed, 0xd0);
  if (job.arm === 'gp' || job.arm === 'random') {
    let now = 0;
    for (let t = 0; t < fn.budget; t++) {
      const params = ask([]);
      now += 0.5 + durations.uniform();
      record(params, now);
    }
  } else {
    // Run 1.5× the budget so "1.5× the sequential evaluations" is observable at every level.
    const budget = Math.round(1.5 * fn.budget);
    // Simulated agents: run times drawn U(0.5, 1.5); whenever one finishes, its result is
    // observed and that agent asks again while the others' runs are pending.
    const workers = job.arm === 'async4' ? 4 : 8;
    const running: Array<{ params: Params; done: number }> = [];
    let now = 0;
    let started = 0;
    while (running.length < workers && started < budget) {
      running.push({ params: ask(running.map((r) => r.params)), done: now + 0.5 + durations.uniform() });
      started++;
    }
    while (running.length > 0) {
      running.sort((a, b) => a.done - b.done);
      const next = running.shift()!;
      now = next.done;
      record(next.params, now);
      if (started < budget) {
        running.push({ params: ask(running.map((r) => r.params)), done: now + 0.5 + durations.uniform() });
        started++;
      }
    }
  }
  return { ...job, regret, finished, duplicates, ms: performance.now() - start };
}

// ---------------------------------------------------------------------------------------------
// Worker-thread side: run the jobs handed over, one at a time.
if (!isMainThread) {
  const port = parentPort!;
  port.on('message', (job: Job | null) => {
    if (job === null) {
      port.close();
      return;
    }
    port.postMessage(runJob(job));
  });
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------

interface Flags {
  quick: boolean;
  seeds: number;
  only: string[] | null;
  jobs: number;
  /** Seeds are firstSeed … firstSeed + seeds − 1. */
  firstSeed: number;
  bayes: Record<string, unknown>;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { quick: false, seeds: 20, only: null, jobs: availableParallelism(), firstSeed: 0, bayes: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') flags.quick = true;
    else if (a === '--seeds') flags.seeds = Number.parseInt(value(), 10);
    else if (a === '--only') flags.only = value().split(',');
    else if (a === '--jobs') flags.jobs = Number.parseInt(value(), 10);
    else if (a === '--first-seed') flags.firstSeed = Number.parseInt(value(), 10);
    // Refused here, with the validator's message, rather than once per worker thread.
    else if (a === '--bayes') flags.bayes = parseBayesFlag(value(), (block) => parseSweepConfig({ ...BENCH_FUNCTIONS[0]!.config, harrow: { bayes: block } }));
    else throw new Error(`unknown flag ${a}; use --quick, --seeds N, --first-seed K, --only F1,F2, --jobs N, --bayes key=value,...`);
  }
  if (flags.quick && !argv.includes('--seeds')) flags.seeds = 3;
  if (!(flags.seeds >= 1)) throw new Error('--seeds needs a positive integer');
  if (!(flags.jobs >= 1)) throw new Error('--jobs needs a positive integer');
  if (!(flags.firstSeed >= 0)) throw new Error('--first-seed needs an integer ≥ 0');
  return flags;
}


async function runAll(jobs: Job[], threads: number, onDone: (r: JobResult) => void): Promise<void> {
  // Longest jobs first so the threads finish together.
  const cost = (j: Job): number => findFunction(j.fn).budget ** 2 * (j.arm === 'random' ? 0.01 : j.arm === 'gp' ? 1 : 3);
  const queue = [...jobs].sort((a, b) => cost(b) - cost(a));
  const workers = Array.from({ length: Math.min(threads, queue.length) }, () => new Worker(new URL(import.meta.url)));
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const feed = (): void => {
            const job = queue.shift();
            if (job) w.postMessage(job);
            else {
              w.postMessage(null);
              resolve();
            }
          };
          w.on('message', (r: JobResult) => {
            onDone(r);
            feed();
          });
          w.on('error', reject);
          feed();
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  // Interpolate only between distinct values: Infinity (not reached) must not turn into NaN.
  return lo === hi || sorted[lo] === sorted[hi] ? sorted[lo]! : sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function stats(values: number[]): { median: number; q1: number; q3: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), q1: quantile(s, 0.25), q3: quantile(s, 0.75) };
}

function fmt(v: number): string {
  if (v === Infinity) return '∞';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  return Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? v.toPrecision(3) : v.toExponential(2);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** First evaluation (1-based) at which the regret is ≤ r, or Infinity. */
function evalsToReach(regret: number[], r: number): number {
  const i = regret.findIndex((v) => v <= r);
  return i < 0 ? Infinity : i + 1;
}

async function main(): Promise<void> {
  let flags: Flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    // A bad flag (or a --bayes block the sweep parser refuses) is a usage error: its message, no stack.
    console.error(`bench:quality: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
    return;
  }
  const functions = BENCH_FUNCTIONS.filter((f) => flags.only === null || flags.only.includes(f.name));
  if (functions.length === 0) throw new Error(`--only matched no function; have: ${BENCH_FUNCTIONS.map((f) => f.name).join(', ')}`);
  const asyncArms: Arm[] = flags.quick ? ['async8'] : ['async4', 'async8'];
  const jobs: Job[] = [];
  for (const fn of functions) {
    for (let seed = flags.firstSeed; seed < flags.firstSeed + flags.seeds; seed++) {
      for (const arm of ['gp', 'random', ...asyncArms] as Arm[]) jobs.push({ fn: fn.name, arm, seed, bayes: flags.bayes });
    }
  }
  console.log(`bench:quality — GP (method: bayes) vs random search through parseSweepConfig + createStrategy`);
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${flags.seeds} seeds${flags.firstSeed > 0 ? ` from ${flags.firstSeed}` : ''}, ${jobs.length} runs on ${flags.jobs} threads${flags.quick ? ' (--quick)' : ''}`,
  );
  if (Object.keys(flags.bayes).length > 0) console.log(`harrow.bayes for the GP arms: ${JSON.stringify(flags.bayes)}`);
  const t0 = performance.now();
  const results: JobResult[] = [];
  let done = 0;
  await runAll(jobs, flags.jobs, (r) => {
    results.push(r);
    done++;
    if (process.stderr.isTTY) process.stderr.write(`\r${done}/${jobs.length} runs`);
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const of = (fn: string, arm: Arm): JobResult[] => results.filter((r) => r.fn === fn && r.arm === arm).sort((a, b) => a.seed - b.seed);

  console.log('\nSimple regret, median [IQR] over seeds');
  console.log(pad('function', 26) + pad('d', 3) + pad('budget', 8) + pad('method', 8) + CHECKPOINTS.map((c) => pad(`@${c}`, 28)).join('') + 'mean s/run');
  const targets: Array<{ name: string; target: string; measured: string; pass: boolean }> = [];
  for (const fn of functions) {
    for (const arm of ['gp', 'random'] as Arm[]) {
      const runs = of(fn.name, arm);
      const cells = CHECKPOINTS.map((c) => {
        if (c > fn.budget) return pad('—', 28);
        const s = stats(runs.map((r) => r.regret[c - 1]!));
        return pad(`${fmt(s.median)} [${fmt(s.q1)}, ${fmt(s.q3)}]`, 28);
      });
      const secs = runs.reduce((a, r) => a + r.ms, 0) / runs.length / 1000;
      console.log(
        pad(arm === 'gp' ? fn.name : '', 26) + pad(arm === 'gp' ? String(fn.dims) : '', 3) + pad(arm === 'gp' ? String(fn.budget) : '', 8) + pad(arm, 8) + cells.join('') + secs.toFixed(2),
      );
    }
    const at = Math.min(50, fn.budget);
    const gpMed = stats(of(fn.name, 'gp').map((r) => r.regret[at - 1]!)).median;
    const rsMed = stats(of(fn.name, 'random').map((r) => r.regret[at - 1]!)).median;
    if (['Branin', 'Six-hump camel', 'Hartmann-3'].includes(fn.name)) {
      targets.push({
        name: `${fn.name}: GP median regret @50 ≥ 10× lower than random`,
        target: `ratio ≥ 10`,
        measured: `${fmt(rsMed / gpMed)}× (${fmt(gpMed)} vs ${fmt(rsMed)})`,
        pass: gpMed * 10 <= rsMed,
      });
    }
    const gpEnd = stats(of(fn.name, 'gp').map((r) => r.regret[fn.budget - 1]!)).median;
    const rsEnd = stats(of(fn.name, 'random').map((r) => r.regret[fn.budget - 1]!)).median;
    targets.push({
      name: `${fn.name}: GP median regret @${fn.budget} below random's`,
      target: 'GP < random',
      measured: `${fmt(gpEnd)} vs ${fmt(rsEnd)}`,
      pass: gpEnd < rsEnd,
    });
  }

  console.log('\nAsynchronous arm: simulated workers (run times U(0.5, 1.5)), each asking with the others pending; runs of 1.5× the budget.');
  console.log('r*(c) = median sequential GP regret after c evaluations, so the sequential optimizer needs c evaluations to reach it;');
  console.log('columns: evaluations the asynchronous arm needs to reach r*(c), median [IQR] over seeds (∞: not reached in 1.5× the budget), and its ratio to c.');
  console.log('The target is read at c = the budget (the regret the sequential optimizer reaches with its budget); half and three quarters are reported beside it.');
  console.log('speedup: the sequential optimizer\'s median time to c evaluations over the median time the workers take to reach r*(c) (simulated run times).');
  console.log(
    pad('function', 26) + pad('c', 6) + pad('r*(c)', 11) + asyncArms.map((a) => pad(`${a.slice(5)} workers`, 22) + pad('ratio', 8) + pad('speedup', 9)).join(''),
  );
  const earlier: number[] = [];
  for (const fn of functions) {
    const seq = of(fn.name, 'gp');
    const levels = [Math.round(fn.budget / 2), Math.round((3 * fn.budget) / 4), fn.budget];
    for (const at of levels) {
      const rStar = stats(seq.map((r) => r.regret[at - 1]!)).median;
      const seqTime = stats(seq.map((r) => r.finished[at - 1]!)).median;
      let line = pad(at === levels[0] ? fn.name : '', 26) + pad(String(at), 6) + pad(fmt(rStar), 11);
      for (const arm of asyncArms) {
        const runs = of(fn.name, arm);
        const reach = runs.map((r) => evalsToReach(r.regret, rStar));
        const s = stats(reach);
        const ratio = s.median / at;
        // Simulated time of the evaluation that first reached r*(c).
        const time = stats(runs.map((r, i) => (Number.isFinite(reach[i]) ? r.finished[reach[i]! - 1]! : Infinity))).median;
        line += pad(`${fmt(s.median)} [${fmt(s.q1)}, ${fmt(s.q3)}]`, 22) + pad(fmt(ratio), 8) + pad(Number.isFinite(time) ? `${fmt(seqTime / time)}×` : '—', 9);
        if (arm !== 'async8') continue;
        if (at === fn.budget) {
          targets.push({
            name: `${fn.name}: 8 workers reach r*(${at}) within 1.5× the sequential ${at} evaluations`,
            target: 'ratio ≤ 1.5',
            measured: `${fmt(ratio)} (${fmt(s.median)} evaluations)`,
            pass: ratio <= 1.5,
          });
        } else earlier.push(ratio);
      }
      console.log(line);
    }
  }
  if (asyncArms.includes('async8') && earlier.length > 0) {
    const within = earlier.filter((r) => r <= 1.5).length;
    console.log(
      `8 workers at half and three quarters of the budget (not targets): ${within} of ${earlier.length} levels within 1.5×; ratios ${fmt(Math.min(...earlier))}–${fmt(Math.max(...earlier))}`,
    );
  }
  console.log('\nDuplicate proposals (same params as an earlier evaluated or pending run), summed over seeds');
  for (const fn of functions) {
    const parts: string[] = [];
    for (const arm of ['gp', ...asyncArms] as Arm[]) {
      const dup = of(fn.name, arm).reduce((a, r) => a + r.duplicates, 0);
      parts.push(`${arm === 'gp' ? 'sequential' : `${arm.slice(5)} workers`}: ${dup}`);
      targets.push({ name: `${fn.name}: no duplicate proposals (${arm === 'gp' ? 'sequential' : `${arm.slice(5)} workers`})`, target: '0', measured: String(dup), pass: dup === 0 });
    }
    console.log(pad(fn.name, 26) + parts.join(', '));
  }

  console.log('\nTargets (issue 4, point 7)');
  for (const t of targets) console.log(`${t.pass ? 'PASS' : 'FAIL'}  ${pad(t.name, 76)} target ${pad(t.target, 14)} measured ${t.measured}`);
  const failed = targets.filter((t) => !t.pass).length;
  console.log(`\n${targets.length - failed}/${targets.length} targets met; ${((performance.now() - t0) / 1000).toFixed(0)} s wall time`);
}
