/**
 * `method: bayes`: a Gaussian-process optimizer over the unit-cube encoding of the sweep.
 *
 * - Start: a scrambled Sobol design of clamp(2d, 5, 10) points (at most run_cap/5, never below
 *   5), counted over finished runs; while fewer have finished, further points come from the same
 *   sequence, addressed by the number of runs so far (so a restarted controller resumes it).
 * - Model: Matérn-5/2 ARD + Hamming terms, learned noise, MAP hyperparameters (projected L-BFGS,
 *   warm-started from the previous fit). Outcomes are oriented by metric.goal, then Yeo–Johnson
 *   transformed and z-scored.
 * - Proposal: LogEI maximized by QMC candidates → restarts → local search, inside a TuRBO-style
 *   trust region around the incumbent (continuous dimensions; `trustRegion: false` searches the
 *   whole space). Pending runs enter as fantasies (LogEI averaged over joint samples of their
 *   outcomes; the Kriging believer is the fallback). Never a duplicate of an evaluated or
 *   pending configuration.
 * - Large sweeps: past `refitAlwaysBelow` observations the hyperparameters are refit every
 *   ⌈n/100⌉ new observations (the factor is extended incrementally in between), the fit uses a
 *   quality-chosen subset of `fitSubsetMax` points, the posterior at most `trainMax`.
 * - Every fallback (to the design sequence, to the prior mode, to another candidate, to the
 *   Kriging believer, to plain LogEI) is reported in `info.warnings`.
 *
 * Two defaults go beyond gp-bo.md's recommendation because the benchmarks measured them better:
 * the Yeo–Johnson outcome transform (10 seeds per function, median simple regret), and a noise
 * floor of 1e-10 instead of Optuna's 1e-6 (priors.ts: at 1e-6 sweeps on deterministic objectives
 * stalled, and warm-started ones with them).
 *
 * The instance keeps the last fit for warm starts; the output is a function of (spec, seed, the
 * sequence of propose calls). It is synchronous and pure; the controller runs it in a worker.
 */
import { higherIsBetterSign } from '../objective.js';
import type { Dimension, EncodedSpace, MetricSpec, Observation, Params, Proposal, ProposeInput, Strategy } from '../types.js';
import { Rng } from '../space/rng.js';
import { valueKey } from '../space/value-key.js';
import { LogEiAcquisition } from './acquisition.js';
import { discreteSize, fromUnitCube, levelOf, optimizeAcquisition } from './acq-optimizer.js';
import { fitHyperparameters, thetaToHyper, type GpHyperparameters } from './gp-fit.js';
import { GpPosterior } from './gp-posterior.js';
import { PRIOR_PRESETS, type PriorPreset } from './priors.js';
import { createQmcSequence, type QmcSequence } from './qmc.js';
import { selectSubset } from './subset.js';
import { fitOutputTransform, type OutputTransformKind } from './output-transform.js';
import { buildTrainingSet, type FailureHandling } from './training-set.js';
import { chanceLogLevel, ConstrainedAcquisition, FeasibilityModel } from './feasibility.js';
import { CurveImputer } from './multi-fidelity.js';
import { replayTrustRegion, trustRegionBox, type Box } from './trust-region.js';

