/**
 * The wire contract between the controller and the agents. Agents need only Redis; everything
 * they exchange with the controller is defined here, once, with zod.
 *
 *   controller ──(BullMQ job per run, job id = run id)──────────────▶ agent
 *   controller ──(control key per run, sweep state key)─────────────▶ agent   (agent polls ≤ 1 s)
 *   agent ──(presence hash: slots, busy)─────────────────────────────▶ controller (scheduler demand)
 *   agent ──(reports stream: claim, metrics, heartbeat, end)─────────▶ controller (consumer group)
 *   controller ──(claim answer, pub/sub on the claim's own channel)──▶ agent   (after the commit)
 *   controller ──(end answer: resend these points / ended, pub/sub)─▶ agent   (after the end report)
 *
 * Fencing: every claim of a run carries a fresh `token` made by the agent. The controller accepts
 * the first claim of a queued run; reports whose token is not the run's current token are refused,
 * so a late report from an agent presumed dead can never overwrite a retry.
 *
 * The claim is the fence of the execution too: the agent starts the training command only once
 * the controller has committed its claim in Postgres and answered `accepted` on the claim's
 * channel. A second claimant of the same run (a job enqueued again after a controller restart or a
 * Redis flush) is answered `refused` and starts nothing. The answer is published, never stored:
 * a claim nobody waits for (forged, or from an agent that gave up) leaves nothing in Redis. A lost
 * answer is recovered by the agent re-sending the same claim, which the controller answers again.
 *
 * Exactly-once metrics: each point carries `seq`, increasing per attempt. The controller stores
 * points under (run, attempt, seq) and ignores repeats, so re-delivered reports are harmless.
 *
 * No silent gaps: the end report names the attempt's last `seq`. The agent keeps the points it sent
 * (the most recent RESEND_KEEP_POINTS, agent/run-metrics.ts) until the controller answers the end report. Points that
 * never arrived (Redis lost them) are asked for on the end's channel (`resend`, by seq ranges); the
 * agent sends them again (`resent: true`) and the end report once more; the controller answers
 * `ended` once it applied the end. Only when the agent cannot resend them within a bounded wait
 * (gone, or the points no longer kept) is the gap recorded on the run as data loss.
 */
import { z } from 'zod';

export const WIRE_VERSION = 1;

