/**
 * Multi-fidelity: what runs stopped early (hyperband, ASHA, median) still say.
 *
 * Without this, a stopped run enters the GP through `metric.impute` (W&B's `worst` by default): a
 * configuration stopped at epoch 3 because it was slightly behind at that rung counts as the
 * worst run of the sweep. With early termination most runs are stopped, so most of the sweep's
 * evidence is thrown away or, worse, turned into a false "this region is bad".
 *
 * Method: a GP over (configuration, budget), as in the continuous-fidelity models of Swersky et
 * al. 2014 (freeze-thaw: one GP over configurations and training time), Kandasamy et al. 2017
 * (BOCA) and Wu et al. 2019 (trace-aware KG: the fidelity is one more input of a product kernel).
 * Every run contributes its running-best metric at a few steps of its curve (t = 1, 3, 9, … and
 * its last step), with the budget coordinate s = ln t / ln B (B = the length of a finished run's
 * curve) appended to its encoded parameters; the same Matérn-5/2 ARD kernel, priors, MAP fit and
 * output transform as the main GP are used, so the lengthscale on s is learned: how far a
 * partial curve predicts the end. Each stopped run is then given its predicted final value, the
 * posterior mean at s = 1, floored at the best value the run already logged (its final best
 * cannot be worse than that), and enters the ordinary GP-BO step as if it had finished.
 *
 * Why this and not the alternatives:
 * - BOHB's per-budget models (Falkner et al. 2018) and Hyper-Tune's per-fidelity ensemble (Li et
 *   al. 2022) model each budget separately; with a few hundred runs on 8 workers the top budget
 *   holds only the handful of runs hyperband let finish, which is exactly the data problem. One
 *   joint model shares strength across budgets and its s-lengthscale says how much they agree.
 * - Parametric learning-curve extrapolation (Domhan et al. 2015; LC-Bayesian networks, Klein et
 *   al. 2017) needs an MCMC over curve families per run or a trained network: heavy for a
 *   controller that proposes in well under a second, and brittle on the 1–3 points a run stopped
 *   at the first rung has.
 * - Acquiring at s = 1 inside a joint GP (instead of imputing, then the usual GP) would be the
 *   full method, but it would replace the strategy's model; this two-stage form is a hook: the
 *   model, trust region, fantasies for pending runs and acquisition stay as they are. Its known
 *   limit: an imputed value counts as an observation as certain as a finished run's.
 *
 * What the strategy needs: `Observation.curve` on ended runs, either the metric's logged values in
 * step order or a `CurveSummary` of them at `curvePositions` (see types.ts); the controller passes
 * summaries read from storage with `harrow.bayes.multi_fidelity: true`
 * (controller/observed-curves.ts). Only stopped runs are imputed; finished runs with a full curve
 * teach the model; runs without `curve` are treated as before. Pending (running) runs stay
 * pending: the fantasies already account for them.
 */
import type { CurveSummary, EncodedSpace, MetricSpec, Observation } from '../types.js';
import { fitHyperparameters, thetaToHyper } from './gp-fit.js';
import { GpPosterior } from './gp-posterior.js';
import { fitOutputTransform } from './output-transform.js';
import type { PriorPreset } from './priors.js';

export interface MultiFidelityOptions {
  preset: PriorPreset;
  /** The hyperparameter fit uses at most this many (configuration, budget) points. Default 150. */
  maxFitPoints?: number;
  /** The posterior uses at most this many points. Default 300. */
  maxPoints?: number;
  /** Finished runs with a full curve needed before anything is imputed. Default 3. */
  minFinished?: number;
}

export interface CurveImputation {
  /** The observations, stopped runs with a curve given their predicted final value as finished. */
  observations: readonly Observation[];
  /** How many stopped runs were imputed from their curves. */
  imputed: number;
  warnings: string[];
  info: Record<string, unknown>;
}

/** Curve positions used per run: 1, 3, 9, … (the rungs of η = 3 schedules) and the run's last. */
export const CURVE_POSITION_RATIO = 3;

