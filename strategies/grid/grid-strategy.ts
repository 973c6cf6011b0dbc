/**
 * Grid search in W&B's order: parameters sorted by name (depth first through nested blocks), the
 * last one varying fastest, `values` in listed order, `int_uniform` as every integer from min to
 * max, and `q_uniform` as every multiple of q from min to max.
 *
 * Where Harrow differs from W&B, on purpose:
 * - `q_uniform` includes max. W&B's grid uses numpy's half-open `arange(min, max, q)`, so
 *   `{min: 0, max: 1, q: 0.25}` gives 0, .25, .5, .75 on a grid while random search of the same
 *   parameter returns 1.0 as well; the grid and the law disagree. Harrow's grid is exactly the set
 *   of values random search can return (`round(x/q)·q` for x in [min, max]), so both agree and the
 *   bound the user wrote is tried.
 * - The size is known up front (`size`), and a cell held by any run in the history (finished,
 *   failed, crashed, stopped, canceled) or pending (queued, running) is never handed out again, so
 *   parallel agents never duplicate a cell and the grid ends (`propose` returns fewer proposals, then
 *   none). W&B's cell hash is the same idea, but its server re-issues leased cells (wandb#3522).
 * - Failed and crashed cells stay held: they are re-run as new attempts of the same run by the
 *   controller's retry policy (`harrow.retry`), not re-proposed as new runs.
 *
 * Values are identified canonically (3 and 3.0 are one value, objects compare with sorted keys),
 * so history read back from the database matches its cell.
 */
import type { Proposal, ProposeInput, Strategy, SweepSpec } from '../types.js';
import { DiscreteSpace } from '../space/discrete-space.js';

export function createGridStrategy(spec: Pick<SweepSpec, 'parameters'>): Strategy {
  const space = new DiscreteSpace(spec.parameters);
  for (const leaf of space.leaves) {
    const d = leaf.flat.spec.distribution;
    if (d !== 'constant' && d !== 'categorical' && d !== 'int_uniform' && d !== 'q_uniform') {
      throw new Error(`grid search cannot enumerate ${leaf.flat.name} (${d}); parseSweepConfig refuses such a sweep`);
    }
  }
  if (!Number.isSafeInteger(space.size)) throw new Error(`the grid has ${space.size} cells, too many to enumerate`);
  return {
    method: 'grid',
    size: space.size,
    propose(input: ProposeInput): Proposal[] {
      const held = new Set<number>();
      for (const p of [...input.observations.map((o) => o.params), ...input.pending]) {
        const cell = space.cellOf(p);
        if (cell) held.add(space.indexOf(cell));
      }
      const proposals: Proposal[] = [];
      for (let index = 0; index < space.size && proposals.length < input.count; index++) {
        if (held.has(index)) continue;
        proposals.push({ params: space.paramsOf(space.cellAt(index)), info: { source: 'grid', cell: index + 1, of: space.size } });
      }
      return proposals;
    },
  };
}
