import { parseArgs } from 'node:util';
import { loadAgentConfig } from '../../agent/agent-config.js';
import { startAgent } from '../../agent/start-agent.js';
import { UsageError, type Command } from '../command.js';

const usage = `Usage: harrow agent SWEEP [--count N] [--gpus 0,1,...] [--concurrency N] [--quiet]

Takes runs of sweep SWEEP from the queue and runs its training command, one run per slot.

Options:
  --count N          Take N runs, then exit when they are done.
  --gpus 0,1,...     One slot per GPU; each run sees only its GPU (CUDA_VISIBLE_DEVICES).
  --concurrency N    Concurrent runs without GPUs (default 1).
  --quiet            Do not echo the runs' output (it is still kept with each run).

The agent exits when the sweep is finished or canceled, or after --count runs.
Ctrl-C once: take no more runs, let the current ones finish, exit.
Ctrl-C twice: terminate the current runs (SIGTERM, then SIGKILL after their grace) and exit.

Environment:
  REDIS_URL               Redis of the controller (default redis://127.0.0.1:6379); the agent needs nothing else.
  HARROW_PREFIX           Key prefix in Redis (default harrow); must match the controller's.
  HARROW_HEARTBEAT_MS     Heartbeat interval (default 5000).
  HARROW_LOG_LEVEL        Log level: error, warn, info (default), debug.

Each run gets HARROW_SWEEP_ID, HARROW_RUN_ID, HARROW_PARAMS_FILE (its parameters as JSON) and
HARROW_METRICS_FILE (append JSON lines of metrics there, or print name=value lines on stdout).`;

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--${name} must be a whole number ≥ 1 (got '${text}')`);
  return Number(text);
}

function gpuList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const gpus = text.split(',').map((g) => g.trim());
  if (gpus.some((g) => g === '' || !/^[A-Za-z0-9_.:\-/]+$/.test(g))) {
    throw new UsageError(`--gpus takes GPU ids separated by commas, such as --gpus 0,1,2 (got '${text}')`);
  }
  if (new Set(gpus).size !== gpus.length) throw new UsageError(`--gpus lists a GPU twice ('${text}')`);
  return gpus;
}

export const agentCommand: Command = {
  name: 'agent',
  summary: 'Run a sweep\'s training runs on this machine',
  usage,
  async run(argv) {
    let values: { count?: string; gpus?: string; concurrency?: string; quiet?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          count: { type: 'string' },
          gpus: { type: 'string' },
          concurrency: { type: 'string' },
          quiet: { type: 'boolean', short: 'q' },
        },
      }));
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    const [sweepId, ...extra] = positionals;
    if (sweepId === undefined) throw new UsageError('which sweep? give its id (printed by `harrow create`)');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const count = positiveInt('count', values.count);
    const concurrency = positiveInt('concurrency', values.concurrency);
    const gpus = gpuList(values.gpus);
    if (gpus && concurrency !== undefined && concurrency !== gpus.length) {
      throw new UsageError('--gpus already sets one slot per GPU; leave out --concurrency');
    }

    const config = loadAgentConfig(process.env);
    const agent = await startAgent({ sweepId, config, env: process.env, count, gpus, concurrency, quiet: values.quiet });

    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        process.stderr.write(
          `\nharrow agent: ${signal}: taking no more runs; current runs will finish. Press Ctrl-C again to terminate them.\n`,
        );
        void agent.stop();
      } else if (signals === 2) {
        process.stderr.write(`\nharrow agent: ${signal}: terminating current runs (Ctrl-C again to quit at once).\n`);
        void agent.terminate();
      } else {
        // Impatient third Ctrl-C: leave now; the orphan guard still terminates the runs' groups.
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const exit = await agent.closed;
      switch (exit.reason) {
        case 'sweep-finished':
          console.error(`harrow agent: sweep ${sweepId} is finished (${exit.runs} runs here).`);
          return 0;
        case 'sweep-canceled':
          console.error(`harrow agent: sweep ${sweepId} was canceled (${exit.runs} runs here).`);
          return 0;
        case 'count-reached':
          console.error(`harrow agent: done: ${exit.runs} runs.`);
          return 0;
        case 'stopped':
          console.error(`harrow agent: stopped after ${exit.runs} runs.`);
          return 0;
        case 'interrupted':
          console.error(`harrow agent: interrupted after ${exit.runs} runs.`);
          return 130;
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
