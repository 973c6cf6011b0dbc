/**
 * The agent protocol over HTTP (protocol/agent-http.ts): agents that can reach only this server,
 * not Redis. Each call is the Redis path done on the agent's behalf, so every guarantee is the
 * same code: the run's BullMQ job is taken from the sweep's queue here (a Worker without a
 * processor, `getNextJob` with a lock token), the agent's reports go into the same reports stream
 * the ingestor reads (fencing by token, exactly-once by (run, attempt, seq)), and a claim is
 * answered to the agent only once the ingestor committed it and published its answer.
 *
 * Authentication is the app's one token hook: every route here is a POST, which it guards.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import {
  AGENT_API,
  AckSchema,
  END_ANSWER_HTTP_WAIT_MS,
  ReportAckSchema,
  ClaimRequestSchema,
  ClaimResponseSchema,
  LeaveRequestSchema,
  PollRequestSchema,
  PollResponseSchema,
  type ClaimResponse,
} from '../../protocol/agent-http.js';
import { IdParamsSchema } from '../../protocol/api.js';
import { HarrowError } from '../../protocol/errors.js';
import { SECOND } from '../../protocol/time.js';
import {
  AgentReportSchema,
  ClaimAnswerSchema,
  ControlMessageSchema,
  EndAnswerSchema,
  REPORT_FIELD,
  RunJobSchema,
  SweepStateSchema,
  WIRE_VERSION,
  type AgentReport,
  type ClaimAnswer,
  type ControlMessage,
  type SweepState,
} from '../../protocol/wire.js';
import type { ControllerContext } from '../context.js';
import { doc, parse, responses } from './route-schema.js';
import { assertInScope, authConfig, identityOf } from '../security/auth.js';

/** How often a waiting claim looks at the queue (the per-run overhead of an HTTP agent is about half of it). */
const QUEUE_POLL_MS = 100;
/** A claim unanswered this long (the database is away) gives its job back; the agent asks again. */
const CLAIM_ANSWER_WAIT_MS = 30 * SECOND;
/** The claim report is written again this often while its answer is awaited, as an agent does. */
const CLAIM_RESEND_MS = 3 * SECOND;
/**
 * BullMQ lock of a job taken for an HTTP agent: longer than the wait for the claim's answer, after
 * which the job is completed (claimed) or given back. Should this controller die holding it, the
 * stalled checker below fails it once the lock expires, and the reaper enqueues the run again.
 */
const JOB_LOCK_MS = CLAIM_ANSWER_WAIT_MS + 30 * SECOND;

