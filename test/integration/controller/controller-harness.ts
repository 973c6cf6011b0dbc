/**
 * The controller in-process on real Postgres (or embedded PGlite) and real Redis, spoken to over
 * real HTTP, plus a stand-in agent that speaks the wire contract of `protocol/wire.ts` by hand:
 * it advertises presence so the scheduler queues runs, and XADDs claim/metrics/end reports exactly
 * as `harrow agent` would. That lets these tests put runs in any state without spawning processes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import { loadControllerConfig } from '../../../controller/config.js';
import { startController, type ControllerHandle, type StartOptions } from '../../../controller/controller.js';
import { createLogger } from '../../../controller/logger.js';
import {
  ClaimAnswerSchema,
  ControlMessageSchema,
  REPORT_FIELD,
  WIRE_VERSION,
  redisKeys,
  type AgentPresence,
  type AgentReport,
  type ClaimAnswer,
  type ControlMessage,
  type EndReport,
  type RedisKeys,
} from '../../../protocol/wire.js';
import { ErrorResponseSchema, ListRunsResponseSchema, RunDetailSchema, SweepDetailSchema, type RunDetail, type SweepDetail } from '../../../protocol/api.js';
import { freshPostgres, REDIS_URL, uniqueName } from '../../helpers/services.js';
import { waitFor } from '../../helpers/processes.js';
import { allocateRunNumbers } from '../../../db/sweeps.js';
import { insertRuns } from '../../../db/runs.js';

export interface TestController {
  handle: ControllerHandle;
  url: string;
  prefix: string;
  keys: RedisKeys;
  /** A Redis connection of the test's own (the stand-in agent's side). */
  redis: Redis;
  close(): Promise<void>;
}

export interface TestControllerOptions {
  /** 'postgres' (a fresh schema) or 'pglite' (a fresh data directory, DATABASE_URL unset). */
  backend?: 'postgres' | 'pglite';
  env?: Record<string, string>;
  start?: StartOptions;
}

/** Settings that keep the tests fast and keep background work from interfering with them. */
const TEST_ENV = {
  HARROW_PORT: '0',
  HARROW_TICK_MS: '200',
  // Runs the tests leave running must not be reaped as crashed mid-test (no heartbeats are sent).
  HARROW_CRASH_TIMEOUT_MS: '600000',
  // Presence entries are written once per test; they must stay live for its whole length.
  HARROW_AGENT_STALE_MS: '600000',
  HARROW_KILL_GRACE_MS: '1000',
  // Tests poll every 50 ms from several pollers, all from one address: the limit has its own test.
  HARROW_RATE_LIMIT: 'off',
};

export async function startTestController(options: TestControllerOptions = {}): Promise<TestController> {
  const prefix = uniqueName('ctl');
  const cleanups: Array<() => Promise<void>> = [];
  const env: Record<string, string> = { ...TEST_ENV, REDIS_URL, HARROW_PREFIX: prefix, HARROW_LOG_LEVEL: 'silent', ...options.env };
  if ((options.backend ?? 'postgres') === 'postgres') {
    const pg = await freshPostgres('ctl');
    // freshPostgres migrated with its own pool; the controller opens its own.
    env.DATABASE_URL = pg.url;
    cleanups.push(pg.drop);
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'harrow-ctl-'));
    env.HARROW_DATA_DIR = dir;
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
  }
  const redis = new Redis(REDIS_URL);
  let handle: ControllerHandle;
  try {
    handle = await startController(loadControllerConfig(env), { logger: createLogger('silent', 'test'), strictTransactions: true, ...options.start });
  } catch (err) {
    redis.disconnect();
    for (const c of cleanups.reverse()) await c();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    handle,
    url: handle.url,
    prefix,
    keys: redisKeys(prefix),
    redis,
    close() {
      closed ??= (async () => {
        await handle.close();
        await deletePrefix(redis, prefix);
        await redis.quit();
        for (const c of cleanups.reverse()) await c();
      })();
      return closed;
    },
  };
}

/** Deletes every key of one installation (SCAN, not KEYS: other tests share this Redis). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export interface HttpResult<T = unknown> {
  status: number;
  contentType: string;
  text: string;
  body: T;
}

/** One HTTP request; the body is parsed as JSON when it is JSON, else left as text. */
export async function http<T = unknown>(base: string, path: string, init: RequestInit = {}): Promise<HttpResult<T>> {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let body: unknown = text;
  if (contentType.includes('json')) body = JSON.parse(text) as unknown;
  return { status: res.status, contentType, text, body: body as T };
}

