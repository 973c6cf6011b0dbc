/**
 * `npm run bench:gp-extensions`: the GP strategy where real sweeps differ from clean test
 * functions (issue 17, points 2–4), through the library API (`parseSweepConfig` → `createStrategy`).
 *
 *   node dist/bench/gp-extensions.js [--seeds N] [--first-seed K] [--jobs N] [--only feasibility,noise,highdim]
 *                                    [--budget-highdim N] [--arms gp,gp-avoid,gp-impute,gp-classifier-only,gp-hvarfner,gp-optuna,gp-no-tr,random,tpe]
 *                                    [--problem SUBSTRING]
 *
 * - feasibility: Branin with a failing disc and Hartmann-3 with a failing half-space, each ≈30% of
 *   the space (the optima stay feasible). A failed run has no value (state `failed`). Arms:
 *   `harrow.bayes.failures: model` (feasibility classifier, constrained LogEI), `avoid` (the same
 *   with a hard chance constraint P ≥ min(0.95, 1 − EI/10)), `classifier-only`, against `impute`
 *   (W&B's worst-value imputation), and random search. Reports failures proposed by the GP (after
 *   the initial design; and, separately, only those proposed once a run had failed, since before
 *   the first failure no model has anything to learn from and every GP arm makes the same
 *   proposals), simple regret of the best feasible value, sweeps stuck in a local basin, and for
 *   each GP arm the issue's target against `impute`: failures at most a quarter, median regret
 *   equal or better, "equal" meaning within REGRET_TOLERANCE × the function's spread (below).
 * - noise: Branin and Hartmann-3 with additive Gaussian noise of sd = 2% of (median f − f*) over
 *   the space. Reports the noise-free regret of the best observed run and of `recommend()`'s
 *   configuration (best posterior mean) at the end of the budget.
 * - highdim: Ackley-20 on [−5, 10]^20, and Rosenbrock-5 on [−2, 2] and Styblinski-Tang on [−5, 5]
 *   each with 5 of 25 dimensions active. Arms:
 *   GP default (the Hvarfner prior above 10 dimensions), GP with the `optuna` prior, GP without
 *   the trust region, random, and Optuna's TPE
 *   when a python3 imports optuna ($PYTHON, python3, /usr/bin/python3: Debian's python3-optuna;
 *   a JSON-lines ask/tell bridge, the same seeds, the objective computed in Node).
 */
import { spawn } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { quantileSorted } from 'simple-statistics';
import { createStrategy, parseSweepConfig, recommend, Rng, sampleParams } from '../strategies/index.js';
import type { Observation, Params } from '../strategies/types.js';

type Section = 'feasibility' | 'noise' | 'highdim';

interface Problem {
  name: string;
  section: Section;
  budget: number;
  config: Record<string, unknown>;
  fStar: number;
  f(p: Params): number;
  /** Feasibility section: true where the run fails. */
  fails?(p: Params): boolean;
  /** Noise section: sd of the additive noise. */
  noiseSd?: number;
  /** Feasibility section: median f − f* over the space (spreadOf). */
  spread?: number;
}

function num(p: Params, k: string): number {
  const v = p[k];
  if (typeof v !== 'number') throw new Error(`parameter ${k} is ${JSON.stringify(v)}`);
  return v;
}

function sweep(parameters: Record<string, unknown>): Record<string, unknown> {
  return { method: 'bayes', metric: { name: 'loss', goal: 'minimize' }, parameters, program: 'bench.py' };
}

function uniforms(names: string[], min: number, max: number): Record<string, unknown> {
  return Object.fromEntries(names.map((n) => [n, { distribution: 'uniform', min, max }]));
}

