/**
 * The agent protocol over HTTP: what `harrow agent --server URL` and the Python function agent
 * (`harrow.agent`) exchange with the controller when they cannot reach Redis. Every call maps onto
 * the Redis path (see wire.ts): the controller takes the run's BullMQ job on the agent's behalf,
 * writes the agent's claim, metrics, heartbeat and end reports into the same reports stream, and
 * answers the claim only after it committed it, so fencing by token and exactly-once by
 * (run, attempt, seq) are literally the same code for both kinds of agents.
 *
 *   POST {AGENT_API}/sweeps/:id/claim    long-poll: a run claimed for `token`, or nothing yet
 *   POST {AGENT_API}/sweeps/:id/reports  one metrics or end report (re-sending is harmless); an end
 *                                        report is answered with the controller's EndAnswer
 *   POST {AGENT_API}/sweeps/:id/poll     presence + heartbeat in; sweep state and controls out
 *   POST {AGENT_API}/sweeps/:id/leave    the agent exits: its presence goes
 */
import { z } from 'zod';
import { AgentPresenceSchema, ClaimAnswerSchema, ControlMessageSchema, EndAnswerSchema, RunJobSchema, SweepStateSchema } from './wire.js';

export const AGENT_API = '/api/agent/v1';

/** Longest a claim request is held open when no run is waiting (proxies cut idle requests at 60 s). */
export const MAX_CLAIM_WAIT_MS = 25_000;

export const ClaimRequestSchema = z.object({
  agentId: z.string().min(1).max(200),
  host: z.string().max(255),
  gpu: z.string().max(100).nullable(),
  /**
   * An agent with GPUs (`--gpus`): its free GPUs, held back for this claim, in its order. Only a
   * run whose `gpus_per_run` they can hold is taken, and it gets the first `gpus_per_run` of them
   * (which the claim then records instead of `gpu`). Absent: any run, no GPU check.
   */
  gpus: z
    .array(z.string().min(1).max(100))
    .min(1)
    .max(256)
    .refine((g) => new Set(g).size === g.length, 'lists a GPU twice')
    .optional(),
  /** The attempt's fencing token, made by the agent (as on the Redis path). */
  token: z.string().min(8).max(100),
  /** How long to wait for a run when none is waiting, at most MAX_CLAIM_WAIT_MS. */
  waitMs: z.number().int().min(0).max(MAX_CLAIM_WAIT_MS).default(MAX_CLAIM_WAIT_MS),
});
export type ClaimRequest = z.input<typeof ClaimRequestSchema>;

export const ClaimResponseSchema = z.discriminatedUnion('kind', [
  /** A run was taken for this token and the controller answered the claim (after its commit). */
  z.object({
    kind: z.literal('run'),
    job: RunJobSchema,
    answer: ClaimAnswerSchema,
    /** With `gpus` in the request: the GPUs of this run (the first `gpus_per_run` offered). */
    gpus: z.array(z.string()).optional(),
  }),
  /**
   * Nothing taken: none waiting within waitMs (`state` says whether to ask again), or, with
   * `gpusPerRun`, the next run needs that many GPUs, more than were offered: it stays queued.
   */
  z.object({ kind: z.literal('none'), state: SweepStateSchema.nullable(), gpusPerRun: z.number().int().positive().optional() }),
]);
export type ClaimResponse = z.output<typeof ClaimResponseSchema>;

export const PollRequestSchema = z.object({
  presence: AgentPresenceSchema,
  /** Attempts running here; sent as a heartbeat report when `heartbeat` is true. */
  runs: z.array(z.object({ runId: z.string(), token: z.string() })).max(1000),
  heartbeat: z.boolean(),
});
export type PollRequest = z.output<typeof PollRequestSchema>;

export const PollResponseSchema = z.object({
  state: SweepStateSchema.nullable(),
  /** The sweep has no program: only a function agent (harrow.agent in Python) can run it. */
  functionAgentOnly: z.boolean(),
  /** The control message of each run asked about, in the order asked, null when there is none. */
  controls: z.array(ControlMessageSchema.nullable()),
});
export type PollResponse = z.output<typeof PollResponseSchema>;

export const LeaveRequestSchema = z.object({ agentId: z.string().min(1).max(200) });

export const AckSchema = z.object({ ok: z.literal(true) });

/** How long the answer to an end report is waited for before the request is answered without it. */
export const END_ANSWER_HTTP_WAIT_MS = 2_500;

/**
 * The answer to a report: for an end report, the controller's EndAnswer when it came within
 * END_ANSWER_HTTP_WAIT_MS (resend these points, or ended), else null (send the end report again).
 */
export const ReportAckSchema = AckSchema.extend({ answer: EndAnswerSchema.nullable().optional() });
export type ReportAck = z.output<typeof ReportAckSchema>;
