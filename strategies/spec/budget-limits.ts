/**
 * `harrow.run_timeout` and `harrow.budget`: a wall-clock limit per run and a sweep budget in
 * run-hours or GPU-hours. Checked as strictly as the other `harrow:` keys: a duration needs its
 * unit (s, m or h), a budget names exactly one unit.
 */
import type { BudgetSpec, RunTimeoutSpec } from '../types.js';
import { closestMatch } from './closest-match.js';
import { describe, isMapping, type IssueCollector, type Path } from './issue-collector.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h)$/;

/** `2h`, `90m`, `45s`, `1.5h`: a positive number and its unit. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isFinite(ms) ? Math.round(ms) : null;
}

export function validateRunTimeout(c: IssueCollector, raw: unknown, path: Path): RunTimeoutSpec | undefined {
  const example = 'a duration with its unit, such as 2h, 90m or 45s';
  if (typeof raw === 'number') {
    return c.error(path, `needs a unit (got ${raw}): write ${example}; a bare number could be seconds or hours`);
  }
  if (typeof raw !== 'string') return c.error(path, `must be ${example} (got ${describe(raw)})`);
  const ms = parseDuration(raw);
  if (ms === null) return c.error(path, `must be ${example} (got ${JSON.stringify(raw)}); the units are s, m and h`);
  return { ms, text: raw.trim().replace(/\s+/g, '') };
}

const BUDGET_UNITS = ['run_hours', 'gpu_hours'] as const;

export function validateBudget(c: IssueCollector, raw: unknown, path: Path): BudgetSpec | undefined {
  const example = 'such as {run_hours: 10} or {gpu_hours: 8}';
  if (!isMapping(raw)) return c.error(path, `must be a mapping ${example} (got ${describe(raw)})`);
  const keys = Object.keys(raw);
  for (const k of keys) {
    if (!(BUDGET_UNITS as readonly string[]).includes(k)) {
      const guess = closestMatch(k, BUDGET_UNITS);
      c.error([...path, k], `unknown budget unit${guess ? ` (did you mean ${guess}?)` : ''}; give run_hours (run time of every attempt) or gpu_hours (run time × GPUs the run held)`);
    }
  }
  const given = BUDGET_UNITS.filter((u) => raw[u] !== undefined);
  if (given.length === 0) return keys.length === 0 ? c.error(path, `is empty: give one unit, ${example}`) : undefined;
  if (given.length > 1) return c.error(path, `give one unit, run_hours or gpu_hours, not both ${example}`);
  const unit = given[0]!;
  const v = raw[unit];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    return c.error([...path, unit], `must be a number of hours > 0 (got ${describe(v)}), ${example}`);
  }
  return { unit, limit: v };
}
