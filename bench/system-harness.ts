/**
 * What `npm run bench` (system.ts) and its `--scale` part (scale.ts) share: where Postgres and
 * Redis are, a throwaway schema per measurement, the direct-spawn baseline and percentiles.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

export const PG_URL = process.env.HARROW_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin/harrow');

export const now = (): number => performance.now();

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

/** Runs `fn` against a fresh schema (its URL sets the search_path), dropped afterwards. */
export async function withSchema<T>(fn: (url: string, schema: string) => Promise<T>): Promise<T> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const u = new URL(PG_URL);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    return await fn(u.toString(), schema);
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

/** Deletes every key under one installation's prefix (SCAN, not KEYS: the Redis is shared). */
export async function cleanRedis(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== '0');
  await r.quit();
}

/** Spawns `argv` `total` times with `parallel` at once; returns runs per second. */
export async function directRate(argv: string[], total: number, parallel: number): Promise<number> {
  let started = 0;
  const t0 = now();
  const worker = async () => {
    while (started < total) {
      started++;
      await new Promise<void>((resolve, reject) => {
        const c = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', detached: true });
        c.once('error', reject);
        c.once('exit', () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return total / ((now() - t0) / 1000);
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** p50 and p99 in ms of `requests` GETs of `path`, after `warmup` unmeasured ones; a non-2xx answer throws. */
export async function latency(base: string, path: string, requests: number, warmup: number): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < warmup; i++) await (await fetch(`${base}${path}`)).arrayBuffer();
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const t = now();
    const res = await fetch(`${base}${path}`);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${path} → ${res.status}`);
    times.push(now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p99: pct(times, 99) };
}
