/**
 * Maximizes the acquisition over the mixed unit-cube space, Optuna-style (gp-bo.md §1.2, §7):
 * score a scrambled QMC candidate set, pick restarts (the best candidate, the incumbents, then a
 * roulette ∝ exp(LogEI − max) = EI), and from each run a local search that alternates projected
 * L-BFGS on the continuous coordinates (preconditioned by the length scales, z = x/ℓ, so every
 * direction has similar curvature) with coordinate-wise discrete moves: every value for
 * categoricals and grids of ≤ 16 levels, a coarse-to-fine grid search for longer grids. Fully
 * discrete spaces small enough to enumerate are scored exhaustively instead. Given a box (the
 * trust region), candidates and local searches keep the continuous coordinates inside it.
 */
import type { Dimension } from '../types.js';
import { minimizeBox } from './lbfgs.js';
import { createQmcSequence } from './qmc.js';
import { clamp } from '../space/clamp.js';
import type { Rng } from '../space/rng.js';
import type { Box } from './trust-region.js';

/** What the optimizer needs from an acquisition function. */
export interface Acquisition {
  value(point: Float64Array): number;
  valueAndGradient(point: Float64Array, grad: Float64Array): number;
  scoreBatch(points: Float64Array, m: number, out: Float64Array): void;
}

export interface ScoredPoint {
  x: Float64Array;
  value: number;
  /** `local` (a local search result), `raw` (a QMC candidate), `exhaustive` (enumerated). */
  origin: 'local' | 'raw' | 'exhaustive';
}

export interface AcqOptimizerOptions {
  rng: Rng;
  /** QMC candidates scored before the local searches. */
  rawSamples: number;
  /** Local searches in all (including the best candidate and the incumbents). */
  restarts: number;
  /** Extra starts, typically the best observed points. */
  incumbents: readonly Float64Array[];
  /** Current length scales, for preconditioning. */
  lengthscales: Float64Array;
  /** L-BFGS iterations per continuous phase. Default 200. */
  maxIterations?: number;
  /** Alternation rounds (continuous phase, then discrete moves). Default 20. */
  maxRounds?: number;
  /** Fully discrete spaces with at most this many configurations are enumerated. Default 4096. */
  enumerateLimit?: number;
  /** Bounds of the continuous coordinates (a trust region); others are ignored. Default [0, 1]. */
  box?: Box;
}

/** Grids longer than this get a coarse-to-fine search instead of full enumeration per move. */
const ENUMERATE_LEVELS = 16;
const IMPROVEMENT = 1e-12;

export function levelCoordinate(level: number, levels: number): number {
  return (level + 0.5) / levels;
}

export function levelOf(x: number, levels: number): number {
  return Math.min(levels - 1, Math.max(0, Math.floor(x * levels)));
}

/** Maps a point of [0, 1)^d to valid coordinates (levels centred in their cells, choice indices). */
export function fromUnitCube(dims: readonly Dimension[], u: ArrayLike<number>, out: Float64Array, offset = 0): void {
  for (let j = 0; j < dims.length; j++) {
    const dim = dims[j]!;
    const v = u[j]!;
    switch (dim.kind) {
      case 'continuous':
        out[offset + j] = Math.min(1, Math.max(0, v));
        break;
      case 'discrete':
        out[offset + j] = levelCoordinate(levelOf(v, dim.levels), dim.levels);
        break;
      case 'categorical':
        out[offset + j] = Math.min(dim.choices - 1, Math.floor(v * dim.choices));
        break;
      default: {
        const never: never = dim;
        throw new Error(`unknown dimension kind ${JSON.stringify(never)}`);
      }
    }
  }
}

/** Number of configurations of a space without continuous dimensions, else null. */
export function discreteSize(dims: readonly Dimension[]): number | null {
  let size = 1;
  for (const dim of dims) {
    if (dim.kind === 'continuous') return null;
    size *= dim.kind === 'discrete' ? dim.levels : dim.choices;
  }
  return size;
}

function enumerateAll(dims: readonly Dimension[], size: number): Float64Array {
  const d = dims.length;
  const out = new Float64Array(size * d);
  for (let i = 0; i < size; i++) {
    let rest = i;
    for (let j = d - 1; j >= 0; j--) {
      const dim = dims[j]!;
      const k = dim.kind === 'discrete' ? dim.levels : dim.kind === 'categorical' ? dim.choices : 1;
      const level = rest % k;
      rest = (rest - level) / k;
      out[i * d + j] = dim.kind === 'discrete' ? levelCoordinate(level, k) : level;
    }
  }
  return out;
}

