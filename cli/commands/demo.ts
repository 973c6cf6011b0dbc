/**
 * `harrow demo`: a real sweep end to end on one box — the controller on the embedded database,
 * the example sweep from `examples/`, two agent processes, live progress, a summary at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { ControllerHandle } from '../../controller/controller.js';
import { SECOND } from '../../protocol/time.js';
import { parseRedisTarget } from '../../protocol/config-schema.js';
import { parseCliArgs, positionalArgs } from '../cli-args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { canConnect, freePort } from '../net.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/harrow', import.meta.url));

/** Redis from REDIS_URL, or a private redis-server from the PATH on a free port. */
async function ensureRedis(url: string, say: (line: string) => void): Promise<{ url: string; child?: ChildProcess }> {
  const target = parseRedisTarget(url);
  const first = target.kind === 'sentinel' ? target.sentinels[0]! : { host: new URL(url).hostname, port: Number(new URL(url).port || 6379) };
  if (await canConnect(first.host, first.port)) return { url };
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new UsageError(
      `no Redis answers at ${url} and redis-server is not on the PATH. Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a running one.`,
    );
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if (await canConnect('127.0.0.1', port)) {
      say(`started a private redis-server on 127.0.0.1:${port} (stopped when the demo ends)`);
      return { url: `redis://127.0.0.1:${port}`, child };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new UsageError('redis-server did not start; set REDIS_URL to a running Redis');
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4);
}

function fmtParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : JSON.stringify(v)}`)
    .join(' ');
}

export const demoCommand: Command = {
  name: 'demo',
  usage: `Usage: harrow demo [--config FILE] [--agents N] [--keep] [--json]