export interface BayesTuning {
  /** Hyperparameter priors: `optuna` (default up to 10 dimensions) or `hvarfner` (default above). */
  prior?: PriorPreset;
  /** Pin the noise at its floor (1e-10 of the standardized outcomes' variance), for objectives known to be deterministic. */
  deterministic?: boolean;
  /** Size of the initial design; default clamp(2d, 5, 10), capped by run_cap/5 (never below 5). */
  initialDesign?: number;
  /**
   * QMC candidates per proposal at n ≤ 200; scaled by (200/n)² above, at least 256. Default 1024
   * (BoTorch's; Optuna uses 2048): on the six benchmark functions 1024 and 2048 gave the same
   * median regret, and scoring them is the largest cost of a proposal at 100 observations.
   */
  rawSamples?: number;
  /** Local searches per proposal. Default 10. */
  restarts?: number;
  /**
   * How pending runs enter the acquisition: `fantasy` (default; LogEI averaged over 16 joint
   * posterior samples of the pending outcomes) or `kriging-believer` (pending outcomes believed
   * to be the posterior mean). With 8 simulated workers the believer reached the sequential
   * optimizer's regret in somewhat fewer evaluations on four of the six test functions, but it
   * gets there partly by proposing near-replicates of pending runs once the model is confident
   * (8 parallel proposals within 1e-4 of each other on Branin), which is not what N agents
   * should be given; the fantasies keep proposals apart.
   *
   * Also measured with 8 simulated workers (30 seeds on the 2–3-dimensional functions, 20 on the
   * others) and not adopted: hard local penalizers around pending runs (González et al. 2016 with
   * Alvi et al. 2019's hard form, global or local Lipschitz estimate) needed fewer evaluations at
   * half the budget on Branin (1.43–1.57× the sequential count against 1.67×) but more on
   * Ackley-5 (2.03× against 1.56×) and never reached Rosenbrock-4's three-quarter-budget regret;
   * a constant liar at the best or the mean value never reached the half-budget regret on
   * Branin or Hartmann-3; QMC base normals for the fantasies, 2048 candidates with 20 local
   * searches, and starting the GP once half the design has finished were within noise. The
   * last (Ax's rule: the design handed out and ⌈n_init/2⌉ of it finished) was measured again
   * with the trust region (20 seeds; 40 on Rosenbrock-4): the half-budget ratio moved by −0.13
   * to +0.08 across the six functions, in both directions, so the GP still waits for n_init.
   */
  pendingMode?: 'fantasy' | 'kriging-believer';
  /** Fantasy samples for pending runs (`pendingMode: 'fantasy'`). Default 16. */
  fantasySamples?: number;
  /** With more pending runs than this, fantasies fall back to the Kriging believer. Default 64. */
  fantasyMaxPending?: number;
  /** Refit the hyperparameters at every proposal up to this many observations. Default 200. */
  refitAlwaysBelow?: number;
  /** The hyperparameter fit uses at most this many observations (a quality subset). Default 250. */
  fitSubsetMax?: number;
  /** The posterior uses at most this many observations (a quality subset). Default 1000. */
  trainMax?: number;
  /** Also fit from the prior mode (not only the warm start) up to this many observations. Default 60. */
  dualStartBelow?: number;
  /** L-BFGS iterations of a cold hyperparameter fit. Default 100 (30 past refitAlwaysBelow). */
  fitMaxIterations?: number;
  /**
   * L-BFGS iterations of a fit warm-started from the previous one. Default 12: the fit resumes at
   * the next proposal, and 12 vs 25 iterations gave the same median regret on the benchmark.
   */
  fitWarmIterations?: number;
  /**
   * Outcome transform before z-scoring: `yeo-johnson` (default, λ by maximum likelihood) or
   * `standardize` only. The transform cut median regret at the end of the budget 2× on Branin,
   * ~1000× on Six-hump camel, 4× on Rosenbrock-4, 13× on the mixed function, slightly on
   * Hartmann-3, and left Ackley-5 unchanged: heavy-tailed losses otherwise force short length
   * scales and an over-exploring model.
   */
  outputTransform?: OutputTransformKind;
  /** Fit stops when the loss gradient's ∞-norm is below this per observation. Default 1e-4. */
  fitGtolPerObservation?: number;
  /**
   * Search the acquisition inside a TuRBO-style trust region around the incumbent (continuous
   * dimensions; see trust-region.ts). Default true. bench:quality, 20 seeds, against `false`:
   * median sequential regret lower at half the budget on all six functions (3× on Rosenbrock-4,
   * 50–100× on Branin, Six-hump camel and Mixed-5) and at the end on five (Rosenbrock-4: 3.74
   * against 3.63); 8 simulated workers reached the end-of-budget regret in 0.91–1.28× the
   * sequential evaluations against 0.89–1.37×, and on Rosenbrock-4 over 40 seeds in 1.09×
   * against 1.43×. `false` searches the whole space at every proposal.
   */
  trustRegion?: boolean;
  /**
   * How failed and crashed runs (and finished runs without a finite value) reach the model:
   * `model` (default) imputes them per metric.impute as W&B does *and* fits a feasibility
   * classifier, maximizing ln EI + ln P(feasible) with a chance-constraint barrier
   * (feasibility.ts); `avoid` is `model` with a hard chance constraint, P(feasible) ≥ 0.95 and
   * more as the expected improvement shrinks (the risk of a failure must be paid for by EI), on
   * a classifier that claims feasibility only near runs that ended (far fewer failed runs, less
   * exploration once a run has failed); `classifier-only` drops the made-up worst value;
   * `impute` is W&B's way alone. With no failure among the observations all four are the same
   * optimizer.
   * bench:gp-extensions, seeds 20–39, failing disc on Branin / half-space on Hartmann-3 (30%):
   * failures proposed by the GP 17 / 22 (model), 3 / 2 (avoid), 69 / 46 (classifier-only),
   * 17 / 43 (impute). Median regrets after 50 runs are all 1e-8–1e-7; `avoid` leaves more
   * sweeps in a local basin (Hartmann-3: 3 of 20 against 1 for model and impute), hence not
   * the default (figures in the main README).
   */
  failures?: FailureHandling;
  /**
   * The feasibility classifier is fit, and predicts, on at most this many runs (a quality
   * subset). Default 100: it is refit at every proposal and scored with every acquisition
   * value, and at 200 runs in 20 dimensions with 30% failed the full set doubled the time of a
   * proposal (bench:latency); a failing region's boundary needs far fewer runs than the
   * objective's optimum.
   */
  feasibilitySubsetMax?: number;
  /**
   * Give stopped runs that carry `Observation.curve` their final value predicted by a GP over
   * (configuration, budget) instead of `metric.impute` (multi-fidelity.ts). Default false.
   */
  multiFidelity?: boolean;
}

