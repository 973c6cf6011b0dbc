/**
 * `harrow.warm_start`: where a sweep's prior results come from. The block's shape is a zod schema
 * (its keys are few and fixed); its issues are reported through the collector with their paths like
 * every other key. Whether the sweep named in `from` exists and its space is compatible is checked
 * by the controller when the sweep is created (the spec itself is pure).
 */
import { z } from 'zod';
import type { WarmStartSpec } from '../types.js';
import type { IssueCollector, Path } from './issue-collector.js';

const RunId = z.string().min(1, 'a run id cannot be empty').max(200);

export const WarmStartSchema = z
  .object({
    from: z.string().min(1, 'give the id of a sweep (harrow status lists them)').max(100).optional(),
    file: z.string().min(1, 'give the path of a CSV or JSON file of results').max(1000).optional(),
    prior_runs: z.array(RunId).min(1, 'list at least one run id, or leave prior_runs out').max(10_000).optional(),
  })
  .strict()
  .refine((w) => (w.from === undefined) !== (w.file === undefined), {
    message: 'give exactly one source: from: SWEEP_ID (another sweep\'s runs) or file: results.csv (a W&B or MLflow export)',
  });

export function validateWarmStart(c: IssueCollector, raw: unknown, path: Path): WarmStartSpec | undefined {
  const parsed = WarmStartSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const at = [...path, ...issue.path.map(String)];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) c.error([...path, key], 'unknown key; warm_start takes from, file and prior_runs');
      } else if (issue.code === 'invalid_type' && issue.path.length === 0) {
        c.error(path, 'must be a mapping such as {from: SWEEP_ID} or {file: results.csv}');
      } else c.error(at, issue.message);
    }
    return undefined;
  }
  const w = parsed.data;
  return {
    ...(w.from !== undefined ? { from: w.from } : {}),
    ...(w.file !== undefined ? { file: w.file } : {}),
    ...(w.prior_runs !== undefined ? { priorRuns: w.prior_runs } : {}),
  };
}
