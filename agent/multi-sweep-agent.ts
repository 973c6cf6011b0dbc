/**
 * One agent serving several sweeps: `harrow agent --sweeps A,B` or `--all` (every running or
 * paused sweep, and those created later). Each sweep gets its own agent (start-agent.ts) in this
 * process; they share the box's slots through one SlotShare (priority, `max_slots`, fair shares)
 * and its GPUs through one pool, so runs of different sizes pack onto the GPUs. The share is fed
 * every control poll with the runs waiting in each sweep's queue and the sweep's priority and cap
 * (the controller's `sweepShare` key: `harrow sweep set` applies within a poll).
 */
import { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { HarrowError } from '../protocol/errors.js';
import { bullConnection, connectRedis } from '../protocol/redis-connection.js';
import { SECOND } from '../protocol/time.js';
import { SweepShareSchema, redisKeys } from '../protocol/wire.js';
import { agentSecrets } from './agent-config.js';
import { createAgentLogger } from './agent-logger.js';
import { GpuPool } from './gpu-pool.js';
import { SlotShare } from './slot-share.js';
import { slotsOf, startAgent, type AgentExit, type AgentExitReason, type AgentHandle, type AgentOptions } from './start-agent.js';

/** How often `--all` looks for new sweeps. */
const RESCAN_MS = 5 * SECOND;

export interface MultiSweepAgentOptions extends Omit<AgentOptions, 'sweepId' | 'share'> {
  /** The sweeps to serve; with `all`, every live sweep instead. */
  sweepIds?: readonly string[];
  all?: boolean;
}

interface Member {
  sweepId: string;
  handle: AgentHandle;
  queue: Queue;
}

export async function startMultiSweepAgent(o: MultiSweepAgentOptions): Promise<AgentHandle> {
  const slots = slotsOf({ ...o, sweepId: '' });
  const pool = o.gpus !== undefined ? new GpuPool(slots.filter((g): g is string => g !== null)) : null;
  const share = new SlotShare(slots.length);
  const log: Logger = o.logger ?? createAgentLogger({ level: o.config.logLevel, format: o.config.logFormat, secrets: agentSecrets(o.config) });
  const keys = redisKeys(o.config.prefix);
  const redis = connectRedis(o.config.redisUrl, { maxRetriesPerRequest: null, connectionName: 'harrow-agent-share' });
  redis.on('error', () => undefined);
  const members = new Map<string, Member>();
  let mode: AgentExitReason | null = null;
  let runs = 0;
  let resolveClosed!: (exit: AgentExit) => void;
  const closed = new Promise<AgentExit>((resolve) => (resolveClosed = resolve));
  const timers: NodeJS.Timeout[] = [];
  let finished = false;

  const finish = (): void => {
    if (finished || members.size > 0 || (o.all && mode === null)) return;
    finished = true;
    for (const t of timers) clearInterval(t);
    void redis.quit().catch(() => redis.disconnect());
    log.info({ reason: mode ?? 'sweep-finished', runs }, 'agent of several sweeps exited');
    resolveClosed({ reason: mode ?? 'sweep-finished', runs });
  };

  const join = async (sweepId: string, required: boolean): Promise<void> => {
    if (members.has(sweepId) || mode !== null) return;
    let handle: AgentHandle;
    try {
      handle = await startAgent({ ...o, sweepId, logger: log, share: { slots: share, pool } });
    } catch (err) {
      if (required) throw err;
      log.warn({ sweepId, err }, 'could not serve this sweep; skipping it');
      return;
    }
    const queue = new Queue(keys.queueName(sweepId), { connection: bullConnection(o.config.redisUrl, { maxRetriesPerRequest: null }), prefix: keys.bullPrefix });
    const member = { sweepId, handle, queue };
    members.set(sweepId, member);
    log.info({ sweepId }, 'serving sweep');
    void handle.closed.then(async (exit) => {
      runs += exit.runs;
      members.delete(sweepId);
      share.remove(sweepId);
      try {
        await queue.close();
      } catch {
        // Closing after Redis went away: nothing to release.
      }
      log.info({ sweepId, reason: exit.reason, runs: exit.runs }, 'no longer serving sweep');
      finish();
    });
  };

  /** Runs waiting in each queue and each sweep's priority and cap, then a new allocation. */
  const poll = async (): Promise<void> => {
    const list = [...members.values()];
    if (list.length === 0) return;
    try {
      const [waiting, raw] = await Promise.all([
        Promise.all(list.map((m) => m.queue.getWaitingCount())),
        redis.mget(...list.map((m) => keys.sweepShare(m.sweepId))),
      ]);
      list.forEach((m, i) => {
        let settings: { priority?: number; maxSlots?: number | null } = {};
        try {
          const parsed = SweepShareSchema.safeParse(JSON.parse(raw[i] ?? 'null'));
          if (parsed.success) settings = parsed.data;
        } catch {
          // Not set yet (an older controller): priority 0, no cap.
        }
        share.update(m.sweepId, { waiting: waiting[i] ?? 0, ...settings });
      });
      share.rebalance();
    } catch (err) {
      log.debug({ err }, 'could not read the queues for the slot share; trying again');
    }
  };

  const liveSweeps = async (): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', keys.sweepState('*'), 'COUNT', 500);
      cursor = next;
      if (batch.length === 0) continue;
      const states = await redis.mget(...batch);
      batch.forEach((key, i) => {
        if (states[i] === 'running' || states[i] === 'paused') found.push(key.slice(`${o.config.prefix}:sweep:`.length, -':state'.length));
      });
    } while (cursor !== '0');
    return found.sort();
  };

  try {
    if (o.all) {
      for (const id of await liveSweeps()) await join(id, false);
    } else {
      const ids = o.sweepIds ?? [];
      if (ids.length === 0) throw new HarrowError('INVALID_CONFIG', 'which sweeps? give --sweeps A,B or --all');
      for (const id of ids) await join(id, true);
    }
  } catch (err) {
    await Promise.all([...members.values()].map((m) => m.handle.terminate()));
    redis.disconnect();
    throw err;
  }
  await poll();
  timers.push(setInterval(() => void poll(), o.config.controlPollMs));
  if (o.all) {
    timers.push(
      setInterval(() => {
        void liveSweeps()
          .then(async (ids) => {
            for (const id of ids) await join(id, false);
            await poll();
          })
          .catch((err: unknown) => log.debug({ err }, 'could not list the sweeps; trying again'));
      }, RESCAN_MS),
    );
  }
  log.info({ sweeps: [...members.keys()], all: o.all ?? false, slots: slots.length, gpus: o.gpus ?? undefined }, 'agent of several sweeps started');
  finish();

  const all = (fn: (h: AgentHandle) => Promise<AgentExit>, reason: AgentExitReason): Promise<AgentExit> => {
    mode ??= reason;
    for (const m of members.values()) void fn(m.handle);
    finish();
    return closed;
  };
  return {
    agentId: `several-${process.pid}`,
    slots: slots.length,
    stop: () => all((h) => h.stop(), 'stopped'),
    terminate: () => all((h) => h.terminate(), 'interrupted'),
    drain: (reason) => all((h) => h.drain(reason), 'drained'),
    closed,
  };
}
