/**
 * The agent's environment, parsed once at start (`loadAgentConfig(process.env)`) and passed down.
 * The agent needs only Redis; everything else has a default. Variables the controller also reads
 * (`REDIS_URL`, `HARROW_PREFIX`, `HARROW_LOG_LEVEL`, `HARROW_LOG_FORMAT`) are validated by the
 * same schemas (`protocol/config-schema.ts`), so an agent never accepts what the controller refuses.
 */
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_PREFIX,
  DEFAULT_REDIS_URL,
  LogFormatSchema,
  LogLevelSchema,
  PrefixSchema,
  RedisUrlSchema,
  loadEnv,
  millisSchema,
  redactUrl,
  redisUrlSecrets,
  type LogFormat,
  type LogLevel,
} from '../protocol/config-schema.js';
import { SECOND } from '../protocol/time.js';
import { defaultAgentsDir } from './agent-registry.js';

export const AgentConfigSchema = z.object({
  REDIS_URL: RedisUrlSchema.default(DEFAULT_REDIS_URL).describe('Redis the controller uses; the agent needs nothing else.'),
  HARROW_PREFIX: PrefixSchema.default(DEFAULT_PREFIX).describe('Key prefix of this Harrow installation in Redis; must match the controller.'),
  HARROW_HEARTBEAT_MS: millisSchema(100, 60 * SECOND)
    .default(5 * SECOND)
    .describe('How often the agent reports that its runs are alive; the controller marks a run crashed after several missed heartbeats.'),
  HARROW_CONTROL_POLL_MS: millisSchema(10, 1 * SECOND)
    .default(1 * SECOND)
    .describe('How often the agent checks stop/cancel requests and the sweep state (at most 1 s).'),
  HARROW_CLAIM_WAIT_MS: millisSchema(1 * SECOND, 24 * 60 * 60 * SECOND)
    .default(5 * 60 * SECOND)
    .describe(
      'How long a claimed run waits for the controller to accept the claim (it may be restarting, or its database away) before the agent gives the job back. Nothing starts before the acceptance.',
    ),
  HARROW_LOG_LEVEL: LogLevelSchema.default('info').describe('pino log level of the agent (LOG_LEVEL is the deprecated name).'),
  HARROW_LOG_FORMAT: LogFormatSchema.default('auto').describe('auto: one readable line per entry on a terminal, JSON otherwise; or json, pretty.'),
  HARROW_DATA_DIR: z.string().min(1).default('.harrow').describe("The agent's local state (relative to its working directory): checkpoints by default."),
  HARROW_CHECKPOINT_ROOT: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Where each run gets its checkpoint directory (<root>/<sweep>/<run>, the same for all its attempts); put it on storage every agent box mounts so a run resumes on another box. Default: HARROW_DATA_DIR/checkpoints.',
    ),
  HARROW_CHECKPOINT_GRACE_MS: millisSchema(0, 60 * 60 * SECOND)
    .default(30 * SECOND)
    .describe('When the agent drains (harrow agent --drain, SIGUSR2, or SIGTERM with --preemptible): how long a run has after its SIGUSR1 ("checkpoint now") before it is stopped.'),
  HARROW_AGENTS_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Where each running agent registers itself (<pid>.json) so that `harrow agent --drain` on the same box finds it; a directory of this user that no one else can write. Default: /tmp/harrow-agents-<uid> (not under TMPDIR, which a service and a login shell may not share).',
    ),
});

export interface AgentConfig {
  redisUrl: string;
  prefix: string;
  heartbeatMs: number;
  controlPollMs: number;
  claimWaitMs: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Root of the runs' checkpoint directories (absolute); default `<cwd>/.harrow/checkpoints`. */
  checkpointRoot?: string;
  /** Time between "checkpoint now" (SIGUSR1) and the stop when the agent drains; default 30 s. */
  checkpointGraceMs?: number;
  /** Where running agents register themselves for `harrow agent --drain` (agent-registry.ts). */
  agentsDir?: string;
}

/**
 * Parses the agent's environment; a bad value is an INVALID_CONFIG error naming the variable.
 * Deprecation notes (an old variable name) go to `warn`, by default standard error, once.
 */
export function loadAgentConfig(
  env: Record<string, string | undefined>,
  warn: (message: string) => void = (m) => process.stderr.write(`harrow agent: warning: ${m}\n`),
): AgentConfig {
  const { config: c, warnings } = loadEnv(AgentConfigSchema, env, 'agent environment');
  for (const w of warnings) warn(w);
  return {
    redisUrl: c.REDIS_URL,
    prefix: c.HARROW_PREFIX,
    heartbeatMs: c.HARROW_HEARTBEAT_MS,
    controlPollMs: c.HARROW_CONTROL_POLL_MS,
    claimWaitMs: c.HARROW_CLAIM_WAIT_MS,
    logLevel: c.HARROW_LOG_LEVEL,
    logFormat: c.HARROW_LOG_FORMAT,
    checkpointRoot: resolve(c.HARROW_CHECKPOINT_ROOT ?? join(c.HARROW_DATA_DIR, 'checkpoints')),
    checkpointGraceMs: c.HARROW_CHECKPOINT_GRACE_MS,
    agentsDir: resolve(c.HARROW_AGENTS_DIR ?? defaultAgentsDir(process.getuid?.())),
  };
}

/** The URL without its password, for log lines and error messages. */
export const redactRedisUrl = redactUrl;

/** The Redis password, which the agent's logger scrubs from every line. */
export function agentSecrets(config: AgentConfig): string[] {
  return redisUrlSecrets(config.redisUrl);
}
