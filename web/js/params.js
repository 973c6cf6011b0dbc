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
  const flats = runs.map((r) => flatParams(r.params));
  const names = [...new Set(flats.flatMap((f) => Object.keys(f)))].sort();
  const varying = [];
  const constants = {};
  for (const name of names) {
    const values = flats.map((f) => f[name]);
    const distinct = new Map(values.map((v) => [JSON.stringify(v) ?? 'undefined', v]));
    if (distinct.size < 2) {
      constants[name] = values[0];
      continue;
    }
    const numeric = values.every((v) => typeof v === 'number');
    const log = numeric && LOG_DISTRIBUTIONS.has(leafSpec(spec, name)?.distribution) && values.every((v) => v > 0);
    varying.push(
      numeric
        ? { name, kind: log ? 'log' : 'value' }
        : { name, kind: 'category', categories: [...distinct.keys()].sort() },
    );
  }
  return { varying, constants };
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