interface Point {
  x: Float64Array;
  y: number;
  /** 0: a finished run's final point, 1: a stopped run's last point, 2: anything else. */
  priority: number;
  run: number;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Oriented running best (larger is better) at each step; NaN until the first finite value. */
function runningBest(curve: readonly number[], sign: number): Float64Array {
  const out = new Float64Array(curve.length);
  let best = -Infinity;
  for (let i = 0; i < curve.length; i++) {
    const v = curve[i];
    if (isFiniteNumber(v)) best = Math.max(best, sign * v);
    out[i] = Number.isFinite(best) ? best : NaN;
  }
  return out;
}

/**
 * The positions the model reads of a curve of `length` values: 1, 3, 9, … below `length`, then
 * `length`. The controller reads exactly these from storage (a `CurveSummary`).
 */
export function curvePositions(length: number): number[] {
  const out: number[] = [];
  for (let t = 1; t < length; t *= CURVE_POSITION_RATIO) out.push(t);
  if (length >= 1) out.push(length);
  return out;
}

/** A curve as the model reads it: its length and the oriented running best at some positions. */
interface ModelCurve {
  length: number;
  t: number[];
  y: number[];
}

function isSummary(c: readonly number[] | CurveSummary): c is CurveSummary {
  return !Array.isArray(c);
}

/** `null` when there is nothing usable (empty, or a malformed summary from hand-written input). */
function modelCurve(curve: readonly number[] | CurveSummary | undefined, sign: number): ModelCurve | null {
  if (curve === undefined) return null;
  if (isSummary(curve)) {
    const { length, at, best } = curve;
    if (!Number.isSafeInteger(length) || length < 1 || at.length !== best.length) return null;
    const out: ModelCurve = { length, t: [], y: [] };
    for (let k = 0; k < at.length; k++) {
      const t = at[k]!;
      const v = best[k];
      if (!Number.isSafeInteger(t) || t < 1 || t > length || (k > 0 && t <= at[k - 1]!) || !isFiniteNumber(v)) continue;
      out.t.push(t);
      out.y.push(sign * v);
    }
    return out.t.length > 0 ? out : null;
  }
  if (curve.length === 0) return null;
  const best = runningBest(curve, sign);
  const out: ModelCurve = { length: curve.length, t: [], y: [] };
  for (const t of curvePositions(curve.length)) {
    const y = best[t - 1]!;
    if (!Number.isFinite(y)) continue;
    out.t.push(t);
    out.y.push(y);
  }
  return out.t.length > 0 ? out : null;
}

/**
 * Keeps a warm start between calls (like the main GP), so a strategy holds one instance. The
 * output is a function of the observations and the sequence of calls.
 */
export class CurveImputer {
  private theta: Float64Array | null = null;
  private readonly maxFitPoints: number;
  private readonly maxPoints: number;
  private readonly minFinished: number;

  constructor(
    private readonly space: EncodedSpace,
    private readonly metric: MetricSpec,
    private readonly options: MultiFidelityOptions,
  ) {
    this.maxFitPoints = options.maxFitPoints ?? 150;
    this.maxPoints = options.maxPoints ?? 300;
    this.minFinished = options.minFinished ?? 3;
  }

  impute(observations: readonly Observation[]): CurveImputation {
    const unchanged = (reason: string): CurveImputation => ({ observations, imputed: 0, warnings: [], info: { multiFidelity: reason } });
    const m = this.model(observations, true);
    if (typeof m === 'string') {
      if (m === FACTOR_FAILED) {
        return { ...unchanged(m), warnings: ['multi-fidelity model: the (configuration, budget) kernel matrix could not be factored; stopped runs imputed per metric.impute'] };
      }
      return unchanged(m);
    }
    let imputed = 0;
    const out = observations.map((o): Observation => {
      const p = m.predictFinal(o);
      if (p === null) return o;
      imputed++;
      return { ...o, state: 'finished', value: m.sign * p.mean };
    });
    return {
      observations: out,
      imputed,
      warnings: m.warnings.map((w) => `multi-fidelity model: ${w}`),
      info: {
        multiFidelity: `${imputed} stopped run(s) given their predicted final value`,
        budget: m.budget,
        points: m.points,
        budgetLengthscale: m.budgetLengthscale,
      },
    };
  }

  /**
   * The final value predicted for runs still running, from their partial curves (each added to
   * the ended runs' points, as a stopped run would be), without refitting the hyperparameters:
   * the posterior mean and an optimistic bound `z` posterior standard deviations better, both in
   * metric units and never worse than what the run already logged. `null` per run while there is
   * no model yet (too few finished runs); fits the hyperparameters only if no `impute` has. For
   * model-based stopping.
   */
  predictRunning(observations: readonly Observation[], running: ReadonlyArray<{ params: Observation['params']; curve: readonly number[] | CurveSummary }>, z: number): Array<{ mean: number; optimistic: number } | null> {
    if (running.length === 0) return [];
    const extra: Observation[] = running.map((r) => ({ params: r.params, state: 'stopped', value: null, curve: r.curve }));
    const m = this.model([...observations, ...extra], false);
    if (typeof m === 'string') return running.map(() => null);
    return extra.map((o) => {
      const p = m.predictFinal(o, z);
      return p === null ? null : { mean: m.sign * p.mean, optimistic: m.sign * p.optimistic };
    });
  }