export function agentProtocolRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  const takers = new Map<string, Worker>();
  let answers: AnswerWaiters | null = null;
  const answerWaiters = (): AnswerWaiters => (answers ??= new AnswerWaiters(ctx.link.redis.duplicate()));
  // Closing waits for requests in flight: waiting claims end at once rather than after their long-poll.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onClose', async () => {
    await Promise.allSettled([...takers.values()].map((w) => w.close()));
    answers?.close();
  });
  // A deleted sweep's taker must stop: its stalled-jobs check would write the queue's keys again.
  ctx.queue.onDrop(async (sweepId) => {
    const w = takers.get(sweepId);
    if (!w) return;
    takers.delete(sweepId);
    await w.close(true);
  });

  const taker = (sweepId: string): Worker => {
    let w = takers.get(sweepId);
    if (!w) {
      w = new Worker(ctx.keys.queueName(sweepId), null, {
        connection: ctx.link.redis,
        prefix: ctx.keys.bullPrefix,
        autorun: false,
        lockDuration: JOB_LOCK_MS,
        // Retries are the controller's (a new attempt, fenced), never BullMQ's.
        maxStalledCount: 0,
        name: 'harrow-http-agents',
      });
      w.on('error', (err) => ctx.log.warn({ err: err.message, sweepId }, 'HTTP agent job taker error'));
      void w.startStalledCheckTimer().catch(() => undefined);
      takers.set(sweepId, w);
    }
    return w;
  };

  const sweepState = async (sweepId: string): Promise<SweepState | null> => {
    const raw = await ctx.link.redis.get(ctx.keys.sweepState(sweepId));
    if (raw === null) {
      // Not in Redis (flushed, or no such sweep): Postgres says which.
      await ctx.specs.get(ctx.db, sweepId);
      return null;
    }
    const parsed = SweepStateSchema.safeParse(raw);
    return parsed.success ? parsed.data : null;
  };

  /**
   * The sweep of `id`, checked against the caller's project scopes: an agent token scoped to
   * `vision` must not take (and so read) the runs of another project's sweep, nor steer or report
   * into it. Outside its scope the sweep answers as if it did not exist, as on every other route.
   */
  const sweepInScope = async (req: FastifyRequest, id: string): Promise<string> => {
    const who = identityOf(req);
    if (who && who.projects !== null) assertInScope(who, id, await ctx.specs.get(ctx.db, id));
    return id;
  };

  const append = async (report: AgentReport): Promise<void> => {
    await ctx.link.redis.xadd(ctx.keys.reports, '*', REPORT_FIELD, JSON.stringify(report));
  };

  app.post(
    `${AGENT_API}/sweeps/:id/claim`,
    {
      config: authConfig('agent'),
      schema: {
        summary: 'Agent protocol: take the next run of a sweep for a fencing token (long-poll); answered once the claim is committed',
        tags: ['agent protocol'],
        params: doc(IdParamsSchema),
        body: doc(ClaimRequestSchema),
        response: responses(ClaimResponseSchema),
      },
    },
    async (req, reply): Promise<ClaimResponse> => {
      const id = await sweepInScope(req, parse(IdParamsSchema, req.params, 'params').id);
      const body = parse(ClaimRequestSchema, req.body, 'body');
      // The agent gave up (Ctrl-C, timeout): take no job for it.
      let gone = false;
      reply.raw.once('close', () => (gone = !reply.raw.writableEnded));
      const deadline = Date.now() + body.waitMs;
      const lockToken = body.token;
      for (;;) {
        const state = await sweepState(id);
        if (state === 'finished' || state === 'canceled') return { kind: 'none', state };
        const job = (await taker(id).getNextJob(lockToken, { block: false })) as Job | undefined;
        if (job) return await claimFor(id, job, lockToken, body, state);
        if (gone || closing || Date.now() + QUEUE_POLL_MS > deadline) return { kind: 'none', state };
        await sleep(QUEUE_POLL_MS);
      }
    },
  );

  /** Writes the agent's claim of `job` and waits for the ingestor's answer, as an agent would. */
  const claimFor = async (
    sweepId: string,
    job: Job,
    lockToken: string,
    body: { agentId: string; host: string; gpu: string | null; gpus?: string[] | undefined; token: string },
    state: SweepState | null,
  ): Promise<ClaimResponse> => {
    const parsed = RunJobSchema.safeParse(job.data);
    if (!parsed.success || parsed.data.sweepId !== sweepId) {
      await job.moveToFailed(new Error('not a valid run job'), lockToken, false).catch(() => undefined);
      throw new HarrowError('INTERNAL', `job ${String(job.id)} of sweep ${sweepId} is not a valid run`);
    }
    const runJob = parsed.data;
    if (body.gpus !== undefined && runJob.gpusPerRun > body.gpus.length) {
      // Too big for the GPUs the agent has free: nothing claimed, the run stays queued (for this
      // agent once enough of its GPUs are free, or for a bigger one), as a Redis agent does.
      await job.moveToWait(lockToken).catch((err: unknown) => {
        ctx.log.warn({ err: (err as Error).message, runId: runJob.runId }, 'could not give back the job of a run too big for the agent; the reaper will enqueue it again');
      });
      return { kind: 'none', state, gpusPerRun: runJob.gpusPerRun };
    }
    const gpus = body.gpus?.slice(0, runJob.gpusPerRun);
    const claim: AgentReport = {
      v: WIRE_VERSION,
      type: 'claim',
      sweepId,
      agentId: body.agentId,
      runId: runJob.runId,
      token: body.token,
      host: body.host,
      gpu: gpus !== undefined ? gpus.join(',') : body.gpu,
      pid: null,
      at: Date.now(),
    };
    const listener = await answerWaiters().listen(ctx.keys.claimAnswer(runJob.runId, body.token));
    let answer: ClaimAnswer | null = null;
    try {
      const since = Date.now();
      while (answer === null && Date.now() - since < CLAIM_ANSWER_WAIT_MS) {
        await append(claim);
        answer = await listener.next(CLAIM_RESEND_MS);
      }
    } finally {
      listener.close();
    }
    if (answer === null) {
      await job.moveToWait(lockToken).catch(() => undefined);
      throw new HarrowError('SERVICE_UNAVAILABLE', `the claim of run ${runJob.runId} was not committed in time (is the database reachable?); ask again`);
    }
    // The claim is decided in Postgres: from here the run's fate is the controller's (heartbeats,
    // reaper), exactly as when a Redis agent's job completes after its run.
    await job.moveToCompleted(answer.verdict, lockToken, false).catch((err: unknown) => {
      ctx.log.warn({ err: (err as Error).message, runId: runJob.runId }, 'could not complete the job of a claimed run');
    });
    return { kind: 'run', job: runJob, answer, ...(gpus !== undefined ? { gpus } : {}) };
  };

  app.post(
    `${AGENT_API}/sweeps/:id/reports`,
    {
      config: authConfig('agent'),
      schema: {
        summary: "Agent protocol: one metrics or end report of a claimed run (sending one again is harmless); an end report is answered with the controller's answer to it",
        tags: ['agent protocol'],
        params: doc(IdParamsSchema),
        response: responses(ReportAckSchema),
      },
    },
    async (req) => {
      const id = await sweepInScope(req, parse(IdParamsSchema, req.params, 'params').id);
      const report = parse(AgentReportSchema, req.body, 'body');
      if (report.sweepId !== id) throw new HarrowError('INVALID_REQUEST', `body.sweepId: the report is for sweep ${report.sweepId}, not ${id}`);
      if (report.type === 'claim' || report.type === 'heartbeat') {
        throw new HarrowError('INVALID_REQUEST', `body.type: send ${report.type}s through ${AGENT_API}/sweeps/:id/${report.type === 'claim' ? 'claim' : 'poll'}`);
      }
      if (report.type !== 'end') {
        await append(report);
        return { ok: true as const };
      }
      // The ingestor answers an end report on its channel (resend lost points, or ended), as it
      // does for a Redis agent: the answer goes back in this response, or null after a short wait
      // (the agent then sends the end report again).
      const listener = await answerWaiters().listen(ctx.keys.endAnswer(report.runId, report.token), EndAnswerSchema);
      try {
        await append(report);
        return { ok: true as const, answer: closing ? null : await listener.next(END_ANSWER_HTTP_WAIT_MS) };
      } finally {
        listener.close();
      }
    },
  );

  app.post(
    `${AGENT_API}/sweeps/:id/poll`,
    {
      config: authConfig('agent'),
      schema: {
        summary: "Agent protocol: the agent's presence and heartbeat in; the sweep state and its runs' stop/cancel/abort out",
        tags: ['agent protocol'],
        params: doc(IdParamsSchema),
        body: doc(PollRequestSchema),
        response: responses(PollResponseSchema),
      },
    },
    async (req) => {
      const id = await sweepInScope(req, parse(IdParamsSchema, req.params, 'params').id);
      const body = parse(PollRequestSchema, req.body, 'body');
      const redis = ctx.link.redis;
      await redis.hset(ctx.keys.agents(id), body.presence.agentId, JSON.stringify(body.presence));
      if (body.heartbeat && body.runs.length > 0) {
        await append({ v: WIRE_VERSION, type: 'heartbeat', sweepId: id, agentId: body.presence.agentId, runs: body.runs, at: body.presence.at });
      }
      const state = await sweepState(id);
      const raw = body.runs.length > 0 ? await redis.mget(...body.runs.map((r) => ctx.keys.control(r.runId))) : [];
      const spec = await ctx.specs.get(ctx.db, id);
      const functionAgentOnly = spec.program === undefined && spec.command.some((el) => el.includes('${program}'));
      return { state, functionAgentOnly, controls: raw.map((value) => parseControl(value ?? null)) };
    },
  );

  app.post(
    `${AGENT_API}/sweeps/:id/leave`,
    {
      config: authConfig('agent'),
      schema: {
        summary: 'Agent protocol: the agent exits; the scheduler stops counting its slots',
        tags: ['agent protocol'],
        params: doc(IdParamsSchema),
        body: doc(LeaveRequestSchema),
        response: responses(AckSchema),
      },
    },
    async (req) => {
      const id = await sweepInScope(req, parse(IdParamsSchema, req.params, 'params').id);
      const body = parse(LeaveRequestSchema, req.body, 'body');
      await ctx.link.redis.hdel(ctx.keys.agents(id), body.agentId);
      return { ok: true as const };
    },
  );
}

