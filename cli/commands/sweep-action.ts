/** The shared body of `harrow pause|resume|stop|cancel SWEEP`: one POST, one line of outcome. */
import type { SweepDetail } from '../../protocol/api.js';
import type { SweepAction } from '../client.js';
import { formatCounts, paint, stateColor } from '../format.js';
import { defineApiVerb, parseCliArgs, positionalArgs, SWEEP_HINT, type ApiVerb } from './api-verb.js';

const ABOUT: Record<SweepAction, { explain: string }> = {
  pause: {
    explain: 'Agents start no new runs of the sweep until it is resumed; runs already running go on.',
  },
  resume: {
    explain: 'Agents start its runs again.',
  },
  stop: {
    explain: 'The sweep ends (state finished): queued runs are canceled, running ones finish normally.',
  },
  cancel: {
    explain: 'The sweep ends (state canceled): queued runs are canceled and running ones are killed.',
  },
};

export function sweepActionVerb(action: SweepAction): ApiVerb {
  const { explain } = ABOUT[action];
  return defineApiVerb({
    name: action,
    usage: `Usage: harrow ${action} SWEEP [--json]

${explain}

Options:
  --json   print the server's response (the sweep) as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN (needed when the server has one).`,
    async run(argv, ctx) {
      const { values, positionals } = parseCliArgs(argv, { json: { type: 'boolean' } });
      const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
      const sweep = await ctx.client().changeSweep(id, action);
      if (values.json) ctx.out.json(sweep);
      else ctx.out.line(outcome(action, sweep, (s) => paint(ctx.out.style, stateColor(sweep.state), s)), `Runs: ${formatCounts(sweep.counts, ctx.out.style)}`);
      return 0;
    },
  });
}

function outcome(action: SweepAction, sweep: SweepDetail, color: (s: string) => string): string {
  const running = sweep.counts.running;
  const one = running === 1;
  const runs = `${running} running run${one ? '' : 's'}`;
  const head = `Sweep ${sweep.id} is ${color(sweep.state)}`;
  switch (action) {
    case 'pause':
      return `${head}: no new runs will start${running > 0 ? `; ${runs} ${one ? 'goes' : 'go'} on` : ''}. \`harrow resume ${sweep.id}\` continues it.`;
    case 'resume':
      return `${head}: agents take its runs again.`;
    case 'stop':
      return `${head}: no new runs will start${running > 0 ? `; ${one ? 'its' : 'the'} ${runs} will finish` : ''}.`;
    case 'cancel':
      return `${head}${running > 0 ? `: ${runs} ${one ? 'is' : 'are'} being killed` : ''}.`;
  }
}