function branin(p: Params): number {
  const x1 = num(p, 'x1');
  const x2 = num(p, 'x2');
  const b = 5.1 / (4 * Math.PI * Math.PI);
  return (x2 - b * x1 * x1 + (5 / Math.PI) * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
}
const BRANIN_CONFIG = sweep({ x1: { distribution: 'uniform', min: -5, max: 10 }, x2: { distribution: 'uniform', min: 0, max: 15 } });

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
const H3_C = [1, 1.2, 3, 3.2];
function hartmann3(p: Params): number {
  const x = [num(p, 'x1'), num(p, 'x2'), num(p, 'x3')];
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let e = 0;
    for (let j = 0; j < 3; j++) e += H3_A[i]![j]! * (x[j]! - H3_P[i]![j]!) ** 2;
    s -= H3_C[i]! * Math.exp(-e);
  }
  return s;
}
const H3_CONFIG = sweep(uniforms(['x1', 'x2', 'x3'], 0, 1));

function ackley(p: Params, names: string[]): number {
  const d = names.length;
  let s1 = 0;
  let s2 = 0;
  for (const k of names) {
    const v = num(p, k);
    s1 += v * v;
    s2 += Math.cos(2 * Math.PI * v);
  }
  return -20 * Math.exp(-0.2 * Math.sqrt(s1 / d)) - Math.exp(s2 / d) + 20 + Math.E;
}

const names = (d: number): string[] => Array.from({ length: d }, (_, i) => `x${i + 1}`);
const N20 = names(20);
const N25 = names(25);
/** The five dimensions that matter in the 25-dimensional problem (spread, not the first five). */
const ACTIVE = ['x3', 'x8', 'x13', 'x17', 'x22'];

/** The spread of f: median of f over 2000 uniform points − f*. */
function spreadOf(config: Record<string, unknown>, f: (p: Params) => number, fStar: number): number {
  const spec = parseSweepConfig(config);
  const rng = Rng.from(12345);
  const vals = Array.from({ length: 2000 }, () => f(sampleParams(spec.parameters, rng))).sort((a, b) => a - b);
  return quantileSorted(vals, 0.5) - fStar;
}

/** 2% of the spread: "validation loss ± 2%". */
function noiseSdFor(config: Record<string, unknown>, f: (p: Params) => number, fStar: number): number {
  return 0.02 * spreadOf(config, f, fStar);
}

/**
 * Feasibility section: two median regrets count as equal when they differ by at most this
 * fraction of the function's spread. Fixed before the verdict seeds (20–39) were run, and applied
 * to every arm alike: at 50 runs every GP arm sits at 10⁻⁹–10⁻⁷ of regret, where which arm is
 * lower changes with floating-point rounding (a refactor that only reordered the barrier's
 * arithmetic moved Branin's failures 5 → 4 and its median regret 2×); 10⁻⁶ of the spread is
 * 1000× below the resolution the GP itself claims (its noise floor, a standard deviation of 10⁻³
 * of the standardized values) and far below any difference a user could act on.
 */
const REGRET_TOLERANCE = 1e-6;
/** A sweep whose final regret exceeds this fraction of the spread is counted as stuck (in a local basin). */
const STUCK_REGRET = 1e-3;

const BRANIN_STAR = 0.39788735772973816;
const H3_STAR = -3.86278214782076;

