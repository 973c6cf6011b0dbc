/**
 * A space whose every leaf takes finitely many values, seen as a mixed-radix grid of cells: the
 * cell of a configuration is the level index of each leaf, in W&B's flattened order (the last leaf
 * varies fastest). Grid search enumerates it; random search uses it to avoid repeats.
 */
import type { ParameterSpec, Params } from '../types.js';
import { flattenParameters, getPath, setPath } from './flatten.js';
import { leafModel, type LeafModel } from './leaf-model.js';

export class DiscreteSpace {
  /** Every leaf, constants included, in W&B order. */
  readonly leaves: readonly LeafModel[];
  /** Leaves with more than one value: the axes of the grid. */
  readonly axes: readonly LeafModel[];
  /** Number of cells; `Infinity` when some leaf is continuous or unbounded. */
  readonly size: number;
  private readonly strides: number[];

  constructor(parameters: { readonly [name: string]: ParameterSpec }) {
    this.leaves = flattenParameters(parameters).map(leafModel);
    // One-valued leaves (constants, `values: [x]`) never distinguish two runs: W&B's grid leaves
    // constants out of its cell hash too.
    this.axes = this.leaves.filter((m) => m.count !== 1);
    this.size = this.axes.reduce((acc, m) => acc * m.count, 1);
    this.strides = new Array<number>(this.axes.length);
    let stride = 1;
    for (let i = this.axes.length - 1; i >= 0; i--) {
      this.strides[i] = stride;
      stride *= this.axes[i]!.count;
    }
  }

  get finite(): boolean {
    return Number.isFinite(this.size);
  }

  /** The cell of `params`, or null when some leaf value is missing or not one of its levels. */
  cellOf(params: Params): number[] | null {
    const cell: number[] = [];
    for (const axis of this.axes) {
      const i = axis.indexOf(getPath(params, axis.flat.path));
      if (i < 0) return null;
      cell.push(i);
    }
    return cell;
  }

  /** Position of a cell in grid order (needs `size` ≤ 2^53). */
  indexOf(cell: readonly number[]): number {
    let index = 0;
    cell.forEach((c, i) => (index += c * this.strides[i]!));
    return index;
  }

  cellAt(index: number): number[] {
    return this.axes.map((axis, i) => Math.floor(index / this.strides[i]!) % axis.count);
  }

  /** The full configuration of a cell, constants included. */
  paramsOf(cell: readonly number[]): Params {
    const params: Params = {};
    let a = 0;
    for (const leaf of this.leaves) {
      const level = leaf.count === 1 ? 0 : cell[a++]!;
      setPath(params, leaf.flat.path, leaf.value(level));
    }
    return params;
  }
}
