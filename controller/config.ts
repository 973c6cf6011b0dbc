/**
 * The controller's configuration, parsed once from the environment (and CLI flags layered on top
 * by `harrow server`). Nothing else in the controller reads `process.env`. Variables that the
 * agent or the CLI also read are built from the same pieces (`protocol/config-schema.ts`).
 */
import { z } from 'zod';
import { HarrowError } from '../protocol/errors.js';
import {
  DEFAULT_PREFIX,
  DEFAULT_REDIS_URL,
  DatabaseUrlSchema,
  LogFormatSchema,
  LogLevelSchema,
  PrefixSchema,
  RateLimitSchema,
  RedisUrlSchema,
  RetentionDaysSchema,
  intSchema,
  loadEnv,
  millisSchema,
  redactUrl,
  redisUrlSecrets,
} from '../protocol/config-schema.js';
import { HOUR, SECOND } from '../protocol/time.js';
import { AllowedHostsSchema } from './security/allowed-hosts.js';

/** `proxy` (identities from the team's single-sign-on proxy) is planned, and refused until it exists. */
export const AUTH_MODES = ['off', 'token'] as const;

const ms = (fallback: number, description: string) => millisSchema(1, 24 * HOUR).default(fallback).describe(description);

export const ControllerConfigSchema = z.object({
  DATABASE_URL: DatabaseUrlSchema.optional().describe('Postgres URL; when unset, an embedded PGlite database in HARROW_DATA_DIR'),
  HARROW_DATA_DIR: z.string().default('.harrow').describe('Local state: the embedded database (when DATABASE_URL is unset)'),
  REDIS_URL: RedisUrlSchema.default(DEFAULT_REDIS_URL).describe('Redis that carries runs to agents'),
  HARROW_PREFIX: PrefixSchema.default(DEFAULT_PREFIX).describe('Prefix of every Redis key (one Harrow installation per prefix)'),
  HARROW_HOST: z.string().default('127.0.0.1').describe('Address the HTTP API listens on'),
  HARROW_PORT: intSchema(0, 65535).default(8080).describe('Port of the HTTP API'),
  HARROW_ALLOWED_HOSTS: AllowedHostsSchema.optional().describe('Host names the API answers to besides localhost, 127.0.0.1, [::1] and the listen address: name or name:port, comma-separated; * for any'),
  HARROW_TOKEN: z.string().min(8, 'use at least 8 characters').optional().describe('The bootstrap admin token: every route accepts it as an admin'),
  HARROW_AUTH: z
    .enum(AUTH_MODES, { error: `use ${AUTH_MODES.join(' or ')}; 'proxy' (identities from a single-sign-on proxy) is not available in this version` })
    .optional()
    .describe('off: no authentication; token: every /api route and /metrics needs a token. Default: token whenever the server listens off loopback, HARROW_TOKEN is set or a named token exists'),
  HARROW_METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional().describe('A token that may read /metrics only (for a Prometheus scraper)'),
  HARROW_CRASH_TIMEOUT_MS: ms(30 * SECOND, 'A running run with no heartbeat for this long is marked crashed'),
  HARROW_KILL_GRACE_MS: ms(30 * SECOND, 'Time between SIGTERM and SIGKILL when a run is stopped'),
  HARROW_LOOKAHEAD: intSchema(0, 64).default(1).describe('Queued runs kept beyond the idle agent slots'),
  HARROW_TICK_MS: ms(1 * SECOND, 'Scheduler and reconciliation period'),
  HARROW_AGENT_STALE_MS: ms(15 * SECOND, 'An agent not seen for this long no longer counts as waiting for work'),
  HARROW_RETENTION_DAYS: RetentionDaysSchema.optional().describe(
    'Metric points and output tails of sweeps that ended more than this many days ago are deleted (each run keeps its state, parameters, summary and best); unset: kept forever',
  ),
  HARROW_RATE_LIMIT: RateLimitSchema.default({ max: 1200, windowMs: 60_000 }).describe(
    'Requests to /api and /metrics per token (per client address when unauthenticated), per controller replica: N/s, N/min or N/hour, or off. The agent protocol is exempt',
  ),
  HARROW_LOG_LEVEL: LogLevelSchema.default('info').describe('pino log level (LOG_LEVEL is the deprecated name)'),
  HARROW_LOG_FORMAT: LogFormatSchema.default('auto').describe('auto: one readable line per entry on a terminal, JSON otherwise; or json, pretty'),
});
export type ControllerConfig = z.output<typeof ControllerConfigSchema>;

/**
 * Parses the controller's environment. Deprecation notes (an old variable name) go to `warn`,
 * by default standard error, once.
 */
export function loadControllerConfig(
  env: Record<string, string | undefined>,
  warn: (message: string) => void = (m) => process.stderr.write(`harrow: warning: ${m}\n`),
): ControllerConfig {
  const { config, warnings } = loadEnv(ControllerConfigSchema, env, 'server configuration');
  for (const w of warnings) warn(w);
  if (config.HARROW_AUTH === 'off' && config.HARROW_TOKEN !== undefined) {
    throw new HarrowError('INVALID_CONFIG', 'invalid server configuration: HARROW_AUTH=off turns authentication off, so HARROW_TOKEN would protect nothing; unset one of the two');
  }
  return config;
}

/** The configuration as it may be logged: URLs without their password, no token. */
export function describeConfig(c: ControllerConfig): Record<string, unknown> {
  return {
    ...c,
    DATABASE_URL: c.DATABASE_URL === undefined ? undefined : redactUrl(c.DATABASE_URL),
    REDIS_URL: redactUrl(c.REDIS_URL),
    HARROW_TOKEN: c.HARROW_TOKEN ? '***' : undefined,
    HARROW_METRICS_TOKEN: c.HARROW_METRICS_TOKEN ? '***' : undefined,
  };
}

/** The secrets of this configuration, which the logger scrubs from every line it writes. */
export function configSecrets(c: ControllerConfig): string[] {
  const secrets: string[] = [];
  if (c.HARROW_TOKEN) secrets.push(c.HARROW_TOKEN);
  if (c.HARROW_METRICS_TOKEN) secrets.push(c.HARROW_METRICS_TOKEN);
  secrets.push(...redisUrlSecrets(c.REDIS_URL));
  if (c.DATABASE_URL !== undefined && URL.canParse(c.DATABASE_URL)) {
    const password = new URL(c.DATABASE_URL).password;
    if (password) secrets.push(password, decodeURIComponent(password));
  }
  return secrets;
}