const PROBLEMS: Problem[] = [
  {
    name: 'Branin, failing disc (30%)',
    section: 'feasibility',
    budget: 50,
    config: BRANIN_CONFIG,
    fStar: BRANIN_STAR,
    f: branin,
    spread: spreadOf(BRANIN_CONFIG, branin, BRANIN_STAR),
    // Disc of area 0.3 at the centre of the unit square; the minimum at (π, 2.275) lies 0.04 outside it.
    fails: (p) => ((num(p, 'x1') + 5) / 15 - 0.5) ** 2 + (num(p, 'x2') / 15 - 0.5) ** 2 < 0.3 / Math.PI,
  },
  {
    name: 'Hartmann-3, failing half-space (30%)',
    section: 'feasibility',
    budget: 50,
    config: H3_CONFIG,
    fStar: H3_STAR,
    f: hartmann3,
    spread: spreadOf(H3_CONFIG, hartmann3, H3_STAR),
    // x1 + x2 > 2 − √0.6 cuts 30% of the cube; the minimum has x1 + x2 ≈ 0.67.
    fails: (p) => num(p, 'x1') + num(p, 'x2') > 2 - Math.sqrt(0.6),
  },
  {
    name: 'Branin + noise',
    section: 'noise',
    budget: 50,
    config: BRANIN_CONFIG,
    fStar: BRANIN_STAR,
    f: branin,
    noiseSd: noiseSdFor(BRANIN_CONFIG, branin, BRANIN_STAR),
  },
  {
    name: 'Hartmann-3 + noise',
    section: 'noise',
    budget: 50,
    config: H3_CONFIG,
    fStar: H3_STAR,
    f: hartmann3,
    noiseSd: noiseSdFor(H3_CONFIG, hartmann3, H3_STAR),
  },
  {
    name: 'Ackley-20 [-5,10]',
    section: 'highdim',
    budget: 100,
    config: sweep(uniforms(N20, -5, 10)),
    fStar: 0,
    f: (p) => ackley(p, N20),
  },
  {
    name: 'Rosenbrock 5 of 25',
    section: 'highdim',
    budget: 100,
    config: sweep(uniforms(N25, -2, 2)),
    fStar: 0,
    f: (p) => {
      let s = 0;
      for (let i = 0; i + 1 < ACTIVE.length; i++) s += 100 * (num(p, ACTIVE[i + 1]!) - num(p, ACTIVE[i]!) ** 2) ** 2 + (1 - num(p, ACTIVE[i]!)) ** 2;
      return s;
    },
  },
  {
    name: 'Styblinski-Tang 5 of 25',
    section: 'highdim',
    budget: 100,
    config: sweep(uniforms(N25, -5, 5)),
    fStar: -39.16616570377142 * 5,
    f: (p) => ACTIVE.reduce((s, k) => s + (num(p, k) ** 4 - 16 * num(p, k) ** 2 + 5 * num(p, k)) / 2, 0),
  },
];

type Arm = 'gp' | 'gp-avoid' | 'gp-impute' | 'gp-classifier-only' | 'gp-hvarfner' | 'gp-optuna' | 'gp-no-tr' | 'random' | 'tpe';
const ARMS: Record<Section, Arm[]> = {
  feasibility: ['gp', 'gp-avoid', 'gp-classifier-only', 'gp-impute', 'random'],
  noise: ['gp'],
  highdim: ['gp', 'gp-optuna', 'gp-no-tr', 'random', 'tpe'],
};

interface Job {
  problem: string;
  arm: Arm;
  seed: number;
  budget: number;
}

interface JobResult extends Job {
  /** Regret of the best feasible (noise-free) value after each evaluation. */
  regret: number[];
  /** Failures among the GP's own proposals (source `gp`), and among all evaluations. */
  gpFailures: number;
  /** The same, counting only proposals made once the observations held a failure. */
  gpFailuresAfterFirst: number;
  failures: number;
  /** Noise section: noise-free regret of the best observed run and of recommend()'s run. */
  observedRegret?: number;
  recommendedRegret?: number;
  /** The same with the strategy's Yeo–Johnson transform before the fit (not recommend()'s default). */
  recommendedYjRegret?: number;
  ms: number;
}

function problem(name: string): Problem {
  const p = PROBLEMS.find((q) => q.name === name);
  if (!p) throw new Error(`unknown problem ${name}`);
  return p;
}

function armConfig(pr: Problem, arm: Arm): Record<string, unknown> {
  if (arm === 'random') return { ...pr.config, method: 'random' };
  const bayes = arm === 'gp-avoid' ? { failures: 'avoid' } : arm === 'gp-impute' ? { failures: 'impute' } : arm === 'gp-classifier-only' ? { failures: 'classifier-only' } : arm === 'gp-hvarfner' ? { prior: 'hvarfner' } : arm === 'gp-optuna' ? { prior: 'optuna' } : arm === 'gp-no-tr' ? { trust_region: false } : {};
  return { ...pr.config, method: 'bayes', harrow: { bayes } };
}