/** All Redis keys of one Harrow installation (or one test) live under this prefix. */
export function redisKeys(prefix: string) {
  return {
    /** BullMQ `prefix` option for every run queue. */
    bullPrefix: `${prefix}:bull`,
    /** BullMQ queue name of a sweep (BullMQ forbids ':' in names). */
    queueName: (sweepId: string) => `runs-${sweepId}`,
    /** Stream of agent reports, read by the controller's consumer group. */
    reports: `${prefix}:reports`,
    reportsGroup: 'controller',
    /** String: the sweep's state (`running`, `paused`, `finished`, `canceled`), written by the controller. */
    sweepState: (sweepId: string) => `${prefix}:sweep:${sweepId}:state`,
    /** String JSON `SweepShare`: the sweep's priority and slot cap on agents of several sweeps. */
    sweepShare: (sweepId: string) => `${prefix}:sweep:${sweepId}:share`,
    /** Hash agentId → JSON `AgentPresence`, written by agents, read by the scheduler. */
    agents: (sweepId: string) => `${prefix}:sweep:${sweepId}:agents`,
    /** String JSON `ControlMessage` for one run, written by the controller, polled by agents. */
    control: (runId: string) => `${prefix}:run:${runId}:control`,
    /** Pub/sub channel of the controller's `ClaimAnswer` to the claim with `token`. */
    claimAnswer: (runId: string, token: string) => `${prefix}:run:${runId}:claim:${token}`,
    /** Pub/sub channel of the controller's `EndAnswer` to the end report of the attempt with `token`. */
    endAnswer: (runId: string, token: string) => `${prefix}:run:${runId}:end:${token}`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;

/**
 * The BullMQ job id of a run's next attempt: the run id for the first, `<run id>.r<claims so far>`
 * for a retry. A retry gets its own id because the job of the attempt presumed dead may still be
 * locked by a frozen or partitioned agent, and BullMQ cannot remove a locked job, so reusing the
 * id would delay the retry until that lock expires.
 */
export function jobIdOf(run: { id: string; attempt: number }): string {
  return run.attempt === 0 ? run.id : `${run.id}.r${run.attempt}`;
}

/**
 * The 1-based number of the attempt a job starts (`attempt` in logs, as the controller counts
 * claims): the inverse of `jobIdOf`. Undefined for an id `jobIdOf` cannot have made.
 */
export function attemptOfJobId(jobId: string | undefined, runId: string): number | undefined {
  if (jobId === runId) return 1;
  if (jobId === undefined || !jobId.startsWith(`${runId}.r`)) return undefined;
  const rest = jobId.slice(runId.length + 2);
  return /^[1-9]\d{0,5}$/.test(rest) ? Number(rest) + 1 : undefined;
}

/** The BullMQ job payload of one run. The agent renders `command` with the run's params. */
export const RunJobSchema = z.object({
  v: z.literal(WIRE_VERSION),
  sweepId: z.string(),
  runId: z.string(),
  /** 1-based number of the run within its sweep, for display. */
  number: z.number().int().positive(),
  params: z.record(z.string(), z.unknown()),
  /** The sweep's argv template (macros unexpanded: `${envvar:X}` is the agent box's env). */
  command: z.array(z.string()),
  program: z.string().optional(),
  /** Grace period between SIGTERM and SIGKILL when the run is stopped, in ms. */
  killGraceMs: z.number().int().nonnegative(),
  /**
   * `harrow.gpus_per_run`: GPUs the run gets from an agent started with `--gpus` (jobs of older
   * controllers lack it: 1). An agent without GPUs runs it without CUDA_VISIBLE_DEVICES.
   */
  gpusPerRun: z.number().int().positive().default(1),
});
export type RunJob = z.output<typeof RunJobSchema>;

/**
 * How an agent serving several sweeps shares its slots (`sweepShare(sweepId)`, written by the
 * controller): higher `priority` first; within a priority, fairly by slots held; at most
 * `maxSlots` slots (GPUs with --gpus, runs otherwise) for this sweep on one agent.
 */
export const SweepShareSchema = z.object({
  priority: z.number().int(),
  maxSlots: z.number().int().positive().nullable(),
});
export type SweepShare = z.output<typeof SweepShareSchema>;

/** Written by the agent to `agents(sweepId)` on every change and every heartbeat. */
export const AgentPresenceSchema = z.object({
  agentId: z.string(),
  host: z.string(),
  /** Concurrent run slots (one per GPU with --gpus). */
  slots: z.number().int().positive(),
  /** Slots running a run now. */
  busy: z.number().int().nonnegative(),
  /** Whether the agent still takes new runs (false after --count is reached or Ctrl-C). */
  accepting: z.boolean(),
  /** Agent's wall clock, ms since epoch; the scheduler ignores entries older than a few heartbeats. */
  at: z.number(),
});
export type AgentPresence = z.output<typeof AgentPresenceSchema>;

/** Largest step and seq: they are stored as Postgres `integer`. */
export const MAX_INT32 = 2 ** 31 - 1;
/** Longest metric name carried and stored. */
export const MAX_METRIC_NAME = 256;
/** Point times (ms since epoch) that a JavaScript Date, and so Postgres through the driver, can hold. */
const MAX_TIME_MS = 8.64e15;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * Why a metric name cannot be stored, or null when it can: empty, too long, a NUL (Postgres text
 * cannot hold one) or a lone UTF-16 surrogate (it has no UTF-8 form; the driver would silently
 * turn it into U+FFFD and two names could collide).
 */
export function metricNameProblem(name: string): string | null {
  if (name.length === 0) return 'the metric name is empty';
  if (name.length > MAX_METRIC_NAME) return `the metric name is longer than ${MAX_METRIC_NAME} characters`;
  if (name.includes('\u0000')) return 'the metric name contains a NUL character';
  if (LONE_SURROGATE.test(name)) return 'the metric name contains a lone UTF-16 surrogate (not valid Unicode)';
  return null;
}

export const MetricPointSchema = z.object({
  /** Increasing per attempt, from 1; the idempotency key of the point. */
  seq: z.number().int().min(1).max(MAX_INT32),
  step: z.number().int().min(0).max(MAX_INT32),
  name: z.string().superRefine((name, ctx) => {
    const problem = metricNameProblem(name);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /** JSON has no NaN or ±Infinity; a diverged loss travels as the strings 'nan', 'inf', '-inf'. */
  value: z.union([z.number(), z.enum(['nan', 'inf', '-inf'])]),
  /** ms since epoch, agent clock. */
  t: z.number().min(-MAX_TIME_MS).max(MAX_TIME_MS),
});
export type MetricPoint = z.output<typeof MetricPointSchema>;

/** A point the controller could not store, as recorded with the run. */
export interface RefusedPoint {
  /** Its seq when that was valid (then the refusal is recorded once however often it is re-delivered). */
  seq: number | null;
  /** What could be shown of its name (NULs and lone surrogates replaced, cut to MAX_METRIC_NAME). */
  name: string | null;
  /** Its step as sent, in text (it may be out of range). */
  step: string | null;
  /** Why, in words: `step: ...`, `name: ...`. */
  reason: string;
}

/**
 * Checks one point of a metrics report. A report is accepted as long as its envelope is valid;
 * each point is then checked alone, so one bad point (a step above 2^31-1, a NUL in a name) is
 * refused alone and the good points around it are kept.
 */
export function parseMetricPoint(raw: unknown): { ok: true; point: MetricPoint } | { ok: false; refused: RefusedPoint } {
  // The common case, a valid point, without zod: about ten times cheaper, and the ingestor checks
  // every point it stores. Anything else goes through the schema, which says what is wrong.
  const valid = validPoint(raw);
  if (valid !== null) return { ok: true, point: valid };
  const parsed = MetricPointSchema.safeParse(raw);
  if (parsed.success) return { ok: true, point: parsed.data };
  const o = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const seq = typeof o.seq === 'number' && Number.isInteger(o.seq) && o.seq >= 1 && o.seq <= MAX_INT32 ? o.seq : null;
  const name = typeof o.name === 'string' ? o.name.replace(LONE_SURROGATES, '\uFFFD').replaceAll('\u0000', '\uFFFD').slice(0, MAX_METRIC_NAME) : null;
  const step = o.step === undefined ? null : String(typeof o.step === 'string' ? o.step : JSON.stringify(o.step)).slice(0, 40);
  const reason = parsed.error.issues.map((i) => `${i.path.join('.') || 'point'}: ${i.message}`).join('; ');
  return { ok: false, refused: { seq, name, step, reason } };
}

/** `raw` as a point when it is exactly what MetricPointSchema accepts (same bounds), else null. */
function validPoint(raw: unknown): MetricPoint | null {
  if (raw === null || typeof raw !== 'object') return null;
  const { seq, step, name, value, t } = raw as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1 || seq > MAX_INT32) return null;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > MAX_INT32) return null;
  if (typeof name !== 'string' || metricNameProblem(name) !== null) return null;
  if (typeof t !== 'number' || !(t >= -MAX_TIME_MS && t <= MAX_TIME_MS)) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
  } else if (value !== 'nan' && value !== 'inf' && value !== '-inf') return null;
  return { seq, step, name, value: value, t };
}

/**
 * Most points one metrics report may carry: agents send at most 500 (METRICS_MAX_BATCH, the Python
 * SDK likewise); a bigger report would hold the controller's event loop while it is checked.
 */
export const MAX_REPORT_POINTS = 5000;

const ReportBase = z.object({ v: z.literal(WIRE_VERSION), sweepId: z.string(), agentId: z.string() });

export const ClaimReportSchema = ReportBase.extend({
  type: z.literal('claim'),
  runId: z.string(),
  token: z.string(),
  host: z.string(),
  gpu: z.string().nullable(),
  pid: z.number().int().nullable(),
  at: z.number(),
});

export const MetricsReportSchema = ReportBase.extend({
  type: z.literal('metrics'),
  runId: z.string(),
  token: z.string(),
  /**
   * Each one a `MetricPointSchema` point, checked alone by the receiver (`parseMetricPoint`), so a
   * bad point never costs the good ones of its report.
   */
  points: z.array(z.unknown()).max(MAX_REPORT_POINTS, `at most ${MAX_REPORT_POINTS} points per report; send them in several`),
  /**
   * Points sent again because the controller asked for them (an `EndAnswer` of kind `resend`):
   * they may be older than points already stored, so the run's summary is rebuilt from storage.
   */
  resent: z.boolean().optional(),
});

export const HeartbeatReportSchema = ReportBase.extend({
  type: z.literal('heartbeat'),
  /** Attempts this agent is running right now. */
  runs: z.array(z.object({ runId: z.string(), token: z.string() })),
  at: z.number(),
});

/**
 * How a run ended as the agent saw it. `crashed` only when a scheduler the agent submits to
 * (Slurm) ended the job itself (node failure, time limit, an admin's scancel); otherwise the
 * controller declares crashes from lost heartbeats. `preempted`: the agent drained it (a
 * checkpoint, then handed back to the queue; not a failure).
 */
export const RunOutcomeSchema = z.enum(['finished', 'failed', 'crashed', 'stopped', 'canceled', 'preempted']);
export type RunOutcome = z.output<typeof RunOutcomeSchema>;

export const EndReportSchema = ReportBase.extend({
  type: z.literal('end'),
  runId: z.string(),
  token: z.string(),
  outcome: RunOutcomeSchema,
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  /** Why, in words: `exit code 1`, `stopped by controller: ...`, `command not found: ...`. */
  reason: z.string(),
  /** The last lines of stdout+stderr (bounded, see OUTPUT_TAIL_BYTES). */
  tail: z.string(),
  /**
   * Highest `seq` the agent numbered for this attempt. The controller checks that it stored (or
   * refused) every point up to it, asks the agent for the missing ones (`EndAnswer` `resend`), and
   * records a gap the agent could not fill on the run as data loss.
   */
  lastSeq: z.number().int().nonnegative(),
  at: z.number(),
});

export const AgentReportSchema = z.discriminatedUnion('type', [
  ClaimReportSchema,
  MetricsReportSchema,
  HeartbeatReportSchema,
  EndReportSchema,
]);
export type AgentReport = z.output<typeof AgentReportSchema>;
export type ClaimReport = z.output<typeof ClaimReportSchema>;
export type MetricsReport = z.output<typeof MetricsReportSchema>;
export type HeartbeatReport = z.output<typeof HeartbeatReportSchema>;
export type EndReport = z.output<typeof EndReportSchema>;

/**
 * The controller's answer to a claim, published on `claimAnswer(runId, token)` after the claim's
 * batch committed. `accepted` carries the attempt number Postgres gave it (HARROW_ATTEMPT).
 */
export const ClaimAnswerSchema = z.discriminatedUnion('verdict', [
  z.object({ verdict: z.literal('accepted'), attempt: z.number().int().positive() }),
  z.object({ verdict: z.literal('refused'), reason: z.string() }),
]);
export type ClaimAnswer = z.output<typeof ClaimAnswerSchema>;

/** Most missing-seq ranges one `resend` answer names (the agent asks again for the rest). */
export const MAX_RESEND_RANGES = 1000;

/**
 * The controller's answer to an end report, published on `endAnswer(runId, token)`:
 * - `resend`: points of the attempt up to its `lastSeq` are neither stored nor refused; send the
 *   points with these seqs (inclusive ranges) again, then the end report again.
 * - `ended`: the end report was applied (or was stale, or a repeat); `missing` points are recorded
 *   as lost. The agent may forget the attempt's points.
 */
export const EndAnswerSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('resend'),
    ranges: z.array(z.tuple([z.number().int().min(1).max(MAX_INT32), z.number().int().min(1).max(MAX_INT32)])).max(MAX_RESEND_RANGES),
  }),
  z.object({ kind: z.literal('ended'), missing: z.number().int().nonnegative() }),
]);
export type EndAnswer = z.output<typeof EndAnswerSchema>;

/** The stream entry field holding a JSON report. */
export const REPORT_FIELD = 'r';

/**
 * Control of one run, written by the controller at `control(runId)`:
 * - `stop`: early-terminated or stopped by a user → SIGTERM the group, SIGKILL after the grace; ends `stopped`.
 * - `cancel`: the sweep was canceled → same signals; ends `canceled`.
 * - `abort`: the attempt with `token` no longer owns the run (declared crashed) → kill, send nothing more.
 */
export const ControlMessageSchema = z.object({
  action: z.enum(['stop', 'cancel', 'abort']),
  /** When set, applies only to the attempt with this token. */
  token: z.string().optional(),
  reason: z.string(),
  at: z.number(),
});
export type ControlMessage = z.output<typeof ControlMessageSchema>;

export const SweepStateSchema = z.enum(['running', 'paused', 'finished', 'canceled']);
export type SweepState = z.output<typeof SweepStateSchema>;

/** Bytes of combined output kept with a run. */
export const OUTPUT_TAIL_BYTES = 16 * 1024;
