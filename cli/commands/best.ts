/** `harrow best SWEEP`: the best run so far (params, value, step) and how the best improved. */
import type { BestResponse, RecommendationResponse, SweepDetail } from '../../protocol/api.js';
import { bestSoFarSeries, formatAge, formatBest, formatNumber, formatValue, paint, renderTable, sparkline } from '../format.js';
import { defineApiVerb, parseCliArgs, positionalArgs, SWEEP_HINT, type VerbContext } from './api-verb.js';

const USAGE = `Usage: harrow best SWEEP [--json]

The sweep's best run so far: its parameters, its value of the sweep metric and the step it was
reached at; the recommended run (the finished run with the best GP posterior mean: on a noisy
metric the best observed value is partly the luckiest draw); then the best-so-far curve over the
finished runs (a sparkline and each improvement).

Options:
  --json   print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN.`;

/** Improvements listed under the sparkline; older ones are summarized in one line. */
const MAX_IMPROVEMENTS = 15;

export const bestCommand = defineApiVerb({
  name: 'best',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { json: { type: 'boolean' } });
    const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
    const client = ctx.client();
    if (values.json) {
      ctx.out.json(await client.best(id));
      return 0;
    }
    const [sweep, best, rec] = await Promise.all([
      client.getSweep(id),
      client.best(id),
      // An older server has no recommendation route: the rest still prints.
      client.recommendation(id).catch(() => null),
    ]);
    printBest(ctx, sweep, best, rec);
    return 0;
  },
});

function printBest(ctx: VerbContext, sweep: SweepDetail, res: BestResponse, rec: RecommendationResponse | null): void {
  const { out } = ctx;
  const b = (t: string): string => paint(out.style, 'bold', t);
  if (!sweep.metric) {
    out.line(`Sweep ${sweep.id} has no metric, so no run is best. Add \`metric: {name, goal}\` to the sweep file to rank runs.`);
    return;
  }
  if (!res.best) {
    out.line(`${b('Best')}  ${formatBest(null, sweep.metric)}; ${countedText(res.counted)} with a value.`);
    return;
  }
  out.line(`${b('Best')}  ${formatBest(res.best, sweep.metric)}, ${sweep.metric.goal}`, `${b('Run')}   ${res.best.runId}`);
  const keys = Object.keys(res.best.params).sort();
  if (keys.length > 0) {
    out.line(b('Params'));
    const params = res.best.params;
    out.line(...renderTable([{ header: 'NAME' }, { header: 'VALUE', shrink: true, minWidth: 20 }], keys.map((k) => [k, formatValue(params[k])]), { style: out.style, width: out.columns }).slice(1).map((l) => `  ${l}`));
  }
  printRecommendation(ctx, rec);
  if (res.curve.length === 0) return;
  const series = bestSoFarSeries(res);
  const values = series.filter((v): v is number => v !== null);
  out.line(
    '',
    `${b('Best so far')} over ${countedText(res.counted)} (${sweep.metric.goal}):`,
    `  ${sparkline(series, Math.min(60, Math.max(10, (out.columns ?? 80) - 30)))}  ${formatNumber(values[0])} → ${formatNumber(values.at(-1))}`,
  );
  const shown = res.curve.slice(-MAX_IMPROVEMENTS);
  const now = ctx.now();
  const rows = shown.map((p) => [`${p.index}`, `#${p.number}`, formatNumber(p.value), formatAge(p.at, now)]);
  const columns = [{ header: 'ENDED', align: 'right' }, { header: 'RUN', align: 'right' }, { header: sweep.metric.name, align: 'right' }, { header: 'WHEN' }] as const;
  out.line('', ...renderTable(columns, rows, { style: out.style }).map((l) => `  ${l}`));
  if (res.curve.length > shown.length) out.line(`  (${res.curve.length - shown.length} earlier improvements not shown; --json has them all)`);
}

/** Stopped (early-terminated) runs count for the best too: say so, so the number is not misread. */
function countedText(n: number): string {
  return `${n} finished or stopped run${n === 1 ? '' : 's'}`;
}

/** The recommended run beside the best: the model's pick among finished runs, and why it may differ. */
function printRecommendation(ctx: VerbContext, rec: RecommendationResponse | null): void {
  const r = rec?.recommended;
  if (!rec || !r) return;
  const { out } = ctx;
  const head = paint(out.style, 'bold', 'Recommended');
  if (rec.source === 'best-observed') {
    out.line(`${head}  run #${r.number} (${r.runId}), the best finished run: ${rec.warnings[0] ?? 'no model fit'}`);
    return;
  }
  const mean = `model mean ${formatNumber(r.predicted)}, observed ${formatNumber(r.value)}`;
  if (rec.bestObserved && rec.bestObserved.runId === r.runId) {
    out.line(`${head}  run #${r.number} (${mean}): the GP over ${rec.runs} finished runs agrees with the best observed one`);
    return;
  }
  out.line(
    `${head}  run #${r.number} (${r.runId}; ${mean}): the best by the GP's posterior mean over ${rec.runs} finished runs.`,
    `             The best observed value (run #${rec.bestObserved?.number}, ${formatNumber(rec.bestObserved?.value)}) is partly a lucky noise draw; prefer this run's settings.`,
  );
  const params = r.params;
  const keys = Object.keys(params).sort();
  if (keys.length > 0) out.line(`             ${keys.map((k) => `${k}=${formatValue(params[k])}`).join(' ')}`);
}
