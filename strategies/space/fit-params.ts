/**
 * A configuration recorded under an earlier version of a sweep's spec, or imported from elsewhere,
 * seen through the sweep's current space: keys the space does not have (a dropped parameter, the
 * extra config columns of a W&B export) are left out, a parameter added by an edit takes its
 * `harrow.paramDefaults` value when missing, and what is left must lie in the space, else the
 * reason is given. Values are never clipped into a narrowed range: a run outside the new space is
 * not what the space would have run, so it is excluded from the model (and counted), not moved.
 */
import type { JsonValue, ParameterSpec, Params, SweepSpec } from '../types.js';
import { paramsIssues } from './encode-space.js';
import { cloneJson, flattenParameters, getPath, setPath } from './flatten.js';

export type FitResult = { ok: true; params: Params } | { ok: false; reason: string; path: string; message: string };

function keepKnown(value: Params, block: { readonly [name: string]: ParameterSpec }): Params {
  const out: Params = {};
  for (const [key, v] of Object.entries(value)) {
    const child = block[key];
    if (!child) continue;
    if (child.distribution === 'nested') {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[key] = keepKnown(v, child.parameters);
      else out[key] = cloneJson(v);
    } else out[key] = cloneJson(v);
  }
  return out;
}

export function fitParams(spec: Pick<SweepSpec, 'parameters' | 'harrow'>, params: Params): FitResult {
  const fitted = keepKnown(params, spec.parameters);
  const defaults = spec.harrow?.paramDefaults ?? {};
  for (const leaf of flattenParameters(spec.parameters)) {
    if (getPath(fitted, leaf.path) !== undefined) continue;
    const d: JsonValue | undefined = defaults[leaf.name];
    if (d !== undefined) setPath(fitted, leaf.path, cloneJson(d));
  }
  const issues = paramsIssues(spec, fitted);
  if (issues.length === 0) return { ok: true, params: fitted };
  const first = issues[0]!;
  const path = first.path.join('.');
  return { ok: false, path, message: first.message, reason: `${path} ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}` };
}

/**
 * Observations (or any records with params) fitted to the space: the ones that fit, with their
 * params as the space sees them, and how many were left out with a few reasons (counted by reason).
 */
export function fitAll<T extends { params: Params }>(
  spec: Pick<SweepSpec, 'parameters' | 'harrow'>,
  items: readonly T[],
): { fit: T[]; excluded: number; reasons: Map<string, number> } {
  const fit: T[] = [];
  const reasons = new Map<string, number>();
  let excluded = 0;
  for (const item of items) {
    const r = fitParams(spec, item.params);
    if (r.ok) fit.push({ ...item, params: r.params });
    else {
      excluded++;
      // Counted by parameter and kind of issue, not by value, so a thousand rows give a few lines.
      const key = `${r.path} ${r.message.replace(/^-?\d+(\.\d+)?(e[-+]?\d+)? /i, '… ').replace(/"[^"]*"/g, '"…"')}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
  }
  return { fit, excluded, reasons };
}
