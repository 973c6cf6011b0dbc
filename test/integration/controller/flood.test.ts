/**
 * Forged or stale traffic costs nothing (issue 11 point 7): a flood of forged reports — claims for
 * runs that do not exist, claims of a real run with foreign tokens, metrics, heartbeats and ends
 * with tokens that own nothing — leaves Redis as it was: the same keys under the installation's
 * prefix, and its memory back where it was once the reports are ingested. Refusals are answered
 * on pub/sub channels, never stored. On a PRIVATE Redis, so that INFO memory measures only this.
 * HARROW_FLOOD_REPORTS sets the flood's size (default 100000).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { REPORT_FIELD, WIRE_VERSION, type AgentReport } from '../../../protocol/wire.js';
import { needServices } from '../../helpers/services.js';
import { PrivateRedis, redisServerBin } from '../../helpers/private-services.js';
import { waitFor } from '../../helpers/processes.js';
import { FakeAgent, createSweep, startTestController, type TestController } from './controller-harness.js';

const FLOOD = Number(process.env.HARROW_FLOOD_REPORTS ?? 100_000);
const opts = await needServices();
if (!redisServerBin() && process.env.CI) throw new Error('the flood test needs redis-server in CI');

async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out.sort();
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

describe('forged traffic', { ...opts, skip: opts.skip ?? (redisServerBin() ? undefined : 'no redis-server'), timeout: 300_000 }, () => {
  test(`${FLOOD} forged reports leave no key behind and Redis memory where it was`, async () => {
    const server = await PrivateRedis.start();
    const redis = new Redis(server.url);
    let c: TestController | undefined;
    try {
      c = await startTestController({ env: { REDIS_URL: server.url } });
      const s = await createSweep(c.url, ['name: flood', 'method: random', 'program: train.py', 'metric: {name: loss, goal: minimize}', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n'));
      // A real run, claimed by a real token, so that foreign tokens are refused as stale, not unknown.
      const agent = new FakeAgent(redis, c.keys, s.id, 'honest');
      await agent.advertise(1);
      const runId = await waitFor('a queued run', async () => {
        const { rows } = await c!.handle.ctx.db.query<{ id: string }>(`SELECT id FROM runs WHERE sweep_id = $1 LIMIT 1`, [s.id]);
        return rows[0]?.id;
      });
      await agent.withdraw();
      assert.equal((await agent.claimAndAwait(runId, 'honest-token')).verdict, 'accepted');
      // Settled: the scheduler's lookahead, the sweep state and the honest claim are all in Redis.
      await new Promise((r) => setTimeout(r, 1000));
      const keysBefore = await keysOf(redis, c.prefix);
      const memoryBefore = await usedMemory(redis);

      const started = Date.now();
      const base = { v: WIRE_VERSION, sweepId: s.id, agentId: 'forger' } as const;
      for (let i = 0; i < FLOOD; i += 5000) {
        const pipe = redis.pipeline();
        for (let j = i; j < Math.min(FLOOD, i + 5000); j++) {
          const token = randomBytes(6).toString('hex');
          // Mostly forged run ids (what a forger can make); a few reports name the real run
          // with a foreign token (stale traffic), which costs the database a statement each.
          const kind = j % 50;
          const forged = `forged-${j}`;
          let r: AgentReport;
          if (kind < 30) r = { ...base, type: 'claim', runId: forged, token, host: 'x', gpu: null, pid: null, at: Date.now() };
          else if (kind < 31) r = { ...base, type: 'claim', runId, token, host: 'x', gpu: null, pid: null, at: Date.now() };
          else if (kind < 39) r = { ...base, type: 'metrics', runId: kind < 35 ? runId : forged, token, points: [{ seq: 1, step: 0, name: 'loss', value: 0, t: Date.now() }] };
          else if (kind < 45) r = { ...base, type: 'heartbeat', runs: [{ runId, token }, { runId: forged, token }], at: Date.now() };
          else r = { ...base, type: 'end', runId: kind < 46 ? runId : forged, token, outcome: 'finished', exitCode: 0, signal: null, reason: 'forged', tail: '', lastSeq: 1, at: Date.now() };
          pipe.xadd(c.keys.reports, '*', REPORT_FIELD, JSON.stringify(r));
        }
        await pipe.exec();
      }
      await waitFor('the flood to be ingested', async () => (await redis.xlen(c!.keys.reports)) === 0, 240_000, 200);
      const ingestMs = Date.now() - started;
      const keysAfter = await keysOf(redis, c.prefix);
      const memoryAfter = await usedMemory(redis);
      console.log(
        `flood of ${FLOOD} forged reports: ingested in ${(ingestMs / 1000).toFixed(1)} s; keys under the prefix ${keysBefore.length} → ${keysAfter.length}; ` +
          `used_memory ${(memoryBefore / 1024).toFixed(0)} KiB → ${(memoryAfter / 1024).toFixed(0)} KiB`,
      );
      assert.deepEqual(keysAfter, keysBefore, 'no key written for forged traffic');
      // Allocator slack only: a single 24 h control key per forged claim (the old behaviour) costs ~100 B each.
      assert.ok(memoryAfter - memoryBefore < 256 * 1024, `memory grew by ${memoryAfter - memoryBefore} bytes`);
      const run = await c.handle.ctx.db.query<{ state: string; token: string }>(`SELECT state, token FROM runs WHERE id = $1`, [runId]);
      assert.deepEqual(run.rows[0], { state: 'running', token: 'honest-token' }, 'the honest attempt is untouched');
    } finally {
      await c?.close();
      redis.disconnect();
      await server.kill();
    }
  });
});