/** Restarts: the best candidate, the incumbents, then a roulette ∝ exp(value − max) without replacement. */
function chooseStarts(
  cands: Float64Array,
  values: Float64Array,
  m: number,
  d: number,
  restarts: number,
  incumbents: readonly Float64Array[],
  rng: Rng,
): Float64Array[] {
  const starts: Float64Array[] = [];
  const taken = new Uint8Array(m);
  let bestIdx = -1;
  let max = -Infinity;
  for (let i = 0; i < m; i++) {
    if (values[i]! > max) {
      max = values[i]!;
      bestIdx = i;
    }
  }
  if (bestIdx >= 0) {
    starts.push(cands.slice(bestIdx * d, (bestIdx + 1) * d));
    taken[bestIdx] = 1;
  }
  for (const inc of incumbents) if (starts.length < restarts) starts.push(Float64Array.from(inc));
  const weights = new Float64Array(m);
  let total = 0;
  for (let i = 0; i < m; i++) {
    const w = taken[i] || !Number.isFinite(values[i]!) ? 0 : Math.exp(values[i]! - max);
    weights[i] = w;
    total += w;
  }
  while (starts.length < restarts) {
    let pick = -1;
    if (total > 1e-300) {
      let r = rng.uniform() * total;
      for (let i = 0; i < m; i++) {
        if (weights[i]! <= 0) continue;
        r -= weights[i]!;
        pick = i;
        if (r <= 0) break;
      }
    } else {
      // Every other candidate is negligible next to the best: take the next best by value.
      let v = -Infinity;
      for (let i = 0; i < m; i++) {
        if (!taken[i] && values[i]! > v) {
          v = values[i]!;
          pick = i;
        }
      }
    }
    if (pick < 0) break;
    taken[pick] = 1;
    total -= weights[pick]!;
    weights[pick] = 0;
    starts.push(cands.slice(pick * d, (pick + 1) * d));
  }
  return starts;
}

export function optimizeAcquisition(acq: Acquisition, dims: readonly Dimension[], options: AcqOptimizerOptions): ScoredPoint[] {
  const d = dims.length;
  const size = discreteSize(dims);
  const enumerateLimit = options.enumerateLimit ?? 4096;
  if (size !== null && size <= enumerateLimit) {
    const all = enumerateAll(dims, size);
    const values = new Float64Array(size);
    acq.scoreBatch(all, size, values);
    const out: ScoredPoint[] = [];
    for (let i = 0; i < size; i++) out.push({ x: all.slice(i * d, (i + 1) * d), value: values[i]!, origin: 'exhaustive' });
    return out.sort((a, b) => b.value - a.value);
  }

  const m = Math.max(1, options.rawSamples);
  const seq = createQmcSequence(d, options.rng);
  const u = new Float64Array(d);
  const cands = new Float64Array(m * d);
  const { box } = options;
  for (let i = 0; i < m; i++) {
    seq.point(i, u);
    // The QMC point of [0, 1)^d stretched over the box keeps its space-filling property there.
    if (box) for (let j = 0; j < d; j++) if (dims[j]!.kind === 'continuous') u[j] = box.lower[j]! + u[j]! * (box.upper[j]! - box.lower[j]!);
    fromUnitCube(dims, u, cands, i * d);
  }
  const values = new Float64Array(m);
  acq.scoreBatch(cands, m, values);

  // An incumbent outside the box (the best observation when the box is centred on the best
  // posterior mean) starts a local search from its nearest point in the box.
  const incumbents = box ? options.incumbents.map((inc) => inc.map((v, j) => (dims[j]!.kind === 'continuous' ? clamp(v, box.lower[j]!, box.upper[j]!) : v))) : options.incumbents;
  const starts = chooseStarts(cands, values, m, d, options.restarts, incumbents, options.rng);
  const results: ScoredPoint[] = [];
  for (const start of starts) results.push(localSearch(acq, dims, start, options));
  // Raw candidates back up the local results when those turn out to duplicate known points.
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => values[b]! - values[a]!);
  for (const i of order.slice(0, 64)) results.push({ x: cands.slice(i * d, (i + 1) * d), value: values[i]!, origin: 'raw' });
  return results.sort((a, b) => b.value - a.value);
}

