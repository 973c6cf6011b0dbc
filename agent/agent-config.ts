/**
 * The agent's environment, parsed once at start (`loadAgentConfig(process.env)`) and passed down.
 * The agent needs only Redis; everything else has a default.
 */
import { z } from 'zod';
import { HarrowError } from '../protocol/errors.js';
import { SECOND } from '../protocol/time.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A positive integer of milliseconds given as an environment string. */
function millis(defaultMs: number, min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { message: 'must be a whole number of milliseconds' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(defaultMs);
}

export const AgentConfigSchema = z.object({
  REDIS_URL: z
    .string()
    .trim()
    .default('redis://127.0.0.1:6379')
    .refine((u) => /^rediss?:\/\/[^\s]+$/.test(u) && URL.canParse(u), {
      message: 'must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379',
    })
    .describe('Redis the controller uses; the agent needs nothing else.'),
  HARROW_PREFIX: z
    .string()
    .trim()
    .default('harrow')
    .refine((p) => /^[A-Za-z0-9_.\-:]+$/.test(p), {
      message: 'use letters, digits and _ . - : only (no spaces)',
    })
    .describe('Key prefix of this Harrow installation in Redis; must match the controller.'),
  HARROW_HEARTBEAT_MS: millis(5 * SECOND, 100, 60 * SECOND).describe(
    'How often the agent reports that its runs are alive; the controller marks a run crashed after several missed heartbeats.',
  ),
  HARROW_CONTROL_POLL_MS: millis(1 * SECOND, 10, 1 * SECOND).describe(
    'How often the agent checks stop/cancel requests and the sweep state (at most 1 s).',
  ),
  HARROW_CLAIM_WAIT_MS: millis(5 * 60 * SECOND, 1 * SECOND, 24 * 60 * 60 * SECOND).describe(
    'How long a claimed run waits for the controller to accept the claim (it may be restarting, or its database away) before the agent gives the job back. Nothing starts before the acceptance.',
  ),
  HARROW_LOG_LEVEL: z.enum(LOG_LEVELS).default('info').describe('pino log level of the agent.'),
});

export interface AgentConfig {
  redisUrl: string;
  prefix: string;
  heartbeatMs: number;
  controlPollMs: number;
  claimWaitMs: number;
  logLevel: (typeof LOG_LEVELS)[number];
}

/** Parses the agent's environment; a bad value is an INVALID_CONFIG error naming the variable. */
export function loadAgentConfig(env: Record<string, string | undefined>): AgentConfig {
  // Empty strings mean "unset" (`REDIS_URL= harrow agent ...`), as in most shells' habits.
  const present = Object.fromEntries(
    Object.keys(AgentConfigSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = AgentConfigSchema.safeParse(present);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: i.path.map(String).join('.'),
      message: i.message,
    }));
    const text = issues
      .map((i) => `${i.path}=${JSON.stringify(present[i.path] ?? '')}: ${i.message}`)
      .join('; ');
    throw new HarrowError('INVALID_CONFIG', `invalid agent environment: ${text}`, { details: { issues } });
  }
  const c = parsed.data;
  return {
    redisUrl: c.REDIS_URL,
    prefix: c.HARROW_PREFIX,
    heartbeatMs: c.HARROW_HEARTBEAT_MS,
    controlPollMs: c.HARROW_CONTROL_POLL_MS,
    claimWaitMs: c.HARROW_CLAIM_WAIT_MS,
    logLevel: c.HARROW_LOG_LEVEL,
  };
}

/** The URL without its password, for log lines and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable URL)';
  }
}
