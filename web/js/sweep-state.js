// One sweep page's state, shared by every panel: the runs, the one selection all views follow
// (brushed ranges of the parallel coordinates and the table's filters), the runs checked for
// comparison, and a tiny event bus so each panel redraws only on what concerns it.

export const RUN_STATES = ['queued', 'running', 'finished', 'failed', 'crashed', 'stopped', 'canceled', 'preempted'];

export function createState(id) {
  const listeners = new Map();
  return {
    id,
    sweep: null,
    best: null,
    runs: new Map(),
    total: 0,
    /** Run ids inside the parallel-coordinates brush; null when nothing is brushed. */
    brushed: null,
    /** The table's filters: run states shown, and a metric range. */
    filter: { states: new Set(RUN_STATES), min: null, max: null },
    /** Runs ticked for comparison, in the order they were ticked. */
    checked: new Set(),
    /**
     * The parallel-coordinates axes from left to right, as the user arranged them (axis ids:
     * `param:<name>`, `metric`); null until they move one. New parameters join at the end.
     */
    axisOrder: null,
    /** The metric the learning curves and the compare view draw. */
    curveMetric: null,
    on(kind, fn) {
      if (!listeners.has(kind)) listeners.set(kind, []);
      listeners.get(kind).push(fn);
    },
    /** kind: 'runs' (data changed), 'selection' (brush or filters), 'checked', 'sweep', 'axes' (axis order). */
    emit(kind) {
      for (const fn of listeners.get(kind) ?? []) fn(kind);
    },
  };
}

/**
 * Puts `runs` (as the API sends them) into the state; true when any is new or differs from what
 * the page holds. A catch-up that finds nothing new then redraws nothing: at 10,000 runs a
 * needless 'runs' event redrew every chart, 0.7 s of the page's main thread.
 */
export function mergeRuns(state, runs) {
  let changed = false;
  for (const r of runs) {
    const had = state.runs.get(r.id);
    if (had && JSON.stringify(had) === JSON.stringify(r)) continue;
    state.runs.set(r.id, r);
    changed = true;
  }
  return changed;
}

/** Whether a run passes the shared selection. */
export function selected(state, run) {
  if (state.brushed && !state.brushed.has(run.id)) return false;
  const f = state.filter;
  if (!f.states.has(run.state)) return false;
  if ((f.min !== null || f.max !== null) && (run.value === null || (f.min !== null && run.value < f.min) || (f.max !== null && run.value > f.max))) return false;
  return true;
}

export function visibleRuns(state) {
  return [...state.runs.values()].filter((r) => selected(state, r));
}

export function selectionActive(state) {
  const f = state.filter;
  return state.brushed !== null || f.states.size !== RUN_STATES.length || f.min !== null || f.max !== null;
}

export function goalOf(state) {
  return state.sweep.metric?.goal ?? 'minimize';
}

/** Better value first; runs without a value last; then the newer run. */
export function byValue(state) {
  const sign = goalOf(state) === 'maximize' ? -1 : 1;
  return (a, b) => {
    if (a.value === null || b.value === null) return a.value === null ? (b.value === null ? b.number - a.number : 1) : -1;
    return sign * (a.value - b.value) || a.number - b.number;
  };
}

/** Every metric name the runs logged (from their summaries), the sweep's metric first. */
export function metricNames(state) {
  const names = new Set();
  for (const r of state.runs.values()) for (const k of Object.keys(r.summary ?? {})) names.add(k);
  const main = state.sweep.metric?.name;
  const rest = [...names].filter((n) => n !== main).sort();
  return main ? [main, ...rest] : rest;
}

/**
 * The axis ids in the order to draw them: the user's order for the ids it knows, then any new ones
 * in their default order.
 */
export function orderedAxes(saved, ids) {
  if (!saved) return ids;
  const known = saved.filter((id) => ids.includes(id));
  return [...known, ...ids.filter((id) => !known.includes(id))];
}

/** `order` with `id` moved by `delta` places (clamped to the ends). */
export function moveAxis(order, id, delta) {
  const from = order.indexOf(id);
  if (from < 0) return order;
  const to = Math.max(0, Math.min(order.length - 1, from + delta));
  const next = order.filter((x) => x !== id);
  next.splice(to, 0, id);
  return next;
}
