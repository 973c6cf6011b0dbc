/**
 * Projected L-BFGS for box constraints (gp-bo.md §7): the two-loop recursion on the free
 * variables (a variable sitting on a bound with the gradient pushing outward is held for that
 * iteration), the step projected onto the box, Armijo backtracking along the projected path.
 * Simpler than L-BFGS-B's generalized Cauchy point and adequate for the ≤ 30-dimensional problems
 * here (hyperparameters, acquisition coordinates).
 */

/** Writes ∂f/∂x into `grad` and returns f(x). Non-finite values are treated as +∞. */
export type ValueAndGradient = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Iterations (accepted steps). Default 100. */
  maxIterations?: number;
  /** Function evaluations, counting line-search trials. Default 20 × maxIterations. */
  maxEvaluations?: number;
  /** History pairs. Default 10. */
  memory?: number;
  /** Stop when the projected gradient's ∞-norm falls below this. Default 1e-5. */
  gtol?: number;
  /** Stop when a step lowers f by less than ftol·(1 + |f|). Default 1e-9. */
  ftol?: number;
  /**
   * Largest coordinate change of a steepest-descent step (no curvature known yet). Default 1; a
   * warm start close to the optimum wants a smaller one, or it spends evaluations backtracking.
   */
  firstStepMax?: number;
}

export type LbfgsStatus = 'gradient' | 'function' | 'max-iterations' | 'max-evaluations' | 'line-search' | 'non-finite-start';

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  evaluations: number;
  status: LbfgsStatus;
}

const ARMIJO_C1 = 1e-4;
const MAX_BACKTRACKS = 40;

function project(x: Float64Array, lower: ArrayLike<number>, upper: ArrayLike<number>): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < lower[i]!) x[i] = lower[i]!;
    else if (v > upper[i]!) x[i] = upper[i]!;
  }
}