function runJob(job: Job): JobResult {
  const pr = problem(job.problem);
  const spec = parseSweepConfig(armConfig(pr, job.arm));
  const strategy = createStrategy(spec, { seed: job.seed });
  const noise = Rng.from(job.seed, 0x9015e);
  const observations: Observation[] = [];
  const truth: number[] = [];
  const regret: number[] = [];
  let best = Infinity;
  let failures = 0;
  let gpFailures = 0;
  let gpFailuresAfterFirst = 0;
  const t0 = performance.now();
  for (let t = 0; t < job.budget; t++) {
    const [p] = strategy.propose({ observations, pending: [], count: 1 });
    if (!p) throw new Error(`${job.problem}/${job.arm}: no proposal`);
    const fail = pr.fails?.(p.params) ?? false;
    if (fail) {
      failures++;
      if (p.info?.source === 'gp') {
        gpFailures++;
        if (failures > 1) gpFailuresAfterFirst++;
      }
      observations.push({ params: p.params, state: 'failed', value: null });
      truth.push(NaN);
    } else {
      const f = pr.f(p.params);
      truth.push(f);
      best = Math.min(best, f);
      const v = pr.noiseSd ? f + pr.noiseSd * noise.normal() : f;
      observations.push({ params: p.params, state: 'finished', value: v });
    }
    regret.push(best - pr.fStar);
  }
  const out: JobResult = { ...job, regret, failures, gpFailures, gpFailuresAfterFirst, ms: performance.now() - t0 };
  if (pr.noiseSd) {
    const rec = recommend(spec, observations);
    out.observedRegret = truth[rec.bestObserved!.index]! - pr.fStar;
    out.recommendedRegret = truth[rec.recommended!.index]! - pr.fStar;
    out.recommendedYjRegret = truth[recommend(spec, observations, { outputTransform: 'yeo-johnson' }).recommended!.index]! - pr.fStar;
  }
  return out;
}

/** The interpreter the TPE bridge runs: $PYTHON, python3 on PATH, or Debian's (python3-optuna). */
let python = 'python3';

/** Optuna TPE through a python3 child (ask/tell as JSON lines); the objective stays in Node. */
const TPE_BRIDGE = `
import json, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
spec = json.loads(sys.argv[1])
dists = {k: optuna.distributions.FloatDistribution(lo, hi) for k, lo, hi in spec["params"]}
study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=spec["seed"]))
for line in sys.stdin:
    trial = study.ask(dists)
    print(json.dumps(trial.params), flush=True)
    study.tell(trial, float(sys.stdin.readline()))
`;

async function runTpe(job: Job): Promise<JobResult> {
  const pr = problem(job.problem);
  const params = Object.entries(pr.config.parameters as Record<string, { min: number; max: number }>).map(([k, v]) => [k, v.min, v.max]);
  const child = spawn(python, ['-c', TPE_BRIDGE, JSON.stringify({ params, seed: job.seed })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const regret: number[] = [];
  let best = Infinity;
  const t0 = performance.now();
  for (let t = 0; t < job.budget; t++) {
    child.stdin.write('ask\n');
    const next = await lines.next();
    if (next.done) throw new Error('the Optuna bridge ended early');
    const f = pr.f(JSON.parse(next.value) as Params);
    child.stdin.write(`${f}\n`);
    best = Math.min(best, f);
    regret.push(best - pr.fStar);
  }
  child.stdin.end();
  return { ...job, regret, failures: 0, gpFailures: 0, gpFailuresAfterFirst: 0, ms: performance.now() - t0 };
}

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

async function runAll(jobs: Job[], threads: number): Promise<JobResult[]> {
  const results: JobResult[] = [];
  const queue = [...jobs].sort((a, b) => b.budget - a.budget);
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
            results.push(r);
            if (process.stderr.isTTY) process.stderr.write(`\r${results.length}/${jobs.length}`);
            feed();
          });
          w.on('error', reject);
          feed();
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
  return results;
}