export interface BayesOptions extends BayesTuning {
  seed: number;
}

/** Without a `prior`, more searched dimensions than this get the `hvarfner` preset. */
export const HVARFNER_ABOVE_DIMS = 10;

/** The prior preset a GP over `dims` dimensions uses: the sweep's `prior`, else by dimension (above). */
export function priorPreset(prior: PriorPreset | undefined, dims: number): PriorPreset {
  return prior ?? (dims > HVARFNER_ABOVE_DIMS ? 'hvarfner' : 'optuna');
}

/** Continuous coordinates closer than this (in the unit cube) are the same configuration. */
const SAME_POINT_TOL = 1e-6;
/** Above this learned noise the incumbent is the best posterior mean, not the best observation. */
const NOISY_INCUMBENT = 1e-3;

class KnownPoints {
  private readonly keys = new Set<string>();
  private readonly coords: Float64Array[] = [];
  constructor(private readonly dims: readonly Dimension[]) {}

  add(x: Float64Array, params: Params | null): void {
    this.coords.push(x);
    if (params !== null) this.keys.add(valueKey(params));
  }

  has(x: Float64Array, params: Params): boolean {
    if (this.keys.has(valueKey(params))) return true;
    const { dims } = this;
    outer: for (const c of this.coords) {
      for (let j = 0; j < dims.length; j++) {
        const dim = dims[j]!;
        const a = x[j]!;
        const b = c[j]!;
        if (dim.kind === 'continuous') {
          if (Math.abs(a - b) > SAME_POINT_TOL) continue outer;
        } else if (dim.kind === 'discrete') {
          if (levelOf(a, dim.levels) !== levelOf(b, dim.levels)) continue outer;
        } else if (a !== b) continue outer;
      }
      return true;
    }
    return false;
  }

  get size(): number {
    return this.coords.length;
  }
}

interface ModelState {
  theta: Float64Array | null;
  hyper: GpHyperparameters | null;
  fitN: number;
  posterior: GpPosterior | null;
  /** The posterior's training subset (indices into the training set) when n > trainMax. */
  subset: { idx: Int32Array; nAll: number } | null;
  /** The feasibility classifier's last θ, for a warm start. */
  feasibilityTheta: Float64Array | null;
}

