/**
 * The controller's configuration, parsed once from the environment (and CLI flags layered on top
 * by `harrow server`). Nothing else in the controller reads `process.env`.
 */
import { z } from 'zod';
import { HarrowError } from '../protocol/errors.js';
import { SECOND } from '../protocol/time.js';
import { AllowedHostsSchema } from './security/allowed-hosts.js';

const ms = (fallback: number, description: string) => z.coerce.number().int().positive().default(fallback).describe(description);

export const ControllerConfigSchema = z.object({
  DATABASE_URL: z.string().url().optional().describe('Postgres URL; when unset, an embedded PGlite database in HARROW_DATA_DIR'),
  HARROW_DATA_DIR: z.string().default('.harrow').describe('Local state: the embedded database (when DATABASE_URL is unset)'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379').describe('Redis that carries runs to agents'),
  HARROW_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
    .default('harrow')
    .describe('Prefix of every Redis key (one Harrow installation per prefix)'),
  HARROW_HOST: z.string().default('127.0.0.1').describe('Address the HTTP API listens on'),
  HARROW_PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('Port of the HTTP API'),
  HARROW_ALLOWED_HOSTS: AllowedHostsSchema.optional().describe('Host names the API answers to besides localhost, 127.0.0.1, [::1] and the listen address: name or name:port, comma-separated; * for any'),
  HARROW_TOKEN: z.string().min(8, 'use at least 8 characters').optional().describe('Bearer token required by mutating routes'),
  HARROW_CRASH_TIMEOUT_MS: ms(30 * SECOND, 'A running run with no heartbeat for this long is marked crashed'),
  HARROW_KILL_GRACE_MS: ms(30 * SECOND, 'Time between SIGTERM and SIGKILL when a run is stopped'),
  HARROW_LOOKAHEAD: z.coerce.number().int().min(0).max(64).default(1).describe('Queued runs kept beyond the idle agent slots'),
  HARROW_TICK_MS: ms(1 * SECOND, 'Scheduler and reconciliation period'),
  HARROW_AGENT_STALE_MS: ms(15 * SECOND, 'An agent not seen for this long no longer counts as waiting for work'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type ControllerConfig = z.output<typeof ControllerConfigSchema>;

export function loadControllerConfig(env: Record<string, string | undefined>): ControllerConfig {
  // Empty variables count as unset (a common shell/compose idiom).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ControllerConfigSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new HarrowError(
      'INVALID_CONFIG',
      `invalid server configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      { details: { issues } },
    );
  }
  return parsed.data;
}

/** Redacts secrets for logging. */
export function describeConfig(c: ControllerConfig): Record<string, unknown> {
  return {
    ...c,
    DATABASE_URL: c.DATABASE_URL ? c.DATABASE_URL.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@') : undefined,
    HARROW_TOKEN: c.HARROW_TOKEN ? '***' : undefined,
  };
}
