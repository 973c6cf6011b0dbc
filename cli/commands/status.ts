/** `harrow status [SWEEP]`: the sweeps at a glance, or one sweep's state, run counts and best run. */
import type { SweepDetail, SweepSummary } from '../../protocol/api.js';
import { SWEEP_STATES, type SweepStateName } from '../../protocol/run-states.js';
import { UsageError } from '../command.js';
import {
  formatAge,
  formatBest,
  formatCounts,
  formatDuration,
  formatMetric,
  formatNumber,
  formatParams,
  formatProgress,
  paint,
  renderTable,
  sweepStateCell,
  truncate,
  type Cell,
} from '../format.js';
import { defineApiVerb, parseCliArgs, type VerbContext } from './api-verb.js';

const USAGE = `Usage: harrow status [SWEEP] [--state STATES] [--json]

Without SWEEP: a table of the sweeps, newest first. With SWEEP: its state, runs by state,
progress toward its run cap or grid size, and the best run so far.

Options:
  --state STATES  only sweeps in these states, comma-separated (${SWEEP_STATES.join(', ')})
  --json          print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN.`;

export const statusCommand = defineApiVerb({
  name: 'status',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { state: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (expected at most one SWEEP)`);
    const [id] = positionals;
    if (id !== undefined) {
      if (values.state !== undefined) throw new UsageError('--state filters the list of sweeps; leave it out when giving a SWEEP');
      const sweep = await ctx.client().getSweep(id);
      if (values.json) ctx.out.json(sweep);
      else printSweep(ctx, sweep);
      return 0;
    }
    const states = values.state === undefined ? undefined : sweepStates(values.state);
    const sweeps = await ctx.client().listSweeps(states);
    if (values.json) ctx.out.json({ sweeps });
    else printSweeps(ctx, sweeps, states !== undefined);
    return 0;
  },
});

function sweepStates(text: string): SweepStateName[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = parts.filter((p) => !(SWEEP_STATES as readonly string[]).includes(p));
  if (parts.length === 0 || bad.length > 0) {
    throw new UsageError(`--state: unknown sweep state '${bad.join(', ')}'; use one or more of ${SWEEP_STATES.join(', ')} separated by commas`);
  }
  return parts as SweepStateName[];
}

function printSweeps(ctx: VerbContext, sweeps: SweepSummary[], filtered: boolean): void {
  const { out } = ctx;
  if (sweeps.length === 0) {
    out.line(filtered ? 'No sweeps in those states.' : 'No sweeps yet. Create one with `harrow create sweep.yaml`.');
    return;
  }
  const now = ctx.now();
  const rows: Cell[][] = sweeps.map((s) => [
    s.id,
    s.name ?? '',
    sweepStateCell(s),
    s.method,
    s.metric ? `${s.metric.goal === 'minimize' ? 'min' : 'max'} ${s.metric.name}` : '-',
    limitText(s),
    String(s.counts.running),
    formatNumber(s.best?.value),
    formatAge(s.createdAt, now),
  ]);
  out.line(
    ...renderTable(
      [
        { header: 'ID' },
        { header: 'NAME', shrink: true, maxWidth: 40 },
        { header: 'STATE' },
        { header: 'METHOD' },
        { header: 'METRIC', shrink: true, maxWidth: 30 },
        { header: 'RUNS', align: 'right' },
        { header: 'RUNNING', align: 'right' },
        { header: 'BEST', align: 'right' },
        { header: 'CREATED' },
      ],
      rows,
      { style: out.style, width: out.columns },
    ),
  );
}

/** `12/50` against the run cap or grid size, whichever ends the sweep first. */
function limitText(s: SweepSummary): string {
  const limits = [s.runCap, s.expectedRuns].filter((n): n is number => n !== null);
  return limits.length > 0 ? `${s.counts.total}/${Math.min(...limits)}` : String(s.counts.total);
}

/** `3.2/10 run-hours spent (32%)`: three significant digits, as the server's reason says it. */
export function budgetText(b: NonNullable<SweepDetail['budget']>): string {
  const pct = b.limit > 0 ? Math.min(999, Math.floor((100 * b.spent) / b.limit)) : 0;
  return `${Number(b.spent.toPrecision(3))}/${b.limit} ${b.unit.replace('_', '-')} spent (${pct}%)`;
}

function printSweep(ctx: VerbContext, s: SweepDetail): void {
  const { out } = ctx;
  const now = ctx.now();
  const b = (t: string): string => paint(out.style, 'bold', t);
  const reason = s.stateReason ? ` (${s.stateReason})` : '';
  const state = sweepStateCell(s);
  const ended = s.endedAt ? `, ended ${formatAge(s.endedAt, now)}` : '';
  out.line(
    `${b('Sweep')}    ${s.id}${s.name ? `  '${s.name}'` : ''}`,
    `${b('State')}    ${paint(out.style, state.color, state.text)}${reason}`,
    `${b('Method')}   ${s.method}, ${formatMetric(s.metric)}`,
    `${b('Runs')}     ${formatProgress(s)}`,
    `         ${formatCounts(s.counts, out.style)}`,
    `${b('Best')}     ${formatBest(s.best, s.metric)}`,
  );
  if (s.best && Object.keys(s.best.params).length > 0) out.line(`         ${formatParams(s.best.params, Math.max(40, (out.columns ?? 120) - 9))}`);
  if (s.budget) out.line(`${b('Budget')}   ${budgetText(s.budget)}`);
  if (s.runTimeoutMs !== undefined) out.line(`${b('Timeout')}  ${formatDuration(s.runTimeoutMs)} per run (harrow.run_timeout)`);
  out.line(`${b('Created')}  ${formatAge(s.createdAt, now)}${ended}`);
  for (const w of s.warnings) out.line(paint(out.style, 'yellow', truncate(`warning: ${w.path ? `${w.path}: ` : ''}${w.message}`, 500)));
  if (s.state === 'running' || s.state === 'paused') {
    out.line('', `Agents join with: ${s.agentCommand}`);
  }
}