export class BayesStrategy implements Strategy {
  readonly method = 'bayes' as const;
  readonly size: number | null;
  private readonly space: EncodedSpace;
  private readonly dims: readonly Dimension[];
  private readonly d: number;
  private readonly isCat: Uint8Array;
  private readonly isContinuous: Uint8Array;
  private readonly metric: MetricSpec;
  private readonly seed: number;
  private readonly opts: Required<BayesTuning>;
  private readonly nInit: number;
  private readonly design: QmcSequence;
  private readonly state: ModelState = { theta: null, hyper: null, fitN: 0, posterior: null, subset: null, feasibilityTheta: null };
  private readonly curves: CurveImputer | null;

  constructor(space: EncodedSpace, metric: MetricSpec, options: BayesOptions & { runCap?: number }) {
    if (!Number.isFinite(options.seed)) throw new RangeError(`bayes: seed must be a finite number (got ${options.seed})`);
    // Hvarfner's dimension-scaled prior past 10 dimensions (gp-bo.md's advice, now measured):
    // bench:gp-extensions, 5 seeds, 100 evaluations, median regret on Ackley-20 6.37 against 8.15
    // with `optuna` (TPE 8.11, random 10.6), equal on Styblinski-Tang with 5 of 25 dimensions
    // active, and faster proposals; every bench:quality function has ≤ 5 dimensions.
    const prior = priorPreset(options.prior, space.dimensions.length);
    if (!PRIOR_PRESETS.includes(prior)) {
      throw new RangeError(`bayes: unknown prior preset ${JSON.stringify(prior)}; use one of ${PRIOR_PRESETS.join(', ')}`);
    }
    this.space = space;
    this.dims = space.dimensions;
    this.d = this.dims.length;
    if (this.d === 0) {
      throw new RangeError('method: bayes needs at least one parameter that varies; every parameter here is a constant');
    }
    this.isCat = Uint8Array.from(this.dims, (dim) => (dim.kind === 'categorical' ? 1 : 0));
    this.isContinuous = Uint8Array.from(this.dims, (dim) => (dim.kind === 'continuous' ? 1 : 0));
    this.metric = metric;
    this.seed = options.seed;
    this.size = discreteSize(this.dims);
    const refitAlwaysBelow = options.refitAlwaysBelow ?? 200;
    this.opts = {
      prior,
      deterministic: options.deterministic ?? false,
      initialDesign: options.initialDesign ?? defaultInitialDesign(this.d, options.runCap),
      rawSamples: options.rawSamples ?? 1024,
      restarts: options.restarts ?? 10,
      fantasySamples: options.fantasySamples ?? 16,
      fantasyMaxPending: options.fantasyMaxPending ?? 64,
      pendingMode: options.pendingMode ?? 'fantasy',
      refitAlwaysBelow,
      fitSubsetMax: options.fitSubsetMax ?? 250,
      trainMax: options.trainMax ?? 1000,
      dualStartBelow: options.dualStartBelow ?? 60,
      fitMaxIterations: options.fitMaxIterations ?? 100,
      fitWarmIterations: options.fitWarmIterations ?? 12,
      fitGtolPerObservation: options.fitGtolPerObservation ?? 1e-4,
      outputTransform: options.outputTransform ?? 'yeo-johnson',
      trustRegion: options.trustRegion ?? true,
      failures: options.failures ?? 'model',
      feasibilitySubsetMax: Math.max(10, Math.floor(options.feasibilitySubsetMax ?? 100)),
      multiFidelity: options.multiFidelity ?? false,
    };
    if (!['model', 'avoid', 'classifier-only', 'impute'].includes(this.opts.failures)) {
      throw new RangeError(`bayes: unknown failures mode ${JSON.stringify(this.opts.failures)}; use model, avoid, classifier-only or impute`);
    }
    this.curves = this.opts.multiFidelity ? new CurveImputer(space, metric, { preset: prior }) : null;
    this.nInit = Math.max(1, Math.floor(this.opts.initialDesign));
    this.design = createQmcSequence(this.d, Rng.from(this.seed, 0x5eed));
  }

