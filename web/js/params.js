// What the sweep's parameters look like across its runs: which vary (one table column, one
// parallel axis, one slice plot each), which are constant (shown once), and how each is scaled.

import { flatParams } from './dom.js';

const LOG_DISTRIBUTIONS = new Set(['log_uniform', 'log_uniform_values', 'q_log_uniform', 'q_log_uniform_values', 'inv_log_uniform', 'inv_log_uniform_values', 'log_normal', 'q_log_normal']);

/** The sweep file's spec of a dotted parameter name, if any. */
function leafSpec(spec, name) {
  let block = spec?.parameters;
  const parts = name.split('.');
  for (let i = 0; i < parts.length; i++) {
    const p = block?.[parts[i]];
    if (!p) return null;
    if (i === parts.length - 1) return p;
    block = p.parameters;
  }
  return null;
}

/**
 * Parameters of `runs`: `varying` ({ name, kind: 'log' | 'value' | 'category', categories? }) in
 * name order, and `constants` (name → value). A parameter is numeric when every run gives it a
 * number; log when its distribution is a log one and every value is positive.
 */
export function describeParams(spec, runs) {
  // Flattened once per run (memoized on it): the table, the parallel axes and the slices each ask.
  const flats = runs.map(flatOf);
  const names = new Set();
  for (const f of flats) for (const k of Object.keys(f)) names.add(k);
  const varying = [];
  const constants = {};
  for (const name of [...names].sort()) {
    const values = flats.map((f) => f[name]);
    if (values.every((v) => typeof v === 'number')) {
      // Numbers (finite: they came as JSON) differ or not without their JSON text, which was most
      // of the page's own work at 10,000 runs of a continuous parameter.
      if (values.every((v) => v === values[0])) {
        constants[name] = values[0];
        continue;
      }
      const log = LOG_DISTRIBUTIONS.has(leafSpec(spec, name)?.distribution) && values.every((v) => v > 0);
      varying.push({ name, kind: log ? 'log' : 'value' });
      continue;
    }
    const distinct = new Map(values.map((v) => [JSON.stringify(v) ?? 'undefined', v]));
    if (distinct.size < 2) {
      constants[name] = values[0];
      continue;
    }
    varying.push({ name, kind: 'category', categories: [...distinct.keys()].sort() });
  }
  return { varying, constants };
}

/** Flattened params of a run, memoized on the run object (runs are replaced, never mutated). */
export function flatOf(run) {
  if (!run._flat) Object.defineProperty(run, '_flat', { value: flatParams(run.params), enumerable: false });
  return run._flat;
}

/** The value of a varying parameter as an axis takes it (categories by their JSON text). */
export function axisValue(param, flat) {
  const v = flat[param.name];
  return param.kind === 'category' ? (JSON.stringify(v) ?? 'undefined') : v;
}

/** A category's label: the value itself, not its JSON. */
export function categoryLabel(json) {
  try {
    const v = JSON.parse(json);
    return typeof v === 'string' ? v : json;
  } catch {
    return json;
  }
}