Starts the controller on the embedded database (HARROW_DATA_DIR, default .harrow), creates the
example sweep (examples/sweep.yaml: a small neural network trained on a synthetic data set),
starts two agent processes, shows progress and the best run so far, and prints a summary.
Redis comes from REDIS_URL (default redis://127.0.0.1:6379); if none answers, a private
redis-server from the PATH is started on a free port.

Options:
  --config FILE   the sweep file (default examples/sweep.yaml)
  --agents N      agent processes to start (default 2)
  --keep          leave the server up after the sweep ends, so the dashboard link keeps
                  working, until Ctrl-C
  --json          print no progress, then the outcome as one JSON object
                  ({ sweepId, state, counts, best, top, dashboard })`,
  async run(argv) {
    const { values, positionals } = parseCliArgs(argv, {
      config: { type: 'string' },
      agents: { type: 'string', default: '2' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    });
    positionalArgs(positionals, []);
    // Progress lines; with --json only the final object goes to stdout.
    const say = values.json ? (..._: unknown[]) => undefined : (...parts: unknown[]) => console.log(...parts);
    const agents = Number(values.agents);
    if (!Number.isInteger(agents) || agents < 1 || agents > 16) throw new UsageError('--agents takes a whole number from 1 to 16');
    const configPath = values.config ?? `${ROOT}examples/sweep.yaml`;
    const yaml = await readFile(configPath, 'utf8');

    // Loaded here, not at the top: `harrow <any verb> --help` must not load the server.
    const { configSecrets, loadControllerConfig } = await import('../../controller/config.js');
    const { startController } = await import('../../controller/controller.js');
    const { createSweep } = await import('../../controller/sweep-service.js');
    const { createLogger } = await import('../../controller/logger.js');
    const { getSweep, runCounts } = await import('../../db/sweeps.js');
    const { bestRun, listRuns } = await import('../../db/runs.js');

    const redis = await ensureRedis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', say);
    const prefix = `harrow-demo-${randomBytes(3).toString('hex')}`;
    const config = loadControllerConfig({
      ...process.env,
      DATABASE_URL: undefined,
      REDIS_URL: redis.url,
      HARROW_PREFIX: prefix,
      HARROW_HOST: '127.0.0.1',
      HARROW_PORT: String(await freePort()),
      HARROW_CRASH_TIMEOUT_MS: String(15 * SECOND),
      HARROW_LOG_LEVEL: process.env.HARROW_LOG_LEVEL || process.env.LOG_LEVEL || 'warn',
      LOG_LEVEL: undefined,
    });
    let handle: ControllerHandle | undefined;
    const children: ChildProcess[] = [];
    const cleanup = async () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
      await handle?.close();
      redis.child?.kill('SIGTERM');
    };
    const onSignal = () => {
      console.error('\ninterrupted: stopping agents and the controller');
      void cleanup().then(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);

    try {
      say('starting the controller on the embedded database (first start takes a few seconds)...');
      handle = await startController(config, { logger: createLogger(config.HARROW_LOG_LEVEL, 'harrow-demo', { format: config.HARROW_LOG_FORMAT, stream: process.stderr, secrets: configSecrets(config) }) });
      const sweep = await createSweep(handle.ctx, yaml);
      say(`created sweep ${sweep.id} (${sweep.method}, metric ${sweep.metric?.name ?? '-'} ${sweep.metric?.goal ?? ''}, run cap ${sweep.runCap ?? 'none'})`);
      say(`dashboard: ${handle.url}/   API docs: ${handle.url}/docs`);
      say(`starting ${agents} agents: harrow agent ${sweep.id}\n`);
      for (let i = 0; i < agents; i++) {
        const child = spawn(process.execPath, [BIN, 'agent', sweep.id, '--quiet'], {
          cwd: ROOT,
          env: { ...process.env, REDIS_URL: redis.url, HARROW_PREFIX: prefix, HARROW_LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        children.push(child);
      }

      const seen = new Map<string, string>();
      const db = handle.ctx.db;
      const started = Date.now();
      for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        const row = await getSweep(db, sweep.id);
        const { runs } = await listRuns(db, { sweepId: sweep.id, sort: 'number', goal: row!.goal, limit: 1000, offset: 0 });
        for (const r of runs) {
          if (seen.get(r.id) === r.state) continue;
          seen.set(r.id, r.state);
          if (r.state === 'queued') continue;
          const best = row!.goal ? await bestRun(db, sweep.id, row!.goal) : null;
          const what = r.state === 'running' ? `started on ${r.host ?? '?'}${r.gpu ? ` gpu ${r.gpu}` : ''}` : `${r.state.padEnd(8)} ${row!.metric_name}=${fmt(r.objective)}`;
          say(`run ${String(r.number).padStart(3)} ${what.padEnd(40)} best so far: ${best ? `${fmt(best.objective)} (run ${best.number})` : '-'}`);
          if (r.state === 'failed' || r.state === 'crashed') say(`         ${r.reason ?? ''}`);
        }
        const counts = await runCounts(db, sweep.id);
        const agentsDone = children.every((c) => c.exitCode !== null);
        if ((row!.state === 'finished' || row!.state === 'canceled') && counts.queued + counts.running === 0 && agentsDone) break;
        if (agentsDone && counts.running === 0) {
          say('\nthe agents exited before the sweep finished; see their messages above');
          break;
        }
      }

      const row = (await getSweep(db, sweep.id))!;
      const counts = await runCounts(db, sweep.id);
      const top = await listRuns(db, { sweepId: sweep.id, sort: 'metric', goal: row.goal, limit: 5, offset: 0, states: ['finished'] });
      say(`\nsweep ${sweep.id} ${row.state}: ${row.state_reason ?? ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      say(
        `runs: ${counts.finished} finished, ${counts.failed} failed, ${counts.crashed} crashed, ${counts.stopped} stopped (early-terminated), ${counts.canceled} canceled`,
      );
      say(`\ntop runs by ${row.metric_name} (${row.goal}):`);
      for (const r of top.runs) say(`  run ${String(r.number).padStart(3)}  ${fmt(r.objective)}  ${fmtParams(r.params)}`);
      const best = top.runs[0];
      if (best) {
        say(`\nbest: run ${best.number} with ${row.metric_name}=${fmt(best.objective)} at step ${best.objective_step ?? '-'}`);
        say(`      ${fmtParams(best.params)}`);
      }
      say('\nnext: `harrow server` + `harrow create examples/sweep.yaml` + `harrow agent SWEEP` on each box (see README).');
      if (values.json) {
        console.log(
          JSON.stringify({
            sweepId: sweep.id,
            state: row.state,
            reason: row.state_reason,
            counts,
            metric: row.metric_name === null ? null : { name: row.metric_name, goal: row.goal },
            best: best ? { runId: best.id, number: best.number, value: best.objective, step: best.objective_step, params: best.params } : null,
            top: top.runs.map((r) => ({ runId: r.id, number: r.number, value: r.objective, params: r.params })),
            dashboard: `${handle.url}/`,
          }),
        );
      }
      if (values.keep) {
        // The agents have exited; the server stays for the dashboard link printed above.
        process.removeListener('SIGINT', onSignal);
        console.error(`\nthe server stays up for the dashboard at ${handle.url}/ (--keep); Ctrl-C stops it`);
        await untilSignal();
      }
      return counts.finished > 0 ? 0 : 1;
    } finally {
      process.removeListener('SIGINT', onSignal);
      await cleanup();
    }
  },
};