export function minimizeBox(
  fg: ValueAndGradient,
  x0: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  options: LbfgsOptions = {},
): LbfgsResult {
  const n = x0.length;
  const maxIterations = options.maxIterations ?? 100;
  const maxEvaluations = options.maxEvaluations ?? 20 * maxIterations;
  const m = options.memory ?? 10;
  const gtol = options.gtol ?? 1e-5;
  const ftol = options.ftol ?? 1e-9;
  const firstStepMax = options.firstStepMax ?? 1;

  const x = Float64Array.from(x0);
  project(x, lower, upper);
  const g = new Float64Array(n);
  let evaluations = 1;
  let f = fg(x, g);
  if (!Number.isFinite(f) || !g.every(Number.isFinite)) {
    return { x, f: Number.isFinite(f) ? f : Infinity, iterations: 0, evaluations, status: 'non-finite-start' };
  }

  const sHist: Float64Array[] = [];
  const yHist: Float64Array[] = [];
  const rhoHist: number[] = [];
  const alpha = new Float64Array(m);
  const dir = new Float64Array(n);
  const free = new Uint8Array(n);
  const xt = new Float64Array(n);
  const gt = new Float64Array(n);

  let iterations = 0;
  let status: LbfgsStatus = 'max-iterations';
  while (iterations < maxIterations) {
    let pgNorm = 0;
    for (let i = 0; i < n; i++) {
      const atLower = x[i]! <= lower[i]! && g[i]! > 0;
      const atUpper = x[i]! >= upper[i]! && g[i]! < 0;
      free[i] = atLower || atUpper ? 0 : 1;
      if (free[i]) pgNorm = Math.max(pgNorm, Math.abs(g[i]!));
    }
    if (pgNorm < gtol) {
      status = 'gradient';
      break;
    }

    // Two-loop recursion restricted to the free variables.
    for (let i = 0; i < n; i++) dir[i] = free[i] ? g[i]! : 0;
    const h = sHist.length;
    for (let k = h - 1; k >= 0; k--) {
      const s = sHist[k]!;
      const yv = yHist[k]!;
      let dot = 0;
      for (let i = 0; i < n; i++) if (free[i]) dot += s[i]! * dir[i]!;
      const a = rhoHist[k]! * dot;
      alpha[k] = a;
      for (let i = 0; i < n; i++) if (free[i]) dir[i] = dir[i]! - a * yv[i]!;
    }
    if (h > 0) {
      const s = sHist[h - 1]!;
      const yv = yHist[h - 1]!;
      let sy = 0;
      let yy = 0;
      for (let i = 0; i < n; i++) {
        sy += s[i]! * yv[i]!;
        yy += yv[i]! * yv[i]!;
      }
      const gamma = sy / yy;
      for (let i = 0; i < n; i++) dir[i] = dir[i]! * gamma;
    }
    for (let k = 0; k < h; k++) {
      const s = sHist[k]!;
      const yv = yHist[k]!;
      let dot = 0;
      for (let i = 0; i < n; i++) if (free[i]) dot += yv[i]! * dir[i]!;
      const b = rhoHist[k]! * dot;
      for (let i = 0; i < n; i++) if (free[i]) dir[i] = dir[i]! + s[i]! * (alpha[k]! - b);
    }
    let gd = 0;
    for (let i = 0; i < n; i++) {
      dir[i] = free[i] ? -dir[i]! : 0;
      gd += g[i]! * dir[i]!;
    }
    if (!(gd < 0)) {
      // Not a descent direction (curvature information went stale): steepest descent.
      sHist.length = 0;
      yHist.length = 0;
      rhoHist.length = 0;
      for (let i = 0; i < n; i++) dir[i] = free[i] ? -g[i]! : 0;
    }

    let step = 1;
    if (sHist.length === 0) {
      let dmax = 0;
      for (let i = 0; i < n; i++) dmax = Math.max(dmax, Math.abs(dir[i]!));
      step = dmax > 0 ? Math.min(1, firstStepMax / dmax) : 1;
    }

    let accepted = false;
    let ft = Infinity;
    for (let bt = 0; bt < MAX_BACKTRACKS; bt++) {
      for (let i = 0; i < n; i++) xt[i] = x[i]! + step * dir[i]!;
      project(xt, lower, upper);
      let decrease = 0;
      for (let i = 0; i < n; i++) decrease += g[i]! * (xt[i]! - x[i]!);
      if (!(decrease < 0)) break;
      if (evaluations >= maxEvaluations) break;
      evaluations++;
      ft = fg(xt, gt);
      if (Number.isFinite(ft) && ft <= f + ARMIJO_C1 * decrease && gt.every(Number.isFinite)) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      if (sHist.length > 0 && evaluations < maxEvaluations) {
        // Retry once from steepest descent before giving up.
        sHist.length = 0;
        yHist.length = 0;
        rhoHist.length = 0;
        continue;
      }
      status = evaluations >= maxEvaluations ? 'max-evaluations' : 'line-search';
      break;
    }

    iterations++;
    const s = new Float64Array(n);
    const yv = new Float64Array(n);
    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = xt[i]! - x[i]!;
      yv[i] = gt[i]! - g[i]!;
      sy += s[i]! * yv[i]!;
      yy += yv[i]! * yv[i]!;
    }
    // Skip pairs without positive curvature so the implicit Hessian stays positive definite.
    if (sy > 1e-10 * yy && sy > 0) {
      if (sHist.length === m) {
        sHist.shift();
        yHist.shift();
        rhoHist.shift();
      }
      sHist.push(s);
      yHist.push(yv);
      rhoHist.push(1 / sy);
    }
    const fPrev = f;
    x.set(xt);
    g.set(gt);
    f = ft;
    if (fPrev - f <= ftol * (1 + Math.abs(f))) {
      status = 'function';
      break;
    }
    if (evaluations >= maxEvaluations) {
      status = 'max-evaluations';
      break;
    }
  }
  return { x, f, iterations, evaluations, status };
}