function localSearch(acq: Acquisition, dims: readonly Dimension[], start: Float64Array, options: AcqOptimizerOptions): ScoredPoint {
  const d = dims.length;
  const x = Float64Array.from(start);
  let f = acq.value(x);
  const cont: number[] = [];
  const disc: number[] = [];
  dims.forEach((dim, j) => (dim.kind === 'continuous' ? cont : disc).push(j));
  const maxRounds = options.maxRounds ?? 20;

  const nc = cont.length;
  const scale = new Float64Array(nc);
  const lower = new Float64Array(nc);
  const upper = new Float64Array(nc);
  for (let i = 0; i < nc; i++) {
    scale[i] = options.lengthscales[cont[i]!]!;
    lower[i] = (options.box?.lower[cont[i]!] ?? 0) / scale[i]!;
    upper[i] = (options.box?.upper[cont[i]!] ?? 1) / scale[i]!;
  }
  const xt = new Float64Array(d);
  const gfull = new Float64Array(d);
  const fg = (z: Float64Array, gz: Float64Array): number => {
    xt.set(x);
    for (let i = 0; i < nc; i++) xt[cont[i]!] = Math.min(1, Math.max(0, z[i]! * scale[i]!));
    const v = acq.valueAndGradient(xt, gfull);
    for (let i = 0; i < nc; i++) gz[i] = -gfull[cont[i]!]! * scale[i]!;
    return -v;
  };

  for (let round = 0; round < maxRounds; round++) {
    if (nc > 0) {
      const z0 = new Float64Array(nc);
      for (let i = 0; i < nc; i++) z0[i] = x[cont[i]!]! / scale[i]!;
      const res = minimizeBox(fg, z0, lower, upper, { maxIterations: options.maxIterations ?? 200, gtol: 1e-2, ftol: 1e-9 });
      if (Number.isFinite(res.f) && -res.f > f + IMPROVEMENT) {
        for (let i = 0; i < nc; i++) x[cont[i]!] = Math.min(1, Math.max(0, res.x[i]! * scale[i]!));
        f = -res.f;
      }
    }
    if (disc.length === 0) break;
    let discChanged = false;
    for (const j of disc) {
      const moved = discreteMove(acq, dims[j]!, x, j, f);
      if (moved > f + IMPROVEMENT) {
        f = moved;
        discChanged = true;
      }
    }
    // The continuous phase just ran with these discrete values, so no discrete change means a
    // fixed point of both phases.
    if (!discChanged) break;
  }
  return { x, value: f, origin: 'local' };
}

/** Best value of coordinate j with the others fixed; updates x[j] in place and returns the value. */
function discreteMove(acq: Acquisition, dim: Dimension, x: Float64Array, j: number, current: number): number {
  const original = x[j]!;
  let bestValue = current;
  let bestCoord = original;
  const tryCoord = (c: number): number => {
    x[j] = c;
    const v = acq.value(x);
    if (v > bestValue + IMPROVEMENT) {
      bestValue = v;
      bestCoord = c;
    }
    return v;
  };
  if (dim.kind === 'categorical') {
    for (let c = 0; c < dim.choices; c++) if (c !== original) tryCoord(c);
  } else if (dim.kind === 'discrete') {
    const levels = dim.levels;
    const cur = levelOf(original, levels);
    if (levels <= ENUMERATE_LEVELS) {
      for (let l = 0; l < levels; l++) if (l !== cur) tryCoord(levelCoordinate(l, levels));
    } else {
      // Coarse grid plus the neighbours, then refine around the best level found.
      const seen = new Map<number, number>([[cur, current]]);
      const visit = (l: number): void => {
        if (l < 0 || l >= levels || seen.has(l)) return;
        seen.set(l, tryCoord(levelCoordinate(l, levels)));
      };
      let step = Math.ceil(levels / ENUMERATE_LEVELS);
      for (let l = 0; l < levels; l += step) visit(l);
      visit(levels - 1);
      visit(cur - 1);
      visit(cur + 1);
      while (step > 1) {
        let centre = cur;
        let cv = -Infinity;
        for (const [l, v] of seen) if (v > cv) [centre, cv] = [l, v];
        step = Math.ceil(step / 4);
        for (let k = -3; k <= 3; k++) visit(centre + k * step);
      }
    }
  }
  x[j] = bestCoord;
  return bestValue;
}
