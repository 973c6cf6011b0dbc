/**
 * The HTTP API contract under `/api`, shared by the controller (validation, OpenAPI docs) and the
 * CLI (typed client). Requests are validated with these schemas; responses follow them.
 */
import { z } from 'zod';
import { RUN_STATES, SWEEP_STATES } from './run-states.js';

export const SWEEP_HEALTH = ['ok', 'degraded', 'failing'] as const;

export const RunStateSchema = z.enum(RUN_STATES);
export const SweepStateNameSchema = z.enum(SWEEP_STATES);

/** Sweep ids are 8 characters of [a-z0-9]; run ids add `-N`. Anything else cannot name one. */
export const IdParamsSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_-]+$/, 'an id is letters, digits, - and _ (such as 2pn911dr or 2pn911dr-3); `harrow status` lists the sweeps'),
});

/** Largest int4: attempts, offsets and counts are stored and compared as Postgres integers. */
const MAX_INT4 = 2 ** 31 - 1;

/**
 * Free text from a request: bounded, and without NUL or lone UTF-16 surrogates, which Postgres
 * cannot store (the query would fail with a 500 instead of telling the caller).
 */
export function storableText(max: number) {
  return z
    .string()
    .max(max)
    // eslint-disable-next-line no-control-regex -- NUL is exactly what this refuses
    .refine((s) => !/[\u0000\p{Cs}]/u.test(s), 'must not contain NUL characters or lone UTF-16 surrogates');
}

/** POST /api/sweeps with a JSON body; a YAML body (text/yaml, application/yaml) is the config itself. */
export const CreateSweepBodySchema = z.object({
  /** The sweep file: YAML/JSON text, or the already-parsed object. */
  config: z.union([z.string(), z.record(z.string(), z.unknown())]),
  /** Overrides the file's `name`. */
  name: storableText(200).min(1).optional(),
  /** The file `harrow.warm_start.file` names, read by the client (the server does not read client paths). */
  warmStartFile: z.object({ name: storableText(300), content: z.string().min(1).max(32 * 1024 * 1024) }).optional(),
});

export const ListSweepsQuerySchema = z.object({
  state: z
    .string()
    .max(200)
    .optional()
    .transform((s, ctx) => splitStates(s, SWEEP_STATES, ctx)),
});

export const RUN_SORTS = ['number', '-number', 'metric', '-metric', 'started', '-started'] as const;

export const ListRunsQuerySchema = z.object({
  state: z
    .string()
    .max(200)
    .optional()
    .transform((s, ctx) => splitStates(s, RUN_STATES, ctx)),
  sort: z.enum(RUN_SORTS).default('number'),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).max(MAX_INT4).default(0),
  /** Where the page starts: the `nextCursor` of the page before (sorts by number only; `protocol/run-cursor.ts`). */
  cursor: z.string().min(1).max(200).optional(),
});

export const MetricsQuerySchema = z.object({
  /** Comma-separated metric names (at most 100); all when omitted. */
  name: storableText(10_000)
    .refine((s) => s.split(',').length <= 100, 'at most 100 metric names')
    .optional(),
  /** Attempt number; the current attempt when omitted. */
  attempt: z.coerce.number().int().min(1).max(MAX_INT4).optional(),
});

export const StopRunBodySchema = z.object({ reason: storableText(500).optional() }).default({});

function splitStates<T extends string>(value: string | undefined, allowed: readonly T[], ctx: z.RefinementCtx): T[] | undefined {
  if (value === undefined || value === '') return undefined;
  const parts = value.split(',').map((s) => s.trim());
  const bad = parts.filter((p) => !(allowed as readonly string[]).includes(p));
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `unknown state ${bad.join(', ')}; use one or more of ${allowed.join(', ')} separated by commas` });
    return z.NEVER;
  }
  return parts as T[];
}

export const MetricSummarySchema = z.object({
  last: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  count: z.number(),
  step: z.number(),
});

