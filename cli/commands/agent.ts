import type { LogFormat } from '../../protocol/config-schema.js';
import type { RunLauncher } from '../../agent/run-launcher.js';
import type { AgentRecord, Registration } from '../../agent/agent-registry.js';
import { parseCliArgs } from '../cli-args.js';
import { UsageError, type Command } from '../command.js';

const usage = `Usage: harrow agent SWEEP | --sweeps A,B | --all [--server URL] [--count N] [--gpus 0,1,...|all] [--concurrency N] [--slurm='OPTIONS'] [--preemptible] [--quiet] [--log-format F] [--json]
       harrow agent --drain [--agent ID | --pid PID] [--no-wait] [--timeout 5m] [--json]

Takes runs of sweep SWEEP from the queue and runs its training command, one run per slot.
With --sweeps A,B (or --all: every running sweep, and those created later) one agent serves
several sweeps: a free slot goes to the sweep of highest priority with a queued run, and within
a priority to the one holding the fewest slots, never above its cap (harrow sweep set).

Options:
  --drain            Drain the agents running on this box (all of them, or the one --agent ID or
                     --pid PID names): each checkpoints its runs and hands them back to the queue,
                     where other agents resume them as new attempts (not failures), then exits.
                     Waits until they have exited (--no-wait: return at once; --timeout 5m: give
                     up waiting, exit 1). Exits 1 when no agent runs here. Agents register in
                     HARROW_AGENTS_DIR; --json prints the drained agents as JSON.
  --server URL       Talk to the controller over HTTP(S) at URL (e.g. https://controller:8080)
                     instead of Redis: the agent then needs no REDIS_URL (HARROW_TOKEN is sent).
                     Replicas: URL1,URL2 - when one cannot be reached, the agent uses the next.
  --count N          Take N runs, then exit when they are done.
  --gpus 0,1,...     The GPUs this agent gives out: each run gets harrow.gpus_per_run of them
                     (default 1) and sees only those (CUDA_VISIBLE_DEVICES); as many runs
                     run at once as fit.
  --gpus all         Every GPU nvidia-smi lists on this box.
  --concurrency N    Concurrent runs without GPUs (default 1).
  --slurm='OPTIONS'  Submit each run as a Slurm job with these sbatch options (e.g. --slurm='-p gpu
                     --gres=gpu:1 --time=2:00:00'); --concurrency jobs at a time. GPUs come from --gres.
                     Run directories (TMPDIR) must be on a file system the nodes share.
  --preemptible      This box may be reclaimed (a spot instance): SIGTERM drains the agent
                     (as SIGUSR2) instead of letting the runs finish.
  --quiet            Do not echo the runs' output (it is still kept with each run).
  --log-format F     auto (default: one readable line per entry on a terminal, JSON when
                     piped), json or pretty; overrides HARROW_LOG_FORMAT.
  --json             Same as --log-format json: every log line, the last included, is JSON.

The agent exits when the sweep is finished or canceled, or after --count runs.
Ctrl-C once: take no more runs, let the current ones finish, exit.
Ctrl-C twice: terminate the current runs (SIGTERM, then SIGKILL after their grace) and exit.
harrow agent --drain, or SIGUSR2 (kill -USR2 <agent pid>): drain. Each run gets SIGUSR1
("checkpoint now") and HARROW_CHECKPOINT_GRACE_MS to save and exit, then SIGTERM; it is handed
back as preempted and resumes from its checkpoint (HARROW_CHECKPOINT_DIR) as a new attempt on
another agent. A second drain of a draining agent changes nothing; Ctrl-C still terminates.

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
  HARROW_CHECKPOINT_ROOT  Root of the runs' checkpoint directories (default .harrow/checkpoints);
                          shared storage lets a run resume on another box.
  HARROW_CHECKPOINT_GRACE_MS  Time between SIGUSR1 and SIGTERM on a drain (default 30000).
  HARROW_AGENTS_DIR       Where running agents register for --drain (default
                          /tmp/harrow-agents-<uid>); the agents and --drain must use the same one.

Each run gets HARROW_SWEEP_ID, HARROW_RUN_ID, HARROW_PARAMS_FILE (its parameters as JSON) and
HARROW_METRICS_FILE (append JSON lines of metrics there, or print name=value lines on stdout),
HARROW_ATTEMPT (1, 2, ... across retries and resumptions) and HARROW_CHECKPOINT_DIR.`;

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

/** `--gpus all`: the indexes nvidia-smi lists, said on stderr; its clear error when there is none. */
async function allGpus(): Promise<string[]> {
  const { discoverGpus } = await import('../../agent/gpu-discovery.js');
  const gpus = await discoverGpus(process.env);
  console.error(`harrow agent: --gpus all: ${gpus.map((g) => `${g.index} (${g.name}, ${g.memory})`).join(', ')}`);
  return gpus.map((g) => g.index);
}

