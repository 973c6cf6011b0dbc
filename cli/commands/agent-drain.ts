/**
 * `harrow agent --drain`: drains the agents running on this box (every one, or the one named by
 * `--agent ID` or `--pid PID`), as `scontrol update state=drain` or `kubectl drain` would: each
 * gets SIGUSR2, which checkpoints its runs and hands them back to the queue as new attempts, then
 * exits. The agents are found in the registry every agent process keeps (agent/agent-registry.ts).
 * Waits until they have exited unless `--no-wait`, at most `--timeout` when given.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentRegistry, selectAgents, type AgentRecord, type AgentSelection } from '../../agent/agent-registry.js';

/** How often the wait looks whether the drained agents have exited. */
const EXIT_POLL_MS = 200;

export interface DrainOptions extends AgentSelection {
  agentsDir: string;
  wait: boolean;
  /** Longest wait for the agents to exit; none: until they have. */
  timeoutMs?: number;
  json: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  /** Signals an agent; process.kill by default. */
  signal?: (pid: number) => void;
}

export interface DrainedAgent {
  pid: number;
  agentId: string;
  sweeps: string[];
  all: boolean;
  transport: AgentRecord['transport'];
  /** It was draining already (a second drain does not signal it again). */
  alreadyDraining: boolean;
  /** It has exited (false with --no-wait, or when the timeout came first). */
  exited: boolean;
}

export interface DrainResult {
  agentsDir: string;
  agents: DrainedAgent[];
  waited: boolean;
  timedOut: boolean;
}

/** Drains and reports; returns the exit code: 0 done, 1 no agent to drain or the timeout passed. */
export async function drainAgents(o: DrainOptions): Promise<number> {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  // With --json, stdout carries the one JSON answer and stderr only what went wrong.
  const warn = (line: string): void => void err.write(`harrow agent: ${line}\n`);
  const say = o.json ? () => undefined : warn;
  const registry = new AgentRegistry(o.agentsDir);
  const chosen = selectAgents(registry.list(), o);
  const result: DrainResult = { agentsDir: o.agentsDir, agents: [], waited: o.wait, timedOut: false };
  if (chosen.length === 0) {
    warn(`no agent is running on this box to drain (none registered in ${o.agentsDir}; agents started with another HARROW_AGENTS_DIR, or by another user, register elsewhere)`);
    if (o.json) out.write(`${JSON.stringify(result)}\n`);
    return 1;
  }
  const signal = o.signal ?? ((pid: number) => process.kill(pid, 'SIGUSR2'));
  for (const record of chosen) {
    const agent: DrainedAgent = {
      pid: record.pid,
      agentId: record.agentId,
      sweeps: record.sweeps,
      all: record.all,
      transport: record.transport,
      alreadyDraining: record.draining,
      exited: false,
    };
    result.agents.push(agent);
    const what = `agent ${record.agentId} (pid ${record.pid}, ${describeSweeps(record)}, over ${record.transport === 'http' ? 'HTTP' : 'Redis'})`;
    if (record.draining) {
      say(`${what} is already draining`);
      continue;
    }
    try {
      signal(record.pid);
      say(`draining ${what}: its runs checkpoint and go back to the queue`);
    } catch (e) {
      // It exited between the listing and the signal: nothing left to drain.
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      agent.exited = true;
      say(`${what} exited before it could be drained`);
    }
  }
  if (o.wait) {
    const deadline = o.timeoutMs === undefined ? Infinity : Date.now() + o.timeoutMs;
    for (;;) {
      for (const [i, agent] of result.agents.entries()) {
        if (!agent.exited && !registry.isLive(chosen[i]!)) {
          agent.exited = true;
          say(`agent ${agent.agentId} (pid ${agent.pid}) has exited`);
        }
      }
      if (result.agents.every((a) => a.exited)) break;
      if (Date.now() >= deadline) {
        result.timedOut = true;
        break;
      }
      await sleep(Math.min(EXIT_POLL_MS, Math.max(0, deadline - Date.now())));
    }
  }
  const n = result.agents.length;
  const agents = `${n} agent${n === 1 ? '' : 's'}`;
  if (result.timedOut) {
    const left = result.agents.filter((a) => !a.exited).map((a) => `${a.agentId} (pid ${a.pid})`);
    warn(`still draining after the --timeout: ${left.join(', ')}; their runs get HARROW_CHECKPOINT_GRACE_MS to checkpoint, then are stopped`);
  } else {
    say(o.wait ? `drained ${agents}: their runs are back in the queue, to resume elsewhere as new attempts` : `asked ${agents} to drain; not waiting for them to exit (--no-wait)`);
  }
  if (o.json) out.write(`${JSON.stringify(result)}\n`);
  return result.timedOut ? 1 : 0;
}

function describeSweeps(r: AgentRecord): string {
  if (r.all) return 'all sweeps';
  return r.sweeps.length === 1 ? `sweep ${r.sweeps[0]}` : `sweeps ${r.sweeps.join(',')}`;
}