function parseControl(raw: string | null): ControlMessage | null {
  if (raw === null) return null;
  try {
    const parsed = ControlMessageSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The ingestor's answers to claims and end reports (published on each one's channel), on one subscriber connection. */
class AnswerWaiters {
  private readonly waiting = new Map<string, (message: string) => void>();

  constructor(private readonly subscriber: Redis) {
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => this.waiting.get(channel)?.(message));
  }

  async listen(channel: string): Promise<AnswerWaiter<ClaimAnswer>>;
  async listen<T>(channel: string, schema: z.ZodType<T>): Promise<AnswerWaiter<T>>;
  async listen<T>(channel: string, schema?: z.ZodType<T>): Promise<AnswerWaiter<T>> {
    const parser = (schema ?? ClaimAnswerSchema) as z.ZodType<T>;
    let latest: T | null = null;
    let wake: (() => void) | null = null;
    this.waiting.set(channel, (message) => {
      try {
        const parsed = parser.safeParse(JSON.parse(message));
        if (!parsed.success) return;
        latest = parsed.data;
        wake?.();
      } catch {
        // not an answer: ignored
      }
    });
    await this.subscriber.subscribe(channel);
    return {
      next: (timeoutMs) =>
        new Promise((resolve) => {
          if (latest !== null) return resolve(latest);
          const timer = setTimeout(() => {
            wake = null;
            resolve(latest);
          }, timeoutMs);
          wake = () => {
            clearTimeout(timer);
            wake = null;
            resolve(latest);
          };
        }),
      close: () => {
        this.waiting.delete(channel);
        void this.subscriber.unsubscribe(channel).catch(() => undefined);
      },
    };
  }

  close(): void {
    this.waiting.clear();
    this.subscriber.disconnect();
  }
}

interface AnswerWaiter<T> {
  next(timeoutMs: number): Promise<T | null>;
  close(): void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
