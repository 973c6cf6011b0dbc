/**
 * Random search: each configuration drawn from the prior with W&B's laws, so over many runs every
 * parameter's values appear with the frequencies its distribution gives (W&B: with replacement).
 *
 * One addition that leaves those laws unchanged: the leaves whose law is *uniform over finitely
 * many values* (`values:` without `probabilities` and without duplicates, `int_uniform`, a quantized
 * leaf whose levels happen to carry equal mass) are drawn in rounds. Their combination is not
 * repeated until every combination has run (wandb/wandb#4682): finished, failed, running and queued
 * runs all count, so parallel agents get different combinations; then a new round starts. Within a
 * round each untried combination is equally likely, so each combination still runs equally often,
 * which is the uniform law. Every other leaf (weighted `values:`, quantized leaves whose end levels
 * carry less mass, continuous leaves) is drawn independently with its own law, and may repeat. So a
 * space of only uniform leaves never repeats a configuration before exhausting it, and a weighted
 * categorical `[0.9, 0.1]` still runs about 9 times in 10 (a round over all cells would give 1 in 2).
 *
 * Stateless and deterministic: proposal number n (= observations + pending + its place in this
 * call) uses the generator `Rng.from(seed, n)`, and repeats are avoided by looking at the history
 * handed in, so the controller can call it any number of times, on any replica, after a restart.
 */
import type { Params, Proposal, ProposeInput, Strategy, StrategyOptions, SweepSpec } from '../types.js';
import { DiscreteSpace } from '../space/discrete-space.js';
import { getPath, setPath } from '../space/flatten.js';
import type { LeafModel } from '../space/leaf-model.js';
import { Rng } from '../space/rng.js';
import { sampleFromModels } from '../space/sample-params.js';

/** Rejection draws before switching to an exact draw among the untried combinations. */
const REJECTION_TRIES = 32;
/** Quantized leaves with more levels than this are not checked for equal masses (treated as weighted). */
const MAX_LEVELS_CHECKED = 100_000;

export function createRandomStrategy(spec: Pick<SweepSpec, 'parameters'>, options: StrategyOptions): Strategy {
  const space = new DiscreteSpace(spec.parameters);
  const seed = options.seed;
  const finite = space.finite && Number.isSafeInteger(space.size);
  const uniform = space.axes.filter(isUniformLeaf);
  const roundSize = uniform.reduce((acc, m) => acc * m.count, 1);
  const rounds = uniform.length > 0 && Number.isSafeInteger(roundSize);
  return {
    method: 'random',
    size: finite ? space.size : null,
    propose(input: ProposeInput): Proposal[] {
      const base = input.observations.length + input.pending.length;
      if (!rounds) {
        return Array.from({ length: input.count }, (_, j) => ({
          params: sampleFromModels(space.leaves, Rng.from(seed, base + j)),
          info: { source: 'random' },
        }));
      }
      const usage = new Usage(uniform, roundSize);
      for (const o of input.observations) usage.add(o.params);
      for (const p of input.pending) usage.add(p);
      const proposals: Proposal[] = [];
      for (let j = 0; j < input.count; j++) {
        const rng = Rng.from(seed, base + j);
        const params = sampleFromModels(space.leaves, rng);
        const { cell, round } = usage.choose(usage.cellOf(params), rng);
        usage.addCell(cell);
        uniform.forEach((leaf, i) => setPath(params, leaf.flat.path, leaf.value(cell[i]!)));
        proposals.push({ params, info: { source: 'random', round } });
      }
      return proposals;
    },
  };
}

/** True when the leaf takes finitely many values, all with the same prior mass. */
function isUniformLeaf(leaf: LeafModel): boolean {
  if (!Number.isFinite(leaf.count) || leaf.count < 2) return false;
  if (leaf.flat.spec.distribution === 'int_uniform') return true;
  if (leaf.count > MAX_LEVELS_CHECKED) return false;
  for (let i = 0; i < leaf.count; i++) if (Math.abs(leaf.mass(i) * leaf.count - 1) > 1e-9) return false;
  return true;
}

/** How many runs hold each combination of the uniform leaves, and drawing among those the current round has not used. */
class Usage {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly axes: readonly LeafModel[],
    private readonly size: number,
  ) {}

  /** The level of each uniform leaf in `params`, or null when one is missing or off its levels. */
  cellOf(params: Params): number[] | null {
    const cell: number[] = [];
    for (const axis of this.axes) {
      const i = axis.indexOf(getPath(params, axis.flat.path));
      if (i < 0) return null;
      cell.push(i);
    }
    return cell;
  }

  add(params: Params): void {
    const cell = this.cellOf(params);
    if (cell) this.addCell(cell);
  }

  addCell(cell: readonly number[]): void {
    const key = cell.join(',');
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /**
   * The round is the number of times every combination has been used; combinations used more often
   * than that are blocked until the others catch up. `first` is the prior draw's own combination.
   */
  choose(first: number[] | null, rng: Rng): { cell: number[]; round: number } {
    let floor = 0;
    if (this.counts.size >= this.size) {
      floor = Infinity;
      for (const n of this.counts.values()) floor = Math.min(floor, n);
    }
    const open = (cell: readonly number[]): boolean => (this.counts.get(cell.join(',')) ?? 0) <= floor;
    if (first && open(first)) return { cell: first, round: floor + 1 };
    for (let t = 1; t < REJECTION_TRIES; t++) {
      const cell = this.axes.map((a) => a.indexOf(a.sample(rng)));
      if (open(cell)) return { cell, round: floor + 1 };
    }
    return { cell: this.pickOpen(rng, floor), round: floor + 1 };
  }

  /**
   * An exact uniform draw among the open combinations, when few are left: the k-th open one in
   * mixed-radix order, found by skipping blocked ones (there are fewer blocked ones than runs).
   */
  private pickOpen(rng: Rng, floor: number): number[] {
    const strides: number[] = new Array<number>(this.axes.length);
    let stride = 1;
    for (let i = this.axes.length - 1; i >= 0; i--) {
      strides[i] = stride;
      stride *= this.axes[i]!.count;
    }
    const blocked: number[] = [];
    for (const [key, n] of this.counts) {
      if (n > floor) blocked.push(key.split(',').reduce((acc, c, i) => acc + Number(c) * strides[i]!, 0));
    }
    blocked.sort((a, b) => a - b);
    // The k-th open index: walk past every blocked index at or below the running candidate.
    let index = rng.int(this.size - blocked.length);
    for (const b of blocked) {
      if (b <= index) index++;
      else break;
    }
    return this.axes.map((axis, i) => Math.floor(index / strides[i]!) % axis.count);
  }
}