/** Something about a run's data the user must know: points refused alone, or points lost on the way. */
export const RunWarningSchema = z
  .object({
    kind: z.enum(['points_refused', 'data_loss']),
    attempt: z.number(),
    /** Points refused, or points missing. */
    count: z.number(),
    message: z.string(),
  })
  .passthrough();
export type RunWarning = z.output<typeof RunWarningSchema>;

export const RunSummarySchema = z.object({
  id: z.string(),
  sweepId: z.string(),
  number: z.number(),
  state: RunStateSchema,
  attempt: z.number(),
  params: z.record(z.string(), z.unknown()),
  /** The run's best value of the sweep metric (what it is ranked by). */
  value: z.number().nullable(),
  valueStep: z.number().nullable(),
  latest: z.number().nullable(),
  summary: z.record(z.string(), MetricSummarySchema),
  reason: z.string().nullable(),
  stopInfo: z.record(z.string(), z.unknown()).nullable(),
  /** Refused metric points and data loss, per attempt; empty when every point was kept. */
  warnings: z.array(RunWarningSchema),
  exitCode: z.number().nullable(),
  agentId: z.string().nullable(),
  host: z.string().nullable(),
  gpu: z.string().nullable(),
  /**
   * A failed or crashed run's likeliest error line from its output tail (`lastErrorLine` in
   * protocol/output-errors.ts); null otherwise; absent from older servers.
   */
  errorLine: z.string().nullable().optional(),
  /** The failed or crashed run this one reruns (`harrow rerun`); absent from older servers. */
  rerunOf: z.string().nullable().optional(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type RunSummary = z.output<typeof RunSummarySchema>;

export const RunDetailSchema = RunSummarySchema.extend({
  outputTail: z.string().nullable(),
  /** Indices of the error lines in `outputTail.split('\n')` (protocol/output-errors.ts). */
  errorLines: z.array(z.number()).optional(),
  /**
   * The argv the agent runs: the sweep's `command` rendered with this run's params by the agent's
   * renderer; `$NAME` stands for what only the agent's box knows (`${envvar:NAME}`, and
   * `$HARROW_PARAMS_FILE` for `${args_json_file}`). Null when it cannot be rendered on the server.
   * Both are absent from older servers.
   */
  command: z.array(z.string()).nullable().optional(),
  proposal: z.record(z.string(), z.unknown()).nullable(),
  heartbeatAt: z.string().nullable(),
  events: z.array(
    z.object({ attempt: z.number(), from: z.string().nullable(), to: z.string(), reason: z.string(), details: z.unknown(), at: z.string() }),
  ),
  /** The current attempt's metric history, per metric name. */
  metrics: z.record(z.string(), z.array(z.object({ step: z.number(), value: z.number().nullable(), t: z.string() }))),
});
export type RunDetail = z.output<typeof RunDetailSchema>;

export const BestRunSchema = z.object({
  runId: z.string(),
  number: z.number(),
  params: z.record(z.string(), z.unknown()),
  value: z.number(),
  step: z.number().nullable(),
});
export type BestRun = z.output<typeof BestRunSchema>;

export const RunCountsSchema = z.object({
  queued: z.number(),
  running: z.number(),
  finished: z.number(),
  failed: z.number(),
  crashed: z.number(),
  stopped: z.number(),
  canceled: z.number(),
  /** Handed back by a drained or preempted agent and not resumed (its sweep ended first). */
  preempted: z.number().default(0),
  total: z.number(),
});

export const SweepSummarySchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  state: SweepStateNameSchema,
  stateReason: z.string().nullable(),
  method: z.enum(['grid', 'random', 'bayes']),
  metric: z.object({ name: z.string(), goal: z.enum(['minimize', 'maximize']) }).nullable(),
  runCap: z.number().nullable(),
  expectedRuns: z.number().nullable(),
  counts: RunCountsSchema,
  best: BestRunSchema.nullable(),
  /**
   * How its runs are doing (`sweepHealth` in protocol/run-states.ts): `failing` when runs ended
   * and all of them failed or crashed, `degraded` when some did, else `ok`.
   */
  health: z.enum(SWEEP_HEALTH),
  createdAt: z.string(),
  /** Who created it (a token name); null for sweeps older than the audit trail. */
  createdBy: z.string().nullable().optional(),
  endedAt: z.string().nullable(),
});
export type SweepSummary = z.output<typeof SweepSummarySchema>;

export const SweepDetailSchema = SweepSummarySchema.extend({
  spec: z.record(z.string(), z.unknown()),
  config: z.string(),
  seed: z.number(),
  /** The command an agent box runs to join this sweep. */
  agentCommand: z.string(),
  warnings: z.array(z.object({ path: z.string(), message: z.string() })),
  /**
   * `harrow.budget` being spent: run-hours (or GPU-hours: run time × GPUs held) of every attempt,
   * running ones counted to now. Absent when the sweep has no budget.
   */
  budget: z.object({ unit: z.enum(['run_hours', 'gpu_hours']), limit: z.number(), spent: z.number() }).optional(),
  /** `harrow.run_timeout` in milliseconds, when set. */
  runTimeoutMs: z.number().optional(),
  /** The spec's version: 1 until the first `harrow edit`. */
  specVersion: z.number().optional(),
  /**
   * Results imported into the sweep (`harrow.warm_start`, `harrow warm-start`): seen by its
   * strategy, never counted as its runs (not in run_cap, the runs list or the best). Absent when none.
   */
  imported: z.object({ count: z.number(), sources: z.array(z.object({ source: z.string(), count: z.number() })) }).optional(),
  /** On creation with `harrow.warm_start`: what the import took and left out. */
  warmStart: z.lazy(() => ImportOutcomeSchema).optional(),
});
export type SweepDetail = z.output<typeof SweepDetailSchema>;

/** What an import of prior results did: rows read, imported, and the ones left out by reason. */
export const ImportOutcomeSchema = z.object({
  source: z.string(),
  /** `sweep`, or the file's recognized format: wandb-csv, wandb-json, mlflow-csv, mlflow-json. */
  format: z.string(),
  rows: z.number(),
  imported: z.number(),
  skipped: z.number(),
  /** Rows left out, counted by reason (outside the space, still running, no metric value, ...). */
  reasons: z.array(z.object({ reason: z.string(), count: z.number() })),
  /** The first few rows left out, with their row (`row 7`, `[3]`, a run id). */
  examples: z.array(z.object({ row: z.string(), reason: z.string() })),
});
export type ImportOutcome = z.output<typeof ImportOutcomeSchema>;

/**
 * POST /api/sweeps/:id/warm-start: `{content, name?, priorRuns?}` (a W&B or MLflow export, CSV or
 * JSON, as text) or `{from: SWEEP_ID, priorRuns?}` (another sweep's ended runs).
 */
export const WarmStartBodySchema = z
  .object({
    content: z.string().min(1).max(32 * 1024 * 1024).optional(),
    name: storableText(300).optional(),
    from: z.string().min(1).max(100).optional(),
    priorRuns: z.array(z.string().min(1).max(200)).min(1).max(10_000).optional(),
  })
  .refine((b) => (b.content === undefined) !== (b.from === undefined), { message: 'give content (the text of a CSV or JSON export) or from (a sweep id), not both' });

export const WarmStartResponseSchema = z.object({ sweep: SweepDetailSchema, import: ImportOutcomeSchema });
export type WarmStartResponse = z.output<typeof WarmStartResponseSchema>;

/** One version of a sweep's spec (`harrow edit`): when, by whom, what changed. */
export const SpecVersionSchema = z.object({
  version: z.number(),
  createdAt: z.string(),
  author: z.string().nullable(),
  changes: z.array(z.string()),
  config: z.string(),
});
export type SpecVersion = z.output<typeof SpecVersionSchema>;

/** How the sweep's runs and imported results fit its current space. */
export const LineageSchema = z.object({
  runs: z.number(),
  /** Ended runs outside the current space: visible, not observed by the strategy. */
  runsOutside: z.number(),
  imported: z.number(),
  importedOutside: z.number(),
  /** Why, counted by reason. */
  reasons: z.array(z.object({ reason: z.string(), count: z.number() })),
});

export const SpecVersionsResponseSchema = z.object({ sweepId: z.string(), current: z.number(), versions: z.array(SpecVersionSchema), lineage: LineageSchema });
export type SpecVersionsResponse = z.output<typeof SpecVersionsResponseSchema>;

/** PATCH /api/sweeps/:id/spec: the new sweep file (YAML or JSON text, or the parsed object). */
export const EditSpecBodySchema = z.object({ config: z.union([z.string().min(1).max(1024 * 1024), z.record(z.string(), z.unknown())]) });

export const EditSpecResponseSchema = z.object({ sweep: SweepDetailSchema, version: SpecVersionSchema, lineage: LineageSchema });
export type EditSpecResponse = z.output<typeof EditSpecResponseSchema>;

export const BestResponseSchema = z.object({
  best: BestRunSchema.nullable(),
  /**
   * Runs counted for the best: finished and stopped (early-terminated) runs with a value, in the
   * order they ended. Failed, crashed and canceled runs are not counted.
   */
  counted: z.number(),
  /** The points where the best-so-far improved: `index` is the counted run's position. */
  curve: z.array(z.object({ index: z.number(), runId: z.string(), number: z.number(), value: z.number(), at: z.string() })),
});
export type BestResponse = z.output<typeof BestResponseSchema>;

export const ListRunsResponseSchema = z.object({
  runs: z.array(RunSummarySchema),
  total: z.number(),
  /**
   * Asks for the next page (`?cursor=`) when the sort is by number and this page was full;
   * otherwise null (and absent from servers older than the cursor).
   */
  nextCursor: z.string().nullable().default(null),
});
export type ListRunsResponse = z.output<typeof ListRunsResponseSchema>;

export const MetricsResponseSchema = z.object({
  runId: z.string(),
  attempt: z.number(),
  points: z.array(z.object({ step: z.number(), name: z.string(), value: z.number().nullable(), t: z.string() })),
});

/** GET /api/sweeps/:id/importance: which parameters matter (see strategies/analysis/parameter-importance.ts). */
export const ImportanceResponseSchema = z.object({
  /** Most important first; dotted names for nested parameters. */
  parameters: z.array(
    z.object({
      name: z.string(),
      /** About the share of the metric's rank variance the parameter explains (≈ 0: does not matter). */
      importance: z.number(),
      /** 90% bootstrap interval of `importance`. */
      low: z.number(),
      high: z.number(),
      /** Spearman correlation of the parameter's value with the metric; null for non-numeric values. */
      correlation: z.number().nullable(),
    }),
  ),
  metric: z.string().nullable(),
  /** Finished and stopped runs with a value that the answer is based on. */
  runs: z.number(),
  method: z.string(),
  /** Why `parameters` is empty (too few runs, no metric, nothing varies). */
  note: z.string().optional(),
});
export type ImportanceResponse = z.output<typeof ImportanceResponseSchema>;

/** A finished run as the recommendation names it. */
const RecommendedRunSchema = z.object({
  runId: z.string(),
  number: z.number(),
  params: z.record(z.string(), z.unknown()),
  /** Its observed value of the sweep metric. */
  value: z.number(),
});

/**
 * GET /api/sweeps/:id/recommendation: the configuration to use after a noisy sweep (the finished
 * run with the best GP posterior mean) beside the best observed one, whose value is biased by the
 * luckiest noise draw.
 */
export const RecommendationResponseSchema = z.object({
  metric: z.string().nullable(),
  /** Finished runs with a value the answer is based on (stopped runs' partial values are left out). */
  runs: z.number(),
  bestObserved: RecommendedRunSchema.nullable(),
  /** `predicted`: the model's mean at it, in metric units (null when it is the best observed run by fallback). */
  recommended: RecommendedRunSchema.extend({ predicted: z.number().nullable() }).nullable(),
  source: z.enum(['posterior-mean', 'best-observed']),
  /** The learned noise variance on the model's standardized scale (null without a model). */
  noise: z.number().nullable(),
  method: z.string(),
  warnings: z.array(z.string()),
  note: z.string().optional(),
});
export type RecommendationResponse = z.output<typeof RecommendationResponseSchema>;

/** GET /api/sweeps/:id/curves: one metric's curve for many runs in one request. */
export const CurvesQuerySchema = z.object({
  name: z.string().min(1).max(256),
  /** Comma-separated run ids (at most 200). */
  runs: z
    .string()
    .min(1)
    .max(200 * 64)
    .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter(Boolean))])
    .refine((ids) => ids.length >= 1 && ids.length <= 200, 'give 1 to 200 run ids separated by commas'),
  /** Points per curve at most; longer curves are thinned evenly. */
  points: z.coerce.number().int().min(2).max(10_000).default(1000),
});

