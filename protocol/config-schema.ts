/**
 * The environment vocabulary shared by the controller, the agent and the CLI: one schema per kind
 * of value (a Redis URL, a key prefix, a log level, milliseconds), one loader that treats empty
 * variables as unset and accepts renamed variables under their old name with a warning, one
 * formatter for a bad environment, and one redaction of secrets for log lines and messages. Each
 * process still declares its own variables (`controller/config.ts`, `agent/agent-config.ts`,
 * `cli/client.ts`); a variable that means the same thing in two of them is built from the same
 * piece here, so they can no longer accept different values.
 */
import { z } from 'zod';
import { HarrowError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `auto`: one readable line per entry on a terminal, JSON otherwise (pipes, files, collectors). */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_PREFIX = 'harrow';

export const LogLevelSchema = z.enum(LOG_LEVELS, { error: `use one of ${LOG_LEVELS.join(', ')}` });
export const LogFormatSchema = z.enum(LOG_FORMATS, { error: `use one of ${LOG_FORMATS.join(', ')}` });

/** A URL with one of the given schemes (`redis:` …), parseable by WHATWG URL, without spaces. */
function urlWithScheme(schemes: readonly string[], example: string) {
  const names = schemes.map((s) => `${s}//`).join(' or ');
  const article = /^[aeioh]/.test(names) ? 'an' : 'a';
  return z
    .string()
    .trim()
    .refine((u) => !/\s/.test(u) && URL.canParse(u) && schemes.includes(new URL(u).protocol), {
      message: `must be ${article} ${names} URL such as ${example}`,
    });
}

export const RedisUrlSchema = urlWithScheme(['redis:', 'rediss:'], DEFAULT_REDIS_URL);
export const DatabaseUrlSchema = urlWithScheme(['postgres:', 'postgresql:'], 'postgres://user:pass@db-host:5432/harrow');
export const HttpUrlSchema = (example: string) => urlWithScheme(['http:', 'https:'], example);

/**
 * The prefix of every Redis key of one installation. `:` is refused because Harrow's own keys use
 * it as the separator (`<prefix>:sweep:<id>:state`): a prefix `a:sweep` would read another
 * installation's keys.
 */
export const PrefixSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'use letters, digits, _ . or - only, at most 64 characters (no spaces, no ":")');

/** Whole milliseconds given as an environment string, within bounds. */
export function millisSchema(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { message: 'must be a whole number of milliseconds' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** A whole number given as an environment string, within bounds. */
export function intSchema(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/**
 * Old names still accepted, with a warning, mapped to their new name. `LOG_LEVEL` was the
 * controller's name while the agent said `HARROW_LOG_LEVEL`; every Harrow variable now starts with
 * `HARROW_` except the two URLs other tools also read.
 */
export const RENAMED_VARIABLES: Readonly<Record<string, string>> = { LOG_LEVEL: 'HARROW_LOG_LEVEL' };

/** Variables whose value is never echoed: tokens, and URLs that may carry a password. */
const SECRET_VARIABLES = new Set(['HARROW_TOKEN', 'HARROW_METRICS_TOKEN', 'REDIS_URL', 'DATABASE_URL']);

export interface LoadedEnv<T> {
  config: T;
  /** Deprecation notes for the person who set the environment (print them once at start). */
  warnings: string[];
}

/**
 * Parses a process's environment with its schema: only the schema's own variables are read,
 * empty ones count as unset (`HARROW_TOKEN= harrow status`, a compose file's `${X:-}`), renamed
 * ones are accepted under their old name with a warning. A bad value is one INVALID_CONFIG error
 * listing every problem, in one format whichever process reads it (see `formatEnvIssues`).
 */
export function loadEnv<S extends z.ZodObject>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
  what: string,
): LoadedEnv<z.output<S>> {
  const warnings: string[] = [];
  const present: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) present[key] = env[key] === '' ? undefined : env[key];
  for (const [old, current] of Object.entries(RENAMED_VARIABLES)) {
    const value = env[old];
    if (!(current in schema.shape) || value === undefined || value === '') continue;
    if (present[current] === undefined) {
      present[current] = value;
      warnings.push(`${old} is deprecated; set ${current} instead (it means the same)`);
    } else {
      warnings.push(`${old} is ignored because ${current} is set; remove ${old}`);
    }
  }
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    throw new HarrowError('INVALID_CONFIG', `invalid ${what}:${formatEnvIssues(issues, present)}`, { details: { issues } });
  }
  return { config: parsed.data, warnings };
}

/**
 * ` NAME="value": what is wrong` after the heading for one problem, else one indented line per
 * problem. Secrets are named but their value is never shown, even a malformed one.
 */
export function formatEnvIssues(
  issues: ReadonlyArray<{ path: string; message: string }>,
  values: Readonly<Record<string, string | undefined>>,
): string {
  const lines = issues.map((i) => {
    const value = values[i.path];
    const shown = value === undefined || SECRET_VARIABLES.has(i.path) ? '' : `=${JSON.stringify(value)}`;
    return `${i.path || '(environment)'}${shown}: ${i.message}`;
  });
  return lines.length === 1 ? ` ${lines[0]}` : lines.map((l) => `\n  ${l}`).join('');
}

/** A URL with its password (and a user name that looks like a token) replaced by `***`. */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return '(unparseable URL)';
  const u = new URL(url);
  if (u.password) u.password = '***';
  else if (u.username && u.username.length >= 16) u.username = '***';
  return u.toString();
}