/**
 * Records this agent for `harrow agent --drain`. An agent that cannot register still runs (and
 * SIGUSR2 still drains it); it says why --drain will not find it.
 */
async function register(dir: string | undefined, entry: Pick<AgentRecord, 'agentId' | 'sweeps' | 'all' | 'transport'>): Promise<Registration | null> {
  if (dir === undefined) return null;
  const { AgentRegistry } = await import('../../agent/agent-registry.js');
  const { hostname } = await import('node:os');
  try {
    return new AgentRegistry(dir).register({ ...entry, host: hostname(), startedAt: new Date().toISOString() });
  } catch (err) {
    console.error(`harrow agent: warning: harrow agent --drain will not find this agent (drain it with kill -USR2 ${process.pid}): ${(err as Error).message}`);
    return null;
  }
}

/** `harrow agent --drain [--agent ID | --pid PID] [--no-wait] [--timeout D] [--json]`. */
async function drain(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> {
  if (positionals.length > 0) {
    throw new UsageError(`--drain drains the agents running on this box and takes no sweep (got '${positionals.join(' ')}'); pick one agent with --agent ID or --pid PID`);
  }
  const agentOnly = ['server', 'count', 'gpus', 'concurrency', 'slurm', 'quiet', 'preemptible', 'sweeps', 'all', 'log-format'].filter((k) => values[k] !== undefined);
  if (agentOnly.length > 0) throw new UsageError(`--drain takes only --agent, --pid, --no-wait, --timeout and --json (got ${agentOnly.map((k) => `--${k}`).join(', ')})`);
  const agentId = values.agent as string | undefined;
  const pidText = values.pid as string | undefined;
  if (agentId !== undefined && pidText !== undefined) throw new UsageError('give --agent ID or --pid PID, not both');
  if (agentId !== undefined && agentId.trim() === '') throw new UsageError('--agent takes an agent id, as `harrow agent --drain` or the agent\'s log prints it');
  const pid = positiveInt('pid', pidText);
  const timeoutText = values.timeout as string | undefined;
  let timeoutMs: number | undefined;
  if (timeoutText !== undefined) {
    if (values['no-wait']) throw new UsageError('--timeout limits the wait; --no-wait does not wait: leave out one of them');
    const { parseDuration } = await import('../../strategies/spec/budget-limits.js');
    timeoutMs = parseDuration(timeoutText) ?? undefined;
    if (timeoutMs === undefined) throw new UsageError(`--timeout takes a duration with its unit, such as 90s, 5m or 1h (got '${timeoutText}')`);
  }
  const { loadAgentConfig } = await import('../../agent/agent-config.js');
  const { drainAgents } = await import('./agent-drain.js');
  const config = loadAgentConfig(process.env);
  return drainAgents({
    agentsDir: config.agentsDir!,
    ...(agentId !== undefined ? { agentId: agentId.trim() } : {}),
    ...(pid !== undefined ? { pid } : {}),
    wait: !values['no-wait'],
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    json: values.json === true,
  });
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
      slurm: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      preemptible: { type: 'boolean' },
      sweeps: { type: 'string' },
      all: { type: 'boolean' },
      'log-format': { type: 'string' },
      json: { type: 'boolean' },
      drain: { type: 'boolean' },
      agent: { type: 'string' },
      pid: { type: 'string' },
      'no-wait': { type: 'boolean' },
      timeout: { type: 'string' },
    });
    if (values.drain) return drain(values, positionals);
    for (const only of ['agent', 'pid', 'no-wait', 'timeout'] as const) {
      if (values[only] !== undefined) throw new UsageError(`--${only} goes with --drain (harrow agent --drain --${only} ...)`);
    }
    const [first, ...extra] = positionals;
    const several = values.all || values.sweeps !== undefined;
    if (values.all && values.sweeps !== undefined) throw new UsageError('--all serves every sweep; leave out --sweeps');
    if (several && first !== undefined) throw new UsageError(`give the sweeps either as SWEEP or with --sweeps/--all, not both (got '${first}')`);
    if (!several && first === undefined) throw new UsageError('which sweep? give its id (printed by `harrow create`), or --sweeps A,B, or --all');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const sweepIds = values.sweeps?.split(',').map((s) => s.trim());
    if (sweepIds?.some((s) => s === '')) throw new UsageError(`--sweeps takes sweep ids separated by commas, such as --sweeps ab12cd34,ef56gh78 (got '${values.sweeps}')`);
    if (several && values.server !== undefined) throw new UsageError('--sweeps and --all need Redis; an agent over --server serves one sweep');
    const sweepId = first ?? (values.all ? 'all sweeps' : sweepIds!.join(','));
    const count = positiveInt('count', values.count);
    const concurrency = positiveInt('concurrency', values.concurrency);
    const gpus = values.gpus === 'all' ? await allGpus() : gpuList(values.gpus);
    if (gpus && concurrency !== undefined && concurrency !== gpus.length) {
      throw new UsageError('--gpus already sets one slot per GPU; leave out --concurrency');
    }

    if (values.slurm !== undefined && gpus) {
      throw new UsageError("--slurm takes its GPUs from Slurm: put --gres=gpu:N in the sbatch options instead of --gpus");
    }
    const format = logFormat(values['log-format'], values.json);

    // Loaded here, not at the top: `harrow agent --help` must not load BullMQ and the agent.
    const { loadAgentConfig } = await import('../../agent/agent-config.js');
    const server = values.server;
    for (const one of server?.split(',') ?? []) {
      if (!URL.canParse(one.trim())) throw new UsageError(`--server takes the controller's URL, such as http://controller:8080, or the URLs of its replicas separated by commas (got '${server}')`);
    }
    const config = loadAgentConfig({ ...process.env, ...(format ? { HARROW_LOG_FORMAT: format } : {}) });
    // With JSON logs, the agent's own last log line ('agent exited', with reason and runs) says it.
    const say = config.logFormat === 'json' ? () => undefined : (line: string) => console.error(line);
    let launcher: RunLauncher | undefined;
    if (values.slurm !== undefined) {
      const { parseSbatchOptions } = await import('../../agent/slurm/sbatch-options.js');
      const { SlurmLauncher } = await import('../../agent/slurm/slurm-launcher.js');
      const { createAgentLogger } = await import('../../agent/agent-logger.js');
      const { agentSecrets } = await import('../../agent/agent-config.js');
      let sbatchOptions: string[];
      try {
        sbatchOptions = parseSbatchOptions(values.slurm);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const log = createAgentLogger({ level: config.logLevel, format: config.logFormat, secrets: agentSecrets(config) });
      launcher = new SlurmLauncher({ sbatchOptions, env: process.env, log });
    }
    const options = { sweepId, config, env: process.env, count, gpus, concurrency, quiet: values.quiet, ...(launcher ? { launcher } : {}) };
    const agent = several
      ? await (await import('../../agent/multi-sweep-agent.js')).startMultiSweepAgent({ ...options, ...(sweepIds ? { sweepIds } : {}), all: values.all ?? false })
      : server === undefined
        ? await (await import('../../agent/start-agent.js')).startAgent(options)
        : await (await import('../../agent/http-agent.js')).startHttpAgent({ ...options, server, token: process.env.HARROW_TOKEN?.trim() || undefined });

    let registration: Registration | null = null;
    let signals = 0;
    let draining = false;
    const onDrain = (signal: NodeJS.Signals): void => {
      if (draining) {
        onSignal(signal);
        return;
      }
      draining = true;
      signals++;
      registration?.markDraining();
      process.stderr.write(`\nharrow agent: ${signal}: draining: checkpointing the current runs and handing them back to the queue.\n`);
      void agent.drain(signal === 'SIGTERM' ? 'box preempted (SIGTERM on a --preemptible agent)' : `agent drained (${signal})`);
    };
    // A repeated SIGUSR2 (a second `harrow agent --drain`, a script's retry) changes nothing: only
    // an operator's Ctrl-C or SIGTERM turns a drain into terminating the runs.
    const onUsr2 = (signal: NodeJS.Signals): void => {
      if (draining) process.stderr.write(`\nharrow agent: ${signal}: already draining (Ctrl-C to terminate the runs instead).\n`);
      else onDrain(signal);
    };
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
    const onTerm = values.preemptible ? onDrain : onSignal;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onTerm);
    process.on('SIGUSR2', onUsr2);
    // Registered only now that SIGUSR2 is handled: unhandled, it would kill the agent outright.
    registration = await register(config.agentsDir, {
      agentId: agent.agentId,
      sweeps: sweepIds ?? (first !== undefined ? [first] : []),
      all: values.all ?? false,
      transport: server === undefined ? 'redis' : 'http',
    });
    const unregister = (): void => registration?.remove();
    process.once('exit', unregister);
    try {
      const exit = await agent.closed;
      await launcher?.close();
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
        case 'drained':
          say(`harrow agent: drained: the current runs were handed back to the queue (${exit.runs} runs here).`);
          return 0;
        case 'too-few-gpus':
          say(`harrow agent: ${exit.detail ?? 'this agent has too few GPUs for the sweep\'s runs'}.`);
          return 1;
        case 'function-agent-only':
          say(`harrow agent: sweep ${sweepId} has no program; only a function agent (harrow.agent in Python) can run it.`);
          return 1;
        case 'interrupted':
          say(`harrow agent: interrupted after ${exit.runs} runs.`);
          return 130;
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onTerm);
      process.off('SIGUSR2', onUsr2);
      unregister();
      process.off('exit', unregister);
    }
  },
};