export const CurvesResponseSchema = z.object({
  name: z.string(),
  curves: z.array(
    z.object({
      runId: z.string(),
      number: z.number(),
      attempt: z.number(),
      /** [step, value (null when not finite), time in ms since epoch]. */
      points: z.array(z.tuple([z.number(), z.number().nullable(), z.number()])),
    }),
  ),
});
export type CurvesResponse = z.output<typeof CurvesResponseSchema>;

export const ErrorResponseSchema = z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() });

/**
 * Server-sent events on GET /api/sweeps/:id/events:
 * - `sweep`: SweepSummary, on connect and on every sweep change;
 * - `run`: RunSummary, on every run state change;
 * - `best`: BestRun, when the best-so-far improves.
 */
export const SSE_EVENTS = ['sweep', 'run', 'best'] as const;
export type SseEventName = (typeof SSE_EVENTS)[number];

/** POST /api/sweeps/:id/extend: a new run_cap, higher than the current one and than the runs made. */
export const ExtendSweepBodySchema = z.object({ runCap: z.number().int().min(1) });

/** POST /api/sweeps/:id/share: priority and slot cap on agents serving several sweeps. */
export const SweepShareBodySchema = z
  .object({
    priority: z.number().int().min(-1000).max(1000).optional(),
    /** null removes the cap. */
    maxSlots: z.number().int().min(1).max(100_000).nullable().optional(),
  })
  .strict()
  .refine((b) => b.priority !== undefined || b.maxSlots !== undefined, { message: 'give priority, maxSlots or both, e.g. {"priority": 2, "maxSlots": 3}' });
export const SweepShareResponseSchema = z.object({ sweepId: z.string(), priority: z.number(), maxSlots: z.number().nullable() });
export type SweepShareResponse = z.output<typeof SweepShareResponseSchema>;

/** POST /api/sweeps/:id/rerun: which ended runs to rerun as new runs (failed and crashed by default). */
export const RerunSweepBodySchema = z.object({
  states: z.array(z.enum(['failed', 'crashed', 'stopped', 'canceled'])).min(1).default(['failed', 'crashed']),
});

/** POST /api/sweeps/:id/enqueue: one configuration or a list, tried ahead of the strategy. */
export const EnqueueBodySchema = z.object({
  params: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown())).min(1).max(1000)]),
});

/** POST /api/runs/:id/clone: the run's parameters with these (dotted paths for nested ones) replaced. */
export const CloneRunBodySchema = z.object({ params: z.record(z.string(), z.unknown()).default({}) });

/** What a steering action did: the sweep after it, and the runs it created. */
export const SteerResponseSchema = z.object({ sweep: SweepDetailSchema, runs: z.array(RunSummarySchema) });
export type SteerResponse = z.output<typeof SteerResponseSchema>;