export function postJson<T = unknown>(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
  return http<T>(base, path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export function postYaml<T = unknown>(base: string, path: string, yaml: string, contentType = 'text/yaml'): Promise<HttpResult<T>> {
  return http<T>(base, path, { method: 'POST', headers: { 'content-type': contentType }, body: yaml });
}

/** A request whose status must be `status`; returns the body parsed with `schema`. */
export async function expectOk<S extends z.ZodType>(schema: S, res: Promise<HttpResult>, status = 200): Promise<z.output<S>> {
  const r = await res;
  if (r.status !== status) throw new Error(`expected HTTP ${status}, got ${r.status}: ${r.text.slice(0, 2000)}`);
  const parsed = schema.safeParse(r.body);
  if (!parsed.success) throw new Error(`response does not match its schema: ${JSON.stringify(parsed.error.issues)}\n${r.text.slice(0, 2000)}`);
  return parsed.data;
}

/** An error response: checks the status, the `{code, message, details?}` shape and the code. */
export async function expectError(res: Promise<HttpResult>, status: number, code: string): Promise<z.output<typeof ErrorResponseSchema>> {
  const r = await res;
  const where = `${r.status} ${r.text.slice(0, 1000)}`;
  if (r.status !== status) throw new Error(`expected HTTP ${status} ${code}, got ${where}`);
  if (!r.contentType.includes('application/json')) throw new Error(`error body is not JSON (${r.contentType}): ${where}`);
  const parsed = ErrorResponseSchema.strict().safeParse(r.body);
  if (!parsed.success) throw new Error(`error body is not {code, message, details?}: ${where}`);
  if (parsed.data.code !== code) throw new Error(`expected code ${code}, got ${where}`);
  // Never internals: no stack frames, no HTML.
  if (/\n\s+at |<html|<!DOCTYPE/i.test(r.text)) throw new Error(`error body leaks internals: ${where}`);
  return parsed.data;
}

export async function createSweep(base: string, yaml: string): Promise<SweepDetail> {
  return expectOk(SweepDetailSchema, postYaml(base, '/api/sweeps', yaml), 201);
}

export async function getRun(base: string, runId: string): Promise<RunDetail> {
  return expectOk(RunDetailSchema, http(base, `/api/runs/${runId}`));
}

export async function getSweep(base: string, sweepId: string): Promise<SweepDetail> {
  return expectOk(SweepDetailSchema, http(base, `/api/sweeps/${sweepId}`));
}

/** Polls a run until `ok` holds; returns it. */
export function waitRun(base: string, runId: string, what: string, ok: (r: RunDetail) => boolean, timeoutMs = 10_000): Promise<RunDetail> {
  return waitFor(
    `run ${runId}: ${what}`,
    async () => {
      const r = await getRun(base, runId);
      return ok(r) ? r : undefined;
    },
    timeoutMs,
    50,
  );
}

export function waitSweep(base: string, sweepId: string, what: string, ok: (s: SweepDetail) => boolean, timeoutMs = 10_000): Promise<SweepDetail> {
  return waitFor(
    `sweep ${sweepId}: ${what}`,
    async () => {
      const s = await getSweep(base, sweepId);
      return ok(s) ? s : undefined;
    },
    timeoutMs,
    50,
  );
}

export function newToken(): string {
  return randomBytes(8).toString('hex');
}

/**
 * Plays one agent of one sweep over Redis. Metric `seq` numbers increase per (run, token), as an
 * agent numbers the points of one attempt.
 */
export class FakeAgent {
  private readonly seqs = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    readonly sweepId: string,
    readonly agentId = `fake-${randomBytes(3).toString('hex')}`,
  ) {}

  /** Tells the scheduler this agent has `slots` idle slots. */
  async advertise(slots: number, o: { busy?: number; accepting?: boolean } = {}): Promise<void> {
    const presence: AgentPresence = { agentId: this.agentId, host: 'test-box', slots, busy: o.busy ?? 0, accepting: o.accepting ?? true, at: Date.now() };
    await this.redis.hset(this.keys.agents(this.sweepId), this.agentId, JSON.stringify(presence));
  }

  /** The agent went away: nothing waits for work any more. */
  async withdraw(): Promise<void> {
    await this.redis.hdel(this.keys.agents(this.sweepId), this.agentId);
  }

  /**
   * XADDs a report. `lose`: Redis loses it, as on a flush or a restart without persistence: the
   * entry is added and deleted in one atomic script, so no consumer can ever read it.
   */
  async report(r: AgentReport, o: { lose?: boolean } = {}): Promise<void> {
    if (o.lose) {
      await this.redis.eval(
        `local id = redis.call('XADD', KEYS[1], '*', ARGV[1], ARGV[2]); redis.call('XDEL', KEYS[1], id); return id`,
        1,
        this.keys.reports,
        REPORT_FIELD,
        JSON.stringify(r),
      );
      return;
    }
    await this.redis.xadd(this.keys.reports, '*', REPORT_FIELD, JSON.stringify(r));
  }

  /** `gpu`: the GPUs the attempt holds, as `CUDA_VISIBLE_DEVICES` lists them. */
  async claim(runId: string, token: string, o: { gpu?: string | null } = {}): Promise<void> {
    await this.report({
      v: WIRE_VERSION,
      type: 'claim',
      sweepId: this.sweepId,
      agentId: this.agentId,
      runId,
      token,
      host: 'test-box',
      gpu: o.gpu ?? null,
      pid: null,
      at: Date.now(),
    });
  }

  /**
   * Claims and waits for the controller's answer on the claim's channel, as `harrow agent` does:
   * subscribed before the claim is sent, so the answer cannot be missed.
   */
  async claimAndAwait(runId: string, token: string, timeoutMs = 10_000): Promise<ClaimAnswer> {
    const sub = this.redis.duplicate();
    try {
      const channel = this.keys.claimAnswer(runId, token);
      const answer = new Promise<ClaimAnswer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to the claim of ${runId} within ${timeoutMs} ms`)), timeoutMs);
        sub.on('message', (ch: string, message: string) => {
          if (ch !== channel) return;
          clearTimeout(timer);
          resolve(ClaimAnswerSchema.parse(JSON.parse(message)));
        });
      });
      await sub.subscribe(channel);
      await this.claim(runId, token);
      return await answer;
    } finally {
      sub.disconnect();
    }
  }

  /** Points as [step, name, value]; returns the highest seq sent for this attempt. `lose`: see `report`. */
  async metrics(runId: string, token: string, points: Array<[number, string, number | 'nan' | 'inf' | '-inf']>, o: { lose?: boolean } = {}): Promise<number> {
    const key = `${runId}/${token}`;
    let seq = this.seqs.get(key) ?? 0;
    const t = Date.now();
    const out = points.map(([step, name, value]) => ({ seq: ++seq, step, name, value, t }));
    this.seqs.set(key, seq);
    await this.report({ v: WIRE_VERSION, type: 'metrics', sweepId: this.sweepId, agentId: this.agentId, runId, token, points: out }, o);
    return seq;
  }

  async end(runId: string, token: string, outcome: EndReport['outcome'], o: { exitCode?: number | null; reason?: string; tail?: string } = {}): Promise<void> {
    const exitCode = o.exitCode === undefined ? (outcome === 'finished' ? 0 : outcome === 'failed' ? 1 : null) : o.exitCode;
    await this.report({
      v: WIRE_VERSION,
      type: 'end',
      sweepId: this.sweepId,
      agentId: this.agentId,
      runId,
      token,
      outcome,
      exitCode,
      signal: outcome === 'stopped' || outcome === 'canceled' ? 'SIGTERM' : null,
      reason: o.reason ?? (outcome === 'finished' ? 'exit code 0' : outcome === 'failed' ? `exit code ${exitCode}` : `${outcome} by controller`),
      tail: o.tail ?? `tail of ${runId}\n`,
      lastSeq: this.seqs.get(`${runId}/${token}`) ?? 0,
      at: Date.now(),
    });
  }

  /** The control message the controller left for a run, if any. */
  async control(runId: string): Promise<ControlMessage | null> {
    const raw = await this.redis.get(this.keys.control(runId));
    return raw === null ? null : ControlMessageSchema.parse(JSON.parse(raw));
  }
}

/**
 * A new sweep from `yaml` with one run (x = 0.5) put in by hand, not by the scheduler, and claimed
 * by a stand-in agent: the run is `running` when this returns.
 */
export async function claimedRun(c: TestController, yaml: string): Promise<{ sweepId: string; agent: FakeAgent; runId: string; token: string }> {
  const s = await createSweep(c.url, yaml);
  const runId = await c.handle.ctx.db.transaction(async (tx) => {
    const n = await allocateRunNumbers(tx, s.id, 1);
    const [run] = await insertRuns(tx, [{ id: `${s.id}-${n}`, sweepId: s.id, number: n, params: { x: 0.5 }, paramsHash: 'h', proposal: null }], 'test');
    return run!.id;
  });
  const agent = new FakeAgent(c.redis, c.keys, s.id);
  const token = newToken();
  await agent.claim(runId, token);
  await waitRun(c.url, runId, 'running', (r) => r.state === 'running');
  return { sweepId: s.id, agent, runId, token };
}

/**
 * Has the scheduler queue `n` runs for the agent, then claims, reports one `loss` point of
 * `value(params)` and finishes each; resolves when the last one is finished.
 */
export async function finishRuns(base: string, agent: FakeAgent, n: number, value: (params: Record<string, unknown>) => number): Promise<void> {
  await agent.advertise(n);
  const runs = await waitFor(
    `${n} queued runs`,
    async () => {
      const r = await expectOk(ListRunsResponseSchema, http(base, `/api/sweeps/${agent.sweepId}/runs?state=queued&limit=500`));
      return r.total >= n ? r.runs.slice(0, n) : undefined;
    },
    15_000,
    50,
  );
  await agent.withdraw();
  for (const run of runs) {
    const token = newToken();
    await agent.claim(run.id, token);
    await agent.metrics(run.id, token, [[0, 'loss', value(run.params)]]);
    await agent.end(run.id, token, 'finished');
  }
  await waitRun(base, runs[runs.length - 1]!.id, 'finished', (r) => r.state === 'finished');
}

/** A server-sent event as read off the wire. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * Reads a text/event-stream with fetch: events are collected as they arrive; `next` waits for the
 * first unseen event matching a predicate. `close` aborts the request.
 */
export class SseReader {
  readonly events: SseEvent[] = [];
  status = 0;
  contentType = '';
  private readonly abort = new AbortController();
  private cursor = 0;
  private pump: Promise<void> | undefined;
  private failure: Error | undefined;

  static async open(url: string): Promise<SseReader> {
    const r = new SseReader();
    const res = await fetch(url, { signal: r.abort.signal, headers: { accept: 'text/event-stream' } });
    r.status = res.status;
    r.contentType = res.headers.get('content-type') ?? '';
    if (!res.body) throw new Error('event stream has no body');
    r.pump = r.read(res.body);
    return r;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue; // comment (keepalive)
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length > 0) this.events.push({ event, data: JSON.parse(data.join('\n')) as unknown });
        }
      }
    } catch (err) {
      if (!this.abort.signal.aborted) this.failure = err as Error;
    }
  }

  /** The next event (after the ones already returned) that matches; events skipped are kept in `events`. */
  async next(what: string, match: (e: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
    return waitFor(
      `SSE event: ${what}`,
      () => {
        if (this.failure) throw this.failure;
        for (let i = this.cursor; i < this.events.length; i++) {
          const e = this.events[i]!;
          if (match(e)) {
            this.cursor = i + 1;
            return Promise.resolve(e);
          }
        }
        return Promise.resolve(undefined);
      },
      timeoutMs,
      25,
    );
  }

  /** Resolves when the server ends the stream; rejects if the connection broke instead. */
  async ended(): Promise<void> {
    await this.pump;
    if (this.failure) throw this.failure;
  }

  /** Events not yet returned by `next`. */
  pending(): SseEvent[] {
    return this.events.slice(this.cursor);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.pump;
  }
}

/**
 * Whether a first page of runs shows at least `n` runs, counting both the rows and `total`.
 * The two come from separate statements (a known bug of `listRuns`, shown in api.test.ts), so a poll taken while
 * the scheduler inserts can see `total` ahead of the rows; waiting on both avoids acting on that.
 */
export function settled(r: { runs: unknown[]; total: number }, n: number): boolean {
  return r.total >= n && r.runs.length >= n;
}
