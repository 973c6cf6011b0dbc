/**
 * A whole installation for end-to-end tests: a fresh Postgres schema, a unique Redis prefix,
 * the controller and agents as real processes (`harrow server`, `harrow agent`).
 */
import { Redis } from 'ioredis';
import { freshPostgres, REDIS_URL, uniqueName } from './services.js';
import { api, freePort, startHarrow, waitFor, type Proc } from './processes.js';
import type { Database } from '../../db/database.js';
import type { SweepDetail } from '../../protocol/api.js';

export interface Env {
  db: Database;
  drop: () => Promise<void>;
  prefix: string;
  controllerEnv: Record<string, string>;
  agentEnv: Record<string, string>;
  url: string;
  procs: Proc[];
}

/** The controller's timings in end-to-end tests: a lost heartbeat is a crash within seconds. */
export const E2E_TIMINGS = {
  HARROW_CRASH_TIMEOUT_MS: '2500',
  HARROW_TICK_MS: '250',
  HARROW_KILL_GRACE_MS: '1000',
  HARROW_AGENT_STALE_MS: '3000',
} as const;

export async function setUp(tag: string, dbUrl?: (schemaUrl: string) => string): Promise<Env> {
  const { db, url: schemaUrl, drop } = await freshPostgres(tag);
  const prefix = uniqueName(tag);
  const port = await freePort();
  const controllerEnv = {
    DATABASE_URL: dbUrl ? dbUrl(schemaUrl) : schemaUrl,
    REDIS_URL,
    HARROW_PREFIX: prefix,
    HARROW_PORT: String(port),
    ...E2E_TIMINGS,
  };
  const agentEnv = { REDIS_URL, HARROW_PREFIX: prefix, HARROW_HEARTBEAT_MS: '300' };
  return { db, drop, prefix, controllerEnv, agentEnv, url: `http://127.0.0.1:${port}`, procs: [] };
}

export async function tearDown(env: Env): Promise<void> {
  for (const p of env.procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(env.procs.map((p) => p.exited));
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${env.prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await env.drop();
}

export function controller(env: Env): Proc {
  const p = startHarrow(['server'], env.controllerEnv);
  env.procs.push(p);
  return p;
}

export function agent(env: Env, sweepId: string): Proc {
  const p = startHarrow(['agent', sweepId, '--quiet'], env.agentEnv);
  env.procs.push(p);
  return p;
}

/** The controller's token as a header, when the test started it with one (reads need it then). */
function authOf(env: Env): Record<string, string> {
  const token = env.controllerEnv.HARROW_TOKEN;
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function createSweep(env: Env, yaml: string): Promise<SweepDetail> {
  return api<SweepDetail>(env.url, '/api/sweeps', { method: 'POST', body: JSON.stringify({ config: yaml }), headers: authOf(env) });
}

export async function sweepState(env: Env, id: string): Promise<{ state: string; counts: { queued: number; running: number; finished: number } }> {
  return api(env.url, `/api/sweeps/${id}`, { headers: authOf(env) });
}

export async function waitFinished(env: Env, id: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    `sweep ${id} to finish`,
    async () => {
      const s = await sweepState(env, id);
      return s.state === 'finished' && s.counts.queued === 0 && s.counts.running === 0;
    },
    timeoutMs,
    300,
  ).catch((err: Error) => {
    const logs = env.procs.map((p, i) => `--- process ${i} ---\n${p.output().slice(-3000)}`).join('\n');
    throw new Error(`${err.message}\n${logs}`);
  });
}

