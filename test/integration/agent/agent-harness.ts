/**
 * Plays the controller for agent tests against real Redis: a unique key prefix per test, the
 * sweep state key, BullMQ jobs, control keys, and the reports stream read back. Closes and
 * deletes everything it made.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startAgent, type AgentHandle, type AgentOptions } from '../../../agent/start-agent.js';
import {
  AgentPresenceSchema,
  AgentReportSchema,
  MetricPointSchema,
  REPORT_FIELD,
  WIRE_VERSION,
  jobIdOf,
  redisKeys,
  type AgentPresence,
  type AgentReport,
  type ClaimAnswer,
  type ClaimReport,
  type ControlMessage,
  type EndAnswer,
  type EndReport,
  type RedisKeys,
  type RunJob,
  type SweepState,
} from '../../../protocol/wire.js';

export { REDIS_URL } from '../../helpers/services.js';
import { REDIS_URL } from '../../helpers/services.js';

/** How long a test waits for something the agent should do before it fails (not a timing assertion). */
export const PATIENCE_MS = 20_000;

export { needRedis } from '../../helpers/services.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value (not undefined), or fails after PATIENCE_MS. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(25);
  }
}

/** Whether a process is alive (a zombie is not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

export class AgentHarness {
  readonly prefix = `harrow-test-agent-${randomBytes(4).toString('hex')}`;
  readonly keys: RedisKeys = redisKeys(this.prefix);
  readonly sweepId = `sw${randomBytes(3).toString('hex')}`;
  readonly redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  readonly queue: Queue;
  private readonly agents: AgentHandle[] = [];
  private runs = 0;
  /**
   * How the playing controller answers each claim (once per claim entry, as the controller does
   * after its commit); null leaves it unanswered. Default: accepted as attempt 1.
   */
  /** As the controller: accept, with the attempt number Postgres would give (claims so far + 1). */
  answerClaim: (claim: ClaimReport) => ClaimAnswer | null = (claim) => ({ verdict: 'accepted', attempt: (this.claimsSoFar.get(claim.runId) ?? 0) + 1 });
  private readonly claimsSoFar = new Map<string, number>();
  /** How the playing controller answers each end report (once per entry); null leaves it unanswered. Default: ended, nothing missing. */
  answerEnd: (end: EndReport) => EndAnswer | null = () => ({ kind: 'ended', missing: 0 });
  private readonly answered = new Set<string>();
  private answering: NodeJS.Timeout | null = null;

  constructor() {
    this.queue = new Queue(this.keys.queueName(this.sweepId), {
      connection: { url: REDIS_URL },
      prefix: this.keys.bullPrefix,
    });
  }

  static async create(state: SweepState = 'running'): Promise<AgentHarness> {
    const h = new AgentHarness();
    await h.setState(state);
    h.answering = setInterval(() => void h.answerClaims().catch(() => undefined), 20);
    return h;
  }

  private async answerClaims(): Promise<void> {
    const entries = await this.redis.xrange(this.keys.reports, '-', '+');
    for (const [id, fields] of entries) {
      if (this.answered.has(id)) continue;
      this.answered.add(id);
      const report = AgentReportSchema.parse(JSON.parse(fields[fields.indexOf(REPORT_FIELD) + 1]!));
      if (report.type === 'end') {
        const answer = this.answerEnd(report);
        if (answer) await this.redis.publish(this.keys.endAnswer(report.runId, report.token), JSON.stringify(answer));
        continue;
      }
      if (report.type !== 'claim') continue;
      const answer = this.answerClaim(report);
      if (answer) await this.redis.publish(this.keys.claimAnswer(report.runId, report.token), JSON.stringify(answer));
    }
  }

  async setState(state: SweepState): Promise<void> {
    await this.redis.set(this.keys.sweepState(this.sweepId), state);
  }

  /** Adds a run job as the controller would (`claimsSoFar` > 0: a retry's job); returns it. */
  async enqueue(command: string[], over: Partial<RunJob> = {}, claimsSoFar = 0): Promise<RunJob> {
    this.runs++;
    const job: RunJob = {
      v: WIRE_VERSION,
      sweepId: this.sweepId,
      runId: `run${this.runs}-${randomBytes(3).toString('hex')}`,
      number: this.runs,
      params: {},
      command,
      killGraceMs: 1000,
      gpusPerRun: 1,
      ...over,
    };
    this.claimsSoFar.set(job.runId, claimsSoFar);
    await this.queue.add('run', job, { jobId: jobIdOf({ id: job.runId, attempt: claimsSoFar }) });
    return job;
  }

  async control(runId: string, message: Omit<ControlMessage, 'at'>): Promise<void> {
    await this.redis.set(this.keys.control(runId), JSON.stringify({ ...message, at: Date.now() }));
  }

  async reports(): Promise<AgentReport[]> {
    const entries = await this.redis.xrange(this.keys.reports, '-', '+');
    return entries.map(([, fields]) => {
      const i = fields.indexOf(REPORT_FIELD);
      return AgentReportSchema.parse(JSON.parse(fields[i + 1]!));
    });
  }

  async reportsOf(runId: string): Promise<AgentReport[]> {
    return (await this.reports()).filter((r) => r.type !== 'heartbeat' && r.runId === runId);
  }

  /** The run's end report, once it is there. */
  async end(runId: string): Promise<EndReport> {
    return eventually(`the end report of ${runId}`, async () =>
      (await this.reportsOf(runId)).find((r): r is EndReport => r.type === 'end'),
    );
  }

  /** The latest value of a metric of the run, once one arrived. */
  async metric(runId: string, name: string): Promise<number> {
    return eventually(`metric ${name} of ${runId}`, async () => {
      const points = (await this.reportsOf(runId)).flatMap((r) => (r.type === 'metrics' ? r.points.map((p) => MetricPointSchema.parse(p)) : []));
      const value = points.filter((p) => p.name === name).at(-1)?.value;
      return typeof value === 'number' ? value : undefined;
    });
  }

  async presence(): Promise<AgentPresence[]> {
    const all = await this.redis.hgetall(this.keys.agents(this.sweepId));
    return Object.values(all).map((v) => AgentPresenceSchema.parse(JSON.parse(v)));
  }

  async startAgent(options: Partial<AgentOptions> = {}): Promise<AgentHandle> {
    const agent = await startAgent({
      sweepId: this.sweepId,
      config: { redisUrl: REDIS_URL, prefix: this.prefix, heartbeatMs: 200, controlPollMs: 100, claimWaitMs: 60_000, logLevel: 'silent', logFormat: 'json' },
      logger: pino({ level: process.env.HARROW_TEST_AGENT_LOG ?? 'silent' }),
      quiet: true,
      ...options,
    });
    this.agents.push(agent);
    return agent;
  }

  /** Terminates any agent still running, then removes every key of this test. */
  async close(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.terminate()));
    if (this.answering) clearInterval(this.answering);
    await this.queue.close();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await this.redis.del(...keys);
    } while (cursor !== '0');
    await this.redis.quit();
  }
}

/** A `node -e` command (no `${` in `script`: the renderer would read it as a placeholder). */
export function nodeCommand(script: string, ...rest: string[]): string[] {
  return [process.execPath, '-e', script, ...rest];
}