  propose(input: ProposeInput): Proposal[] {
    const count = Math.max(0, Math.floor(input.count));
    if (count === 0) return [];
    const rng = Rng.from(this.seed, 0xb4e5, input.observations.length, input.pending.length);
    const mf = this.curves?.impute(input.observations);
    const proposals = this.proposeFrom(input, count, rng, mf?.observations ?? input.observations, mf?.warnings ?? []);
    // What the curve model did is stored with each proposal (runs.proposal): how many stopped runs
    // it scored and the budget lengthscale it learned.
    if (mf !== undefined) {
      const { multiFidelity: note, ...rest } = mf.info;
      for (const p of proposals) if (p.info) p.info.multiFidelity = { imputed: mf.imputed, note, ...rest };
    }
    return proposals;
  }

  private proposeFrom(input: ProposeInput, count: number, rng: Rng, observations: readonly Observation[], mfWarnings: readonly string[]): Proposal[] {
    const data = buildTrainingSet(this.space, this.metric, observations, this.opts.failures);
    const warnings = [...data.warnings, ...mfWarnings];

    const known = new KnownPoints(this.dims);
    for (const k of data.known) known.add(k.x, k.params);
    const pendingX: Float64Array[] = [];
    let pendingUnfit = 0;
    for (const p of input.pending) {
      try {
        const x = this.space.encode(p);
        pendingX.push(x);
        known.add(x, p);
      } catch {
        pendingUnfit++;
      }
    }
    if (pendingUnfit > 0) warnings.push(`${pendingUnfit} pending run(s) whose params do not fit the search space were ignored`);

    const designIndex = input.observations.length + input.pending.length;
    if (data.completed < this.nInit) {
      return this.designProposals(count, designIndex, known, warnings, {
        initialDesign: `${data.completed}/${this.nInit} finished runs before the GP takes over`,
      });
    }
    try {
      return this.gpProposals(count, data, pendingX, known, warnings, rng, designIndex);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      warnings.push(`GP proposal failed (${reason}); fell back to the quasi-random sequence`);
      return this.designProposals(count, designIndex, known, warnings, {});
    }
  }

  /** Points of the scrambled Sobol design from `start` on, skipping known configurations. */
  private designProposals(
    count: number,
    start: number,
    known: KnownPoints,
    warnings: string[],
    extra: Record<string, unknown>,
  ): Proposal[] {
    const out: Proposal[] = [];
    for (const pt of this.designPoints(count, start, known)) {
      out.push({
        params: pt.params,
        info: { source: 'sobol', designIndex: pt.index, ...extra, ...(warnings.length ? { warnings: [...warnings] } : {}) },
      });
    }
    if (out.length < count) this.fillExhausted(out, count, known, warnings);
    return out;
  }

  /** Up to `count` unknown design points from index `start` on; each is added to `known`. */
  private designPoints(count: number, start: number, known: KnownPoints): Array<{ x: Float64Array; params: Params; index: number }> {
    const out: Array<{ x: Float64Array; params: Params; index: number }> = [];
    const u = new Float64Array(this.d);
    const x = new Float64Array(this.d);
    const limit = start + Math.max(1000, 20 * count);
    for (let i = start; i < limit && out.length < count; i++) {
      this.design.point(i, u);
      fromUnitCube(this.dims, u, x);
      const canon = this.canonical(x);
      if (canon === null || known.has(canon.x, canon.params)) continue;
      known.add(canon.x, canon.params);
      out.push({ ...canon, index: i });
    }
    return out;
  }

  /** When the design sequence keeps hitting known points: enumerate a finite space, else give up. */
  private fillExhausted(out: Proposal[], count: number, known: KnownPoints, warnings: string[]): void {
    if (this.size === null || this.size > 1e5) return;
    const x = new Float64Array(this.d);
    for (let i = 0; i < this.size && out.length < count; i++) {
      let rest = i;
      for (let j = this.d - 1; j >= 0; j--) {
        const dim = this.dims[j]!;
        const k = dim.kind === 'discrete' ? dim.levels : dim.kind === 'categorical' ? dim.choices : 1;
        const level = rest % k;
        rest = (rest - level) / k;
        x[j] = dim.kind === 'discrete' ? (level + 0.5) / k : level;
      }
      const canon = this.canonical(x);
      if (canon === null || known.has(canon.x, canon.params)) continue;
      known.add(canon.x, canon.params);
      out.push({
        params: canon.params,
        info: { source: 'enumeration', warnings: [...warnings, 'quasi-random sequence only hit known configurations; took the first unused one'] },
      });
    }
  }

