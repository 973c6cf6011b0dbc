/** What `harrow extend|rerun|enqueue|clone` print: the sweep after the change and the runs it created. */
import type { SteerResponse } from '../../protocol/api.js';
import { formatCounts, formatParams, paint, stateColor } from '../format.js';
import type { Printer } from './api-verb.js';

export function printSteerOutcome(out: Printer, res: SteerResponse, head: string): void {
  const s = res.sweep;
  const cap = s.runCap === null ? 'no run_cap' : `run_cap ${s.runCap}`;
  out.line(`${head} Sweep ${s.id} is ${paint(out.style, stateColor(s.state), s.state)} (${cap}).`);
  for (const r of res.runs) {
    const link = r.rerunOf ? ` (rerun of ${r.rerunOf})` : '';
    out.line(`  run #${r.number} ${r.id} ${paint(out.style, stateColor(r.state), r.state)}${link}: ${formatParams(r.params, 100)}`);
  }
  out.line(`Runs: ${formatCounts(s.counts, out.style)}`);
  if (s.counts.running === 0 && s.state === 'running') out.line(`Agents take the runs: harrow agent ${s.id}`);
}
