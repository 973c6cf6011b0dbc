/**
 * One agent serving two sweeps (`harrow agent --sweeps A,B --concurrency 3`, a real process, with
 * a real controller): the slots are shared in the proportion the sweeps' settings ask for. Sweep
 * A is capped at one slot (`harrow sweep set A --max-slots 1`, audited), B is not: while both
 * have queued runs, A holds 1/3 of the slot-seconds and B 2/3. The figures are printed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startHarrow, waitForHttp } from '../helpers/processes.js';
import { controller, createSweep, setUp, tearDown, waitFinished } from '../helpers/harness.js';
import { needServices } from '../helpers/services.js';
import type { ListRunsResponse, RunSummary, SweepDetail } from '../../protocol/api.js';

const YAML = (name: string, runCap = 24, harrow = '') => `
name: ${name}
method: random
metric: {name: loss, goal: minimize}
run_cap: ${runCap}
${harrow}
program: test/fixtures/scripts/trainer.py
command: [python3, "\${program}", "\${args}"]
parameters:
  x: {min: 0.0, max: 1.0}
  steps: {value: 3}
  sleep: {value: 0.15}
`;

async function runsOf(url: string, sweepId: string): Promise<RunSummary[]> {
  return (await api<ListRunsResponse>(url, `/api/sweeps/${sweepId}/runs?limit=100`)).runs;
}

/** Slot-seconds of runs within [from, to] (ms since epoch). */
function slotSeconds(runs: RunSummary[], from: number, to: number): number {
  let total = 0;
  for (const r of runs) {
    if (r.startedAt === null || r.endedAt === null) continue;
    const s = Math.max(from, Date.parse(r.startedAt));
    const e = Math.min(to, Date.parse(r.endedAt));
    if (e > s) total += (e - s) / 1000;
  }
  return total;
}

void describe('one agent, several sweeps', await needServices(), () => {
  void test('two sweeps share an agent in the proportion their max_slots ask for (1 of 3 slots vs 2)', async () => {
    const env = await setUp('share_two');
    try {
      controller(env);
      await waitForHttp(env.url);
      const a: SweepDetail = await createSweep(env, YAML('capped'));
      const b: SweepDetail = await createSweep(env, YAML('free'));
      const set = startHarrow(['sweep', 'set', a.id, '--max-slots', '1'], { HARROW_URL: env.url });
      assert.equal(await set.exited, 0, set.output());
      assert.match(set.output(), new RegExp(`Sweep ${a.id}: priority 0, max slots 1`));

      const agent = startHarrow(['agent', '--sweeps', `${a.id},${b.id}`, '--concurrency', '3', '--quiet'], env.agentEnv);
      env.procs.push(agent);
      await waitFinished(env, b.id, 120_000);
      await waitFinished(env, a.id, 120_000);
      const [ra, rb] = await Promise.all([runsOf(env.url, a.id), runsOf(env.url, b.id)]);
      // The window where both sweeps had runs to do: from the first start to the end of the
      // sweep that ran out of work first.
      const starts = [...ra, ...rb].map((r) => Date.parse(r.startedAt!));
      const lastEnd = (runs: RunSummary[]) => Math.max(...runs.map((r) => Date.parse(r.endedAt!)));
      const from = Math.min(...starts);
      const to = Math.min(lastEnd(ra), lastEnd(rb));
      const sa = slotSeconds(ra, from, to);
      const sb = slotSeconds(rb, from, to);
      const shareA = sa / (sa + sb);
      console.log(`# shared agent, 3 slots, A max_slots 1: A ${sa.toFixed(1)} slot-s, B ${sb.toFixed(1)} slot-s over ${((to - from) / 1000).toFixed(1)} s: A's share ${(100 * shareA).toFixed(1)}% (asked 33.3%)`);
      assert.ok(Math.abs(shareA - 1 / 3) < 0.08, `A's share of slot-seconds is ${shareA.toFixed(3)}, expected 1/3 ± 0.08`);
      // A never held more than its one slot: no two of its runs overlap.
      const spans = ra.map((r) => [Date.parse(r.startedAt!), Date.parse(r.endedAt!)] as const).sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1] - 50, `runs of A overlap: ${JSON.stringify(spans.slice(i - 1, i + 1))}`);
      const audit = await api<{ entries: Array<{ action: string; sweepId: string | null }> }>(env.url, `/api/audit?sweep=${a.id}`);
      assert.ok(audit.entries.some((e) => e.action === 'share' && e.sweepId === a.id), 'the change is audited');
    } finally {
      await tearDown(env);
    }
  });

  void test('runs of different sizes from two sweeps pack onto 3 GPUs: a 2-GPU run beside a 1-GPU run, no GPU shared', async () => {
    const env = await setUp('share_gpus');
    try {
      controller(env);
      await waitForHttp(env.url);
      const big: SweepDetail = await createSweep(env, YAML('big', 6, 'harrow: {gpus_per_run: 2}'));
      const small: SweepDetail = await createSweep(env, YAML('small', 6));
      const agent = startHarrow(['agent', '--sweeps', `${big.id},${small.id}`, '--gpus', '0,1,2', '--quiet'], env.agentEnv);
      env.procs.push(agent);
      await waitFinished(env, big.id, 120_000);
      await waitFinished(env, small.id, 120_000);
      const runs = [...(await runsOf(env.url, big.id)), ...(await runsOf(env.url, small.id))].map((r) => ({
        sweep: r.sweepId === big.id ? 'big' : 'small',
        gpus: (r.gpu ?? '').split(','),
        from: Date.parse(r.startedAt!),
        to: Date.parse(r.endedAt!),
      }));
      for (const r of runs) assert.equal(r.gpus.length, r.sweep === 'big' ? 2 : 1, `a ${r.sweep} run got GPUs ${r.gpus.join(',')}`);
      let packed = 0;
      for (let i = 0; i < runs.length; i++) {
        for (let j = i + 1; j < runs.length; j++) {
          const x = runs[i]!;
          const y = runs[j]!;
          // Times are the controller's claim and end records: allow the gap between a run's end and its record.
          const overlap = Math.min(x.to, y.to) - Math.max(x.from, y.from);
          if (overlap <= 200) continue;
          assert.deepEqual(x.gpus.filter((g) => y.gpus.includes(g)), [], `two live runs share a GPU: ${JSON.stringify([x, y])}`);
          if (x.sweep !== y.sweep) packed++;
        }
      }
      assert.ok(packed > 0, 'a 2-GPU run and a 1-GPU run ran side by side on the 3 GPUs');
    } finally {
      await tearDown(env);
    }
  });
});