function stats(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `${fmt(quantileSorted(s, 0.5))} [${fmt(quantileSorted(s, 0.25))}, ${fmt(quantileSorted(s, 0.75))}]`;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  return Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? v.toPrecision(3) : v.toExponential(2);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let seeds = 5;
  let firstSeed = 0;
  let jobsN = availableParallelism();
  let only: Section[] = ['feasibility', 'noise', 'highdim'];
  let budgetHighdim = 100;
  let arms: Arm[] | null = null;
  let problemFilter = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--seeds') seeds = Number.parseInt(v, 10);
    else if (a === '--first-seed') firstSeed = Number.parseInt(v, 10);
    else if (a === '--jobs') jobsN = Number.parseInt(v, 10);
    else if (a === '--only') only = v.split(',') as Section[];
    else if (a === '--budget-highdim') budgetHighdim = Number.parseInt(v, 10);
    else if (a === '--arms') arms = v.split(',') as Arm[];
    else if (a === '--problem') problemFilter = v;
    else throw new Error(`unknown flag ${a}; use --seeds N, --first-seed K, --jobs N, --only feasibility,noise,highdim, --budget-highdim N, --arms gp,random,..., --problem SUBSTRING`);
  }
  const tpe = only.includes('highdim') && (await hasOptuna());
  const jobs: Job[] = [];
  for (const pr of PROBLEMS.filter((p) => only.includes(p.section) && p.name.includes(problemFilter))) {
    for (const arm of ARMS[pr.section]) {
      if ((arm === 'tpe' && !tpe) || (arms !== null && !arms.includes(arm))) continue;
      for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
        jobs.push({ problem: pr.name, arm, seed, budget: pr.section === 'highdim' ? budgetHighdim : pr.budget });
      }
    }
  }
  console.log(`bench:gp-extensions — ${only.join(', ')}; ${seeds} seeds; node ${process.version}, ${cpus()[0]?.model ?? '?'}, load ${loadavg()[0]!.toFixed(1)}`);
  if (only.includes('highdim')) console.log(tpe ? `Optuna's TPE through ${python}` : "Optuna's TPE: skipped (no python3 here imports optuna; set PYTHON)");
  const t0 = performance.now();
  const results = await runAll(
    jobs.filter((j) => j.arm !== 'tpe'),
    jobsN,
  );
  for (const j of jobs.filter((j) => j.arm === 'tpe')) results.push(await runTpe(j));
  if (process.stderr.isTTY) process.stderr.write('\n');
  const of = (name: string, arm: Arm): JobResult[] => results.filter((r) => r.problem === name && r.arm === arm);

  if (only.includes('feasibility')) {
    console.log(
      '\nFeasibility: failures proposed by the GP after the initial design (sum over seeds; in brackets, only those proposed once a run had failed: before that every GP arm is the same optimizer),' +
        ' all failures, simple regret of the best feasible value, median [IQR], and sweeps stuck (final regret > ' +
        `${STUCK_REGRET} × spread). Against impute: failures ≤ ¼ (both countings) and median regret ≤ impute's + ${REGRET_TOLERANCE} × spread`,
    );
    for (const pr of PROBLEMS.filter((p) => p.section === 'feasibility')) {
      let first = true;
      const tol = REGRET_TOLERANCE * pr.spread!;
      const median = (rs: JobResult[]): number => quantileSorted([...rs.map((r) => r.regret[pr.budget - 1]!)].sort((a, b) => a - b), 0.5);
      const impute = of(pr.name, 'gp-impute');
      for (const arm of ARMS.feasibility) {
        const rs = of(pr.name, arm);
        if (rs.length === 0) continue;
        const label = first ? `${pr.name} (tolerance ${fmt(tol)})` : '';
        first = false;
        const mid = Math.round(pr.budget / 2);
        const gpF = sum(rs.map((r) => r.gpFailures));
        const gpA = sum(rs.map((r) => r.gpFailuresAfterFirst));
        let verdict = '';
        if (arm !== 'random' && arm !== 'gp-impute' && impute.length === rs.length) {
          const iF = sum(impute.map((r) => r.gpFailures));
          const iA = sum(impute.map((r) => r.gpFailuresAfterFirst));
          const m = median(rs);
          const im = median(impute);
          verdict =
            `  vs impute: failures ${4 * gpF <= iF ? 'met' : 'NOT met'} (${gpF}/${iF}), after the first ${4 * gpA <= iA ? 'met' : 'NOT met'} (${gpA}/${iA}); ` +
            `regret ${m <= im ? 'better or equal' : m <= im + tol ? 'equal within tolerance' : 'WORSE'} (${fmt(m)} vs ${fmt(im)})`;
        }
        console.log(
          pad(label, 58) +
            pad(arm === 'random' ? 'random' : `failures: ${arm === 'gp' ? 'model' : arm.slice(3)}`, 26) +
            pad(`GP failures ${arm === 'random' ? '—' : `${gpF} (${gpA})`}`, 22) +
            pad(`all ${sum(rs.map((r) => r.failures))}`, 9) +
            pad(`@${mid} ${stats(rs.map((r) => r.regret[mid - 1]!))}`, 34) +
            pad(`@${pr.budget} ${stats(rs.map((r) => r.regret[pr.budget - 1]!))}`, 36) +
            `stuck ${rs.filter((r) => r.regret[pr.budget - 1]! > STUCK_REGRET * pr.spread!).length}` +
            verdict,
        );
      }
    }
  }
  if (only.includes('noise')) {
    console.log('\nNoise: noise-free regret at the end of the budget of the best observed run vs recommend() (best posterior mean), median [IQR]; wins = seeds where the recommendation is strictly better / worse');
    for (const pr of PROBLEMS.filter((p) => p.section === 'noise')) {
      const rs = of(pr.name, 'gp');
      const better = rs.filter((r) => r.recommendedRegret! < r.observedRegret! - 1e-12).length;
      const worse = rs.filter((r) => r.recommendedRegret! > r.observedRegret! + 1e-12).length;
      console.log(
        pad(`${pr.name} (sd ${fmt(pr.noiseSd!)})`, 36) +
          pad(`best observed ${stats(rs.map((r) => r.observedRegret!))}`, 44) +
          pad(`recommended ${stats(rs.map((r) => r.recommendedRegret!))}`, 42) +
          pad(`better ${better}, worse ${worse} of ${rs.length}`, 26) +
          `(with Yeo–Johnson: ${stats(rs.map((r) => r.recommendedYjRegret!))}, better ${rs.filter((r) => r.recommendedYjRegret! < r.observedRegret! - 1e-12).length}, worse ${rs.filter((r) => r.recommendedYjRegret! > r.observedRegret! + 1e-12).length})`,
      );
    }
  }
  if (only.includes('highdim')) {
    console.log(`\nHigh dimensions: simple regret, median [IQR], budget ${budgetHighdim}; mean seconds per run`);
    for (const pr of PROBLEMS.filter((p) => p.section === 'highdim')) {
      let first = true;
      for (const arm of ARMS.highdim) {
        const rs = of(pr.name, arm);
        if (rs.length === 0) continue;
        const label = first ? pr.name : '';
        first = false;
        const cps = [Math.round(budgetHighdim / 2), budgetHighdim];
        console.log(
          pad(label, 28) +
            pad(arm, 13) +
            cps.map((c) => pad(`@${c} ${stats(rs.map((r) => r.regret[c - 1]!))}`, 34)).join('') +
            (sum(rs.map((r) => r.ms)) / rs.length / 1000).toFixed(1),
        );
      }
    }
  }
  console.log(`\n${((performance.now() - t0) / 1000).toFixed(0)} s wall time`);
}

async function hasOptuna(): Promise<boolean> {
  for (const candidate of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (candidate === undefined) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const c = spawn(candidate, ['-c', 'import optuna'], { stdio: 'ignore' });
      c.on('error', () => resolve(false));
      c.on('exit', (code) => resolve(code === 0));
    });
    if (ok) {
      python = candidate;
      return true;
    }
  }
  return false;
}
