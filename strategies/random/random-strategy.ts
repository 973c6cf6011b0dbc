/**
 * Random search: each configuration drawn from the prior with W&B's laws. Beyond W&B, when every
 * parameter takes finitely many values (categorical, int_uniform, bounded quantized), a
 * configuration is not repeated until every one has been tried (wandb/wandb#4682): finished,
 * failed, running and queued runs all count, so parallel agents get different configurations. Once
 * all have been tried, a new round starts, again without repeats within the round.
 *
 * Stateless and deterministic: proposal number n (= observations + pending + its place in this
 * call) uses the generator `Rng.from(seed, n)`, and repeats are avoided by looking at the history
 * handed in, so the controller can call it any number of times, on any replica, after a restart.
 *
 * The law of a proposal is the prior restricted to the configurations not yet tried in this round:
 * first by rejection (a few draws from the prior), then, when the untried part of the space has
 * little prior mass, by exact conditional sampling leaf by leaf.
 */
import type { Params, Proposal, ProposeInput, Strategy, StrategyOptions, SweepSpec } from '../types.js';
import { DiscreteSpace } from '../space/discrete-space.js';
import { Rng } from '../space/rng.js';
import { sampleFromModels } from '../space/sample-params.js';

/** Rejection draws before switching to exact conditional sampling. */
const REJECTION_TRIES = 32;

export function createRandomStrategy(spec: Pick<SweepSpec, 'parameters'>, options: StrategyOptions): Strategy {
  const space = new DiscreteSpace(spec.parameters);
  const seed = options.seed;
  const finite = space.finite && Number.isSafeInteger(space.size);
  return {
    method: 'random',
    size: finite ? space.size : null,
    propose(input: ProposeInput): Proposal[] {
      const base = input.observations.length + input.pending.length;
      if (!finite) {
        return Array.from({ length: input.count }, (_, j) => ({
          params: sampleFromModels(space.leaves, Rng.from(seed, base + j)),
          info: { source: 'random' },
        }));
      }
      const usage = new Usage(space);
      for (const o of input.observations) usage.add(o.params);
      for (const p of input.pending) usage.add(p);
      const proposals: Proposal[] = [];
      for (let j = 0; j < input.count; j++) {
        const rng = Rng.from(seed, base + j);
        const { cell, round } = usage.choose(rng);
        usage.addCell(cell);
        proposals.push({ params: space.paramsOf(cell), info: { source: 'random', round } });
      }
      return proposals;
    },
  };
}

/** How many runs hold each cell, and sampling among the cells the current round has not used. */
class Usage {
  private readonly counts = new Map<string, number>();

  constructor(private readonly space: DiscreteSpace) {}

  add(params: Params): void {
    const cell = this.space.cellOf(params);
    if (cell) this.addCell(cell);
  }

  addCell(cell: readonly number[]): void {
    const key = cell.join(',');
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /**
   * The round is the number of times every cell has been used; cells used more often than that are
   * blocked until the others catch up.
   */
  choose(rng: Rng): { cell: number[]; round: number } {
    let floor = 0;
    if (this.counts.size >= this.space.size) {
      floor = Infinity;
      for (const n of this.counts.values()) floor = Math.min(floor, n);
    }
    const blocked = (cell: readonly number[]): boolean => (this.counts.get(cell.join(',')) ?? 0) > floor;
    for (let t = 0; t < REJECTION_TRIES; t++) {
      const cell = this.space.cellOf(sampleFromModels(this.space.leaves, rng));
      if (cell && !blocked(cell)) return { cell, round: floor + 1 };
    }
    const blockedCells: number[][] = [];
    for (const [key, n] of this.counts) if (n > floor) blockedCells.push(key.split(',').map(Number));
    return { cell: this.conditional(rng, blockedCells), round: floor + 1 };
  }

  /**
   * Exact draw from the prior restricted to unblocked cells, one axis at a time: level v of axis d
   * is weighted by its prior mass times the prior mass of the unblocked cells below it.
   */
  private conditional(rng: Rng, blockedCells: number[][]): number[] {
    const axes = this.space.axes;
    // suffixMass[c][d] = prior mass of blocked cell c's levels on axes d.. (its share of the subtree).
    const suffixMass = blockedCells.map((cell) => {
      const s = new Array<number>(axes.length + 1).fill(1);
      for (let d = axes.length - 1; d >= 0; d--) s[d] = s[d + 1]! * axes[d]!.mass(cell[d]!);
      return s;
    });
    // cellsBelow[d] = number of cells in a subtree whose first d axes are fixed.
    const cellsBelow = new Array<number>(axes.length + 1).fill(1);
    for (let d = axes.length - 1; d >= 0; d--) cellsBelow[d] = cellsBelow[d + 1]! * axes[d]!.count;

    let candidates = blockedCells.map((_, i) => i);
    const chosen: number[] = [];
    axes.forEach((axis, d) => {
      const blockedMass = new Float64Array(axis.count);
      const blockedCount = new Float64Array(axis.count);
      for (const i of candidates) {
        const v = blockedCells[i]![d]!;
        blockedMass[v]! += suffixMass[i]![d + 1]!;
        blockedCount[v]! += 1;
      }
      const weights = new Float64Array(axis.count);
      const eligible: number[] = [];
      let total = 0;
      for (let v = 0; v < axis.count; v++) {
        if (blockedCount[v]! >= cellsBelow[d + 1]!) continue; // every cell below is blocked
        eligible.push(v);
        const w = axis.mass(v) * Math.max(0, 1 - blockedMass[v]!);
        weights[v] = w;
        total += w;
      }
      let pick: number;
      if (total > 0) {
        let u = rng.uniform() * total;
        pick = eligible.findLast((v) => weights[v]! > 0)!;
        for (const v of eligible) {
          u -= weights[v]!;
          if (u < 0 && weights[v]! > 0) {
            pick = v;
            break;
          }
        }
      } else {
        // Rounding left no weight (levels of vanishing mass): pick among the open ones evenly.
        pick = eligible[rng.int(eligible.length)]!;
      }
      chosen.push(pick);
      candidates = candidates.filter((i) => blockedCells[i]![d] === pick);
    });
    return chosen;
  }
}
