import type { LogFormat } from '../../protocol/config-schema.js';
import { parseCliArgs } from '../cli-args.js';
import { UsageError, type Command } from '../command.js';

const usage = `Usage: harrow agent SWEEP [--server URL] [--count N] [--gpus 0,1,...] [--concurrency N] [--quiet] [--log-format F] [--json]

Takes runs of sweep SWEEP from the queue and runs its training command, one run per slot.

Options:
  --server URL       Talk to the controller over HTTP(S) at URL (e.g. https://controller:8080)
                     instead of Redis: the agent then needs no REDIS_URL (HARROW_TOKEN is sent).
  --count N          Take N runs, then exit when they are done.
  --gpus 0,1,...     One slot per GPU; each run sees only its GPU (CUDA_VISIBLE_DEVICES).
  --concurrency N    Concurrent runs without GPUs (default 1).
  --quiet            Do not echo the runs' output (it is still kept with each run).
  --log-format F     auto (default: one readable line per entry on a terminal, JSON when
                     piped), json or pretty; overrides HARROW_LOG_FORMAT.
  --json             Same as --log-format json: every log line, the last included, is JSON.

The agent exits when the sweep is finished or canceled, or after --count runs.
Ctrl-C once: take no more runs, let the current ones finish, exit.
Ctrl-C twice: terminate the current runs (SIGTERM, then SIGKILL after their grace) and exit.

Environment:
  REDIS_URL               Redis of the controller (default redis://127.0.0.1:6379); the agent needs nothing else.
                          Sentinels too: redis+sentinel://s1:26379,s2:26379/mymaster
                          TLS: rediss://USER:PASSWORD@host:6380?ca=/path/ca.pem (README: Agent credentials)
  NODE_EXTRA_CA_CERTS     With --server https://…: the CA file that signed the server's certificate.
  HARROW_TOKEN            With --server: the API token the server was started with.
  HARROW_PREFIX           Key prefix in Redis (default harrow); must match the controller's.
  HARROW_HEARTBEAT_MS     Heartbeat interval (default 5000).
  HARROW_LOG_LEVEL        Log level: error, warn, info (default), debug.
  HARROW_LOG_FORMAT       Log format: auto (default), json, pretty.

Each run gets HARROW_SWEEP_ID, HARROW_RUN_ID, HARROW_PARAMS_FILE (its parameters as JSON) and
HARROW_METRICS_FILE (append JSON lines of metrics there, or print name=value lines on stdout).`;

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--${name} must be a whole number ≥ 1 (got '${text}')`);
  return Number(text);
}

/** As in protocol/config-schema.ts, without loading zod for `harrow agent --help`. */
const LOG_FORMATS = ['auto', 'pretty', 'json'] as const satisfies readonly LogFormat[];

function logFormat(text: string | undefined, json: boolean | undefined): LogFormat | undefined {
  if (json && text !== undefined && text !== 'json') throw new UsageError(`--json means --log-format json; leave out one of them`);
  if (json) return 'json';
  if (text === undefined) return undefined;
  if (!(LOG_FORMATS as readonly string[]).includes(text)) throw new UsageError(`--log-format takes ${LOG_FORMATS.join(', ')} (got '${text}')`);
  return text as LogFormat;
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
  usage,
  async run(argv) {
    const { values, positionals } = parseCliArgs(argv, {
      count: { type: 'string' },
      server: { type: 'string' },
      gpus: { type: 'string' },
      concurrency: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      'log-format': { type: 'string' },
      json: { type: 'boolean' },
    });
    const [sweepId, ...extra] = positionals;
    if (sweepId === undefined) throw new UsageError('which sweep? give its id (printed by `harrow create`)');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const count = positiveInt('count', values.count);
    const concurrency = positiveInt('concurrency', values.concurrency);
    const gpus = gpuList(values.gpus);
    if (gpus && concurrency !== undefined && concurrency !== gpus.length) {
      throw new UsageError('--gpus already sets one slot per GPU; leave out --concurrency');
    }

    const format = logFormat(values['log-format'], values.json);

    // Loaded here, not at the top: `harrow agent --help` must not load BullMQ and the agent.
    const { loadAgentConfig } = await import('../../agent/agent-config.js');
    const server = values.server;
    if (server !== undefined && !URL.canParse(server)) throw new UsageError(`--server takes the controller's URL, such as http://controller:8080 (got '${server}')`);
    const config = loadAgentConfig({ ...process.env, ...(format ? { HARROW_LOG_FORMAT: format } : {}) });
    // With JSON logs, the agent's own last log line ('agent exited', with reason and runs) says it.
    const say = config.logFormat === 'json' ? () => undefined : (line: string) => console.error(line);
    const options = { sweepId, config, env: process.env, count, gpus, concurrency, quiet: values.quiet };
    const agent =
      server === undefined
        ? await (await import('../../agent/start-agent.js')).startAgent(options)
        : await (await import('../../agent/http-agent.js')).startHttpAgent({ ...options, server, token: process.env.HARROW_TOKEN?.trim() || undefined });

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
          say(`harrow agent: sweep ${sweepId} is finished (${exit.runs} runs here).`);
          return 0;
        case 'sweep-canceled':
          say(`harrow agent: sweep ${sweepId} was canceled (${exit.runs} runs here).`);
          return 0;
        case 'count-reached':
          say(`harrow agent: done: ${exit.runs} runs.`);
          return 0;
        case 'stopped':
          say(`harrow agent: stopped after ${exit.runs} runs.`);
          return 0;
        case 'function-agent-only':
          say(`harrow agent: sweep ${sweepId} has no program; only a function agent (harrow.agent in Python) can run it.`);
          return 1;
        case 'interrupted':
          say(`harrow agent: interrupted after ${exit.runs} runs.`);
          return 130;
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
