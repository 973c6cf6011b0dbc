/** What `harrow warm-start` and `harrow create` (with harrow.warm_start) print about an import. */
import type { ImportOutcome } from '../../protocol/api.js';
import type { Printer } from './api-verb.js';

export function printImportOutcome(out: Printer, r: ImportOutcome): void {
  out.line(`Imported ${r.imported} of ${r.rows} ${r.format === 'sweep' ? 'runs' : 'rows'} from ${r.source}${r.format === 'sweep' ? '' : ` (${r.format})`}: seen by the strategy, not counted as runs of the sweep.`);
  if (r.skipped === 0) return;
  out.line(`Left out ${r.skipped}:`);
  for (const x of r.reasons.slice(0, 10)) out.line(`  ${x.count} × ${x.reason}`);
  if (r.examples.length > 0) out.line(`  e.g. ${r.examples.map((e) => `${e.row}: ${e.reason}`).join('; ')}`);
}