  /** The fitted (configuration, budget) model, or why there is none. */
  private model(observations: readonly Observation[], refit: boolean): CurveModel | string {
    const sign = this.metric.goal === 'maximize' ? 1 : -1;
    const curves = new Map<Observation, ModelCurve>();
    for (const o of observations) {
      if (o.state !== 'finished' && o.state !== 'stopped') continue;
      const c = modelCurve(o.curve, sign);
      if (c !== null) curves.set(o, c);
    }
    let budget = 0;
    for (const [o, c] of curves) if (o.state === 'finished') budget = Math.max(budget, c.length);
    let full = 0;
    let stopped = 0;
    for (const [o, c] of curves) {
      if (o.state === 'finished' && c.length === budget) full++;
      if (o.state === 'stopped' && c.length < budget) stopped++;
    }
    if (stopped === 0) return 'no stopped run with a partial curve';
    if (budget < 2 || full < this.minFinished) return `waiting for ${this.minFinished} finished runs with full curves (${full} so far)`;

    const d = this.space.dimensions.length;
    const logB = Math.log(budget);
    const encoded = new Map<Observation, Float64Array>();
    const points: Point[] = [];
    observations.forEach((o, run) => {
      const c = curves.get(o);
      if (c === undefined || c.length > budget) return;
      let x: Float64Array;
      try {
        x = this.space.encode(o.params);
      } catch {
        return;
      }
      encoded.set(o, x);
      c.t.forEach((t, k) => {
        const row = new Float64Array(d + 1);
        row.set(x);
        row[d] = Math.log(t) / logB;
        const priority = t === c.length ? (o.state === 'finished' && c.length === budget ? 0 : 1) : 2;
        points.push({ x: row, y: c.y[k]!, priority, run });
      });
    });

    const all = select(points, this.maxPoints);
    const fitPoints = select(all, this.maxFitPoints);
    const isCat = new Uint8Array(d + 1);
    this.space.dimensions.forEach((dim, j) => (isCat[j] = dim.kind === 'categorical' ? 1 : 0));
    // One transform for both sets (fitted on the posterior's), so the fit and the posterior agree.
    const transform = fitOutputTransform(Float64Array.from(all, (p) => p.y), 'yeo-johnson');
    const yAll = transform.y;
    const index = new Map(all.map((p, i) => [p, i]));
    const flat = (ps: Point[]): Float64Array => {
      const out = new Float64Array(ps.length * (d + 1));
      ps.forEach((p, i) => out.set(p.x, i * (d + 1)));
      return out;
    };
    let warnings: string[] = [];
    if (refit || this.theta === null) {
      const fit = fitHyperparameters(
        { x: flat(fitPoints), y: Float64Array.from(fitPoints, (p) => yAll[index.get(p)!]!), n: fitPoints.length, d: d + 1, isCat },
        {
          preset: this.options.preset,
          deterministic: false,
          warmStart: this.theta,
          alsoFromPriorMode: this.theta === null || fitPoints.length <= 60,
          maxIterations: 60,
          warmMaxIterations: 12,
          gtol: Math.max(1e-2, 1e-4 * fitPoints.length),
        },
      );
      this.theta = fit.theta;
      warnings = fit.warnings;
    }
    const hyper = thetaToHyper(this.theta, d + 1);
    const post = GpPosterior.create(flat(all), all.length, d + 1, isCat, hyper, yAll);
    if (post === null) return FACTOR_FAILED;

    const at = new Float64Array(d + 1);
    return {
      sign,
      budget,
      points: all.length,
      budgetLengthscale: Number(hyper.lengthscales[d]!.toPrecision(4)),
      warnings,
      predictFinal: (o, z = 0) => {
        const c = curves.get(o);
        if (o.state !== 'stopped' || c === undefined || c.length >= budget) return null;
        const x = encoded.get(o);
        if (x === undefined) return null;
        // The best the run logged: the summary's last point, or the dense curve's running best at its end.
        const best = c.y.at(-1)!;
        at.set(x);
        at[d] = 1;
        const pred = post.predict(at);
        const floor = (v: number): number => (Number.isFinite(v) ? Math.max(v, best) : best);
        return { mean: floor(transform.inverse(pred.mean)), optimistic: floor(transform.inverse(pred.mean + z * Math.sqrt(pred.variance))) };
      },
    };
  }
}

const FACTOR_FAILED = 'kernel matrix could not be factored';

/** What `model` gives: predictions at the full budget, oriented (larger is better). */
interface CurveModel {
  sign: number;
  budget: number;
  points: number;
  budgetLengthscale: number;
  warnings: string[];
  /** A stopped run's predicted final (mean, and `z` posterior sds better), or null when it has none. */
  predictFinal(o: Observation, z?: number): { mean: number; optimistic: number } | null;
}

/** At most `max` points: finished runs' finals first, then stopped runs' last points, then the rest; most recent runs first within each. */
function select(points: Point[], max: number): Point[] {
  if (points.length <= max) return points;
  return [...points].sort((a, b) => a.priority - b.priority || b.run - a.run).slice(0, max);
}