  /** decode → encode: the configuration that will actually run, in canonical coordinates. */
  private canonical(x: ArrayLike<number>): { x: Float64Array; params: Params } | null {
    try {
      const params = this.space.decode(x);
      return { x: this.space.encode(params), params };
    } catch {
      return null;
    }
  }

  private gpProposals(
    count: number,
    data: ReturnType<typeof buildTrainingSet>,
    pendingX: Float64Array[],
    known: KnownPoints,
    warnings: string[],
    rng: Rng,
    designIndex: number,
  ): Proposal[] {
    const { d, isCat, opts, state } = this;
    const nAll = data.n;
    // Transform and standardize (larger is better).
    const transform = fitOutputTransform(data.y, opts.outputTransform);
    const yStd = transform.y;

    // Hyperparameters: refit at every call while small, on a cadence past refitAlwaysBelow.
    const large = nAll > opts.refitAlwaysBelow;
    const due = state.hyper === null || state.theta?.length !== d + 2 || !large || nAll < state.fitN || nAll - state.fitN >= Math.ceil(nAll / 100);

    // Posterior training set: everything up to trainMax, else a quality subset chosen at each
    // refit; runs that finish between refits are appended to it, so the Cholesky factor can be
    // extended instead of recomputed.
    let x: Float64Array = data.x;
    let y: Float64Array = yStd;
    let n = nAll;
    const modelInfo: Record<string, unknown> = {};
    if (nAll > opts.trainMax) {
      let idx: Int32Array;
      const kept = state.subset;
      if (due || kept === null || kept.nAll > nAll) {
        idx = selectSubset({ x: data.x, y: yStd, n: nAll, d, isCat, lengthscales: state.hyper?.lengthscales ?? null }, opts.trainMax, 20);
        state.subset = { idx, nAll };
      } else {
        idx = new Int32Array(kept.idx.length + nAll - kept.nAll);
        idx.set(kept.idx);
        for (let i = kept.nAll; i < nAll; i++) idx[kept.idx.length + i - kept.nAll] = i;
      }
      ({ x, y } = gather(data.x, yStd, d, idx));
      n = idx.length;
      modelInfo.trainingSubset = `${n} of ${nAll} (best fifth, most recent, space-filling rest)`;
    } else {
      state.subset = null;
    }

    if (due) {
      let fx: Float64Array = x;
      let fy: Float64Array = y;
      let fn = n;
      if (n > opts.fitSubsetMax) {
        const idx = selectSubset({ x, y, n, d, isCat, lengthscales: state.hyper?.lengthscales ?? null }, opts.fitSubsetMax, 10);
        ({ x: fx, y: fy } = gather(x, y, d, idx));
        fn = idx.length;
        modelInfo.fitSubset = fn;
      }
      const fit = fitHyperparameters(
        { x: fx, y: fy, n: fn, d, isCat },
        {
          preset: opts.prior,
          deterministic: opts.deterministic,
          warmStart: state.theta,
          alsoFromPriorMode: nAll <= opts.dualStartBelow || state.theta === null,
          maxIterations: large ? Math.min(30, opts.fitMaxIterations) : opts.fitMaxIterations,
          warmMaxIterations: opts.fitWarmIterations,
          gtol: Math.max(1e-2, opts.fitGtolPerObservation * fn),
        },
      );
      warnings.push(...fit.warnings);
      state.theta = fit.theta;
      state.hyper = thetaToHyper(fit.theta, d);
      state.fitN = nAll;
      modelInfo.fit = `${fit.start} (${fit.evaluations} evaluations, ${fit.status})`;
    } else {
      modelInfo.fit = `reused from n=${state.fitN}`;
    }
    const hyper = state.hyper!;
    const post = GpPosterior.create(x, n, d, isCat, hyper, y, state.posterior);
    if (post === null) throw new Error('the kernel matrix could not be factored even with jitter');
    state.posterior = post;
    modelInfo.factor = post.incremental ? 'extended' : 'full';
    if (post.jitter > 0) warnings.push(`kernel matrix needed diagonal jitter ${post.jitter.toExponential(1)} (near-duplicate inputs)`);

    // Incumbent: best observation, or best posterior mean when the model thinks outcomes are noisy.
    const means = post.meanAtTraining();
    let incumbent = -Infinity;
    let bestRow = 0;
    const useMean = hyper.noise > NOISY_INCUMBENT;
    for (let i = 0; i < n; i++) {
      const v = useMean ? means[i]! : y[i]!;
      if (v > incumbent) {
        incumbent = v;
        bestRow = i;
      }
    }
    let bestObsRow = 0;
    for (let i = 1; i < n; i++) if (y[i]! > y[bestObsRow]!) bestObsRow = i;
    const incumbents = [x.slice(bestRow * d, (bestRow + 1) * d)];
    if (bestObsRow !== bestRow) incumbents.push(x.slice(bestObsRow * d, (bestObsRow + 1) * d));

    // Scoring a candidate costs O(n²) (a triangular solve), and so does each local-search step:
    // past a few hundred observations both budgets shrink like 1/n² to keep a proposal under a
    // second (gp-bo.md §6.3).
    const rawSamples = Math.max(128, Math.min(opts.rawSamples, Math.round(opts.rawSamples * (200 / Math.max(n, 1)) ** 2)));
    const restarts = n <= 500 ? opts.restarts : Math.max(3, Math.round(opts.restarts * (500 / n) ** 2));
    const lengthscales = hyper.lengthscales;
    const lsInfo: Record<string, number> = {};
    this.dims.forEach((dim, j) => (lsInfo[dim.path] = round4(lengthscales[j]!)));
    Object.assign(modelInfo, { n, lengthscales: lsInfo, signal: round4(hyper.signal), noise: round4(hyper.noise) });

    // The trust region is replayed over every run in the order they ended (not the posterior's
    // subset), on the model's scale; it bounds the continuous coordinates only.
    let box: Box | undefined;
    if (opts.trustRegion) {
      const tr = replayTrustRegion(yStd, nAll, this.nInit, d);
      box = trustRegionBox(incumbents[0]!, lengthscales, this.isContinuous, tr.length);
      modelInfo.trustRegion = { side: round4(tr.length), restarts: tr.restarts };
    }

    // Failures among the runs: weigh the acquisition by the probability of not failing.
    let feasibility: FeasibilityModel | null = null;
    if (data.feasibility !== null) {
      let f = data.feasibility;
      if (f.n > opts.feasibilitySubsetMax) {
        // The classifier is refit at every proposal: past feasibilitySubsetMax runs it sees a
        // subset (the feasible fifth, the latest runs, then a space-filling pick that covers the
        // failures).
        const idx = selectSubset({ x: f.x, y: f.label, n: f.n, d, isCat, lengthscales: null }, opts.feasibilitySubsetMax, 20);
        const g = gather(f.x, f.label, d, idx);
        f = { x: g.x, label: g.y, n: idx.length, failures: f.failures };
      }
      feasibility = FeasibilityModel.fit(
        { x: f.x, label: f.label, n: f.n, d, isCat },
        { preset: opts.prior, warmStart: state.feasibilityTheta, conservative: opts.failures === 'avoid' },
      );
      if (feasibility === null) {
        warnings.push('the feasibility model could not be fit; failures are only excluded as duplicates');
      } else {
        state.feasibilityTheta = feasibility.theta;
        warnings.push(...feasibility.warnings);
        modelInfo.feasibility = { failures: f.failures, fitOn: f.n, calibration: [round4(feasibility.a), round4(feasibility.b)], chanceLevel: feasibility.chance.level };
      }
    }

    const out: Proposal[] = [];
    const chosen: Float64Array[] = [];
    for (let p = 0; p < count; p++) {
      const pend = [...pendingX, ...chosen];
      const pendFlat = new Float64Array(pend.length * d);
      pend.forEach((v, i) => pendFlat.set(v, i * d));
      const ei = new LogEiAcquisition(post, incumbent, pendFlat, pend.length, rng, {
        fantasySamples: opts.fantasySamples,
        fantasyMaxPending: opts.fantasyMaxPending,
        krigingBeliever: opts.pendingMode === 'kriging-believer',
      });
      const acq = feasibility === null ? ei : new ConstrainedAcquisition(ei, feasibility, d);
      const propWarnings = [...warnings, ...ei.warnings];
      const results = optimizeAcquisition(acq, this.dims, {
        rng,
        rawSamples,
        restarts,
        incumbents,
        lengthscales,
        ...(box ? { box } : {}),
      });
      let pick: { x: Float64Array; params: Params; value: number; rank: number } | null = null;
      for (let r = 0; r < results.length && pick === null; r++) {
        const canon = this.canonical(results[r]!.x);
        if (canon !== null && !known.has(canon.x, canon.params)) pick = { ...canon, value: acq.value(canon.x), rank: r };
      }
      if (pick !== null && pick.rank > 0) {
        propWarnings.push(`the acquisition's best point${pick.rank > 1 ? 's' : ''} duplicated known runs; took candidate #${pick.rank + 1}`);
      }
      if (pick === null) {
        // Every optimized point and top candidate is known (a nearly exhausted discrete space).
        const [pt] = this.designPoints(1, designIndex + p, known);
        if (pt === undefined) {
          const rest: Proposal[] = [];
          this.fillExhausted(rest, 1, known, propWarnings);
          if (rest[0] === undefined) break;
          out.push(rest[0]);
          continue;
        }
        chosen.push(pt.x);
        propWarnings.push('every acquisition candidate duplicated a known run; fell back to the quasi-random sequence');
        out.push({ params: pt.params, info: { source: 'sobol', designIndex: pt.index, warnings: propWarnings } });
        continue;
      }
      known.add(pick.x, pick.params);
      chosen.push(pick.x);
      const pred = ei.predict(pick.x);
      const sign = higherIsBetterSign(this.metric.goal);
      out.push({
        params: pick.params,
        info: {
          source: 'gp',
          acquisition: feasibility === null ? ei.mode : `${ei.mode}+feasibility`,
          logEI: round4(pick.value),
          ...(feasibility === null ? {} : { pFeasible: round4(feasibility.prob(pick.x)) }),
          ...(feasibility !== null && feasibility.chance.failureCost !== undefined
            ? { pFeasibleRequired: round4(Math.exp(chanceLogLevel(feasibility.chance, ei.value(pick.x)).logLevel)) }
            : {}),
          // In metric units; the std is half the ±1σ interval mapped back through the transform.
          predicted: {
            mean: finiteOrNull(sign * transform.inverse(pred.mean)),
            std: finiteOrNull(Math.abs(transform.inverse(pred.mean + pred.std) - transform.inverse(pred.mean - pred.std)) / 2),
          },
          model: modelInfo,
          ...(propWarnings.length ? { warnings: propWarnings } : {}),
        },
      });
    }
    return out;
  }
}

function gather(x: Float64Array, y: Float64Array, d: number, idx: Int32Array): { x: Float64Array; y: Float64Array } {
  const gx = new Float64Array(idx.length * d);
  const gy = new Float64Array(idx.length);
  idx.forEach((r, i) => {
    gx.set(x.subarray(r * d, (r + 1) * d), i * d);
    gy[i] = y[r]!;
  });
  return { x: gx, y: gy };
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : null;
}

function round4(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(4)) : v;
}

/** clamp(2d, 5, 10), and no more than run_cap/5 (Ax's rule), but never fewer than 5. */
export function defaultInitialDesign(d: number, runCap?: number): number {
  let n = Math.min(2 * d, 10);
  if (runCap !== undefined && runCap > 0) n = Math.min(n, Math.floor(runCap / 5));
  return Math.max(5, n);
}
