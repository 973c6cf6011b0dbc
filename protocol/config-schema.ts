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

/** A Redis server or Sentinel address. */
export interface RedisHost {
  host: string;
  port: number;
}

/**
 * Where Redis is: one server (`redis://`, `rediss://`, handed to ioredis as it is), or the
 * Sentinels that know which server is the master of `name` now (`redis+sentinel://`). The
 * password of the URL is the data servers' password; a Sentinel's own password, when it has one,
 * is the `sentinelPassword` query parameter.
 */
export type RedisTarget =
  | { kind: 'direct'; url: string }
  | {
      kind: 'sentinel';
      sentinels: RedisHost[];
      name: string;
      db: number;
      username?: string;
      password?: string;
      sentinelPassword?: string;
      tls: boolean;
      /** The `ca` query parameter: a PEM file of the CA that signed the servers' certificates. */
      ca?: string;
    };

export const SENTINEL_EXAMPLE = 'redis+sentinel://host1:26379,host2:26379,host3:26379/mymaster';
const DEFAULT_SENTINEL_PORT = 26379;
const SENTINEL_URL = /^(rediss?)\+sentinel:\/\/(?:([^@/?#]*)@)?([^/?#]+)\/([^/?#]+)(?:\/([^/?#]*))?(?:\?([^#]*))?$/;

function parseHost(text: string): RedisHost | string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) return `"${text}" is not host or host:port`;
  const port = m[3] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[3]);
  if (port < 1 || port > 65535) return `port ${port} of "${text}" is out of range`;
  return { host: (m[1] ?? m[2])!, port };
}

/** The target of a `redis+sentinel://` URL, or what is wrong with it. */
function parseSentinelUrl(url: string): RedisTarget | string {
  const m = SENTINEL_URL.exec(url);
  if (!m) return `a Sentinel URL reads ${SENTINEL_EXAMPLE}[/db]`;
  const [, scheme, userinfo, hostList, rawName, rawDb, query] = m;
  const sentinels: RedisHost[] = [];
  for (const part of hostList!.split(',')) {
    const host = parseHost(part);
    if (typeof host === 'string') return host;
    sentinels.push(host);
  }
  let name: string;
  try {
    name = decodeURIComponent(rawName!);
  } catch {
    return `master name "${rawName}" is not valid percent-encoding`;
  }
  if (rawDb !== undefined && rawDb !== '' && !/^\d{1,2}$/.test(rawDb)) return `database "${rawDb}" must be a number`;
  const target: Extract<RedisTarget, { kind: 'sentinel' }> = {
    kind: 'sentinel',
    sentinels,
    name,
    db: rawDb ? Number(rawDb) : 0,
    tls: scheme === 'rediss',
  };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    const password = colon < 0 ? '' : userinfo.slice(colon + 1);
    try {
      if (user) target.username = decodeURIComponent(user);
      if (password) target.password = decodeURIComponent(password);
    } catch {
      return 'the user name or password is not valid percent-encoding';
    }
  }
  const params = new URLSearchParams(query ?? '');
  for (const key of params.keys()) {
    if (key !== 'sentinelPassword' && key !== 'ca') return `unknown parameter "${key}" (only sentinelPassword and ca are understood)`;
  }
  const sentinelPassword = params.get('sentinelPassword');
  if (sentinelPassword) target.sentinelPassword = sentinelPassword;
  const ca = params.get('ca');
  if (ca !== null) {
    if (!target.tls) return `the ca parameter is for TLS: use rediss+sentinel:// (or drop ca=)`;
    if (ca === '') return 'ca= needs the path of a PEM file';
    target.ca = ca;
  }
  return target;
}

/** Where a valid REDIS_URL points (see `RedisUrlSchema`). */
export function parseRedisTarget(url: string): RedisTarget {
  if (!/^rediss?\+sentinel:/.test(url)) return { kind: 'direct', url };
  const target = parseSentinelUrl(url);
  if (typeof target === 'string') throw new HarrowError('INVALID_CONFIG', `invalid Redis Sentinel URL: ${target}`);
  return target;
}

const DirectRedisUrlSchema = urlWithScheme(['redis:', 'rediss:'], DEFAULT_REDIS_URL);

/** One Redis server (`redis://`, `rediss://`), or Sentinels and a master name (`redis+sentinel://`). */
export const RedisUrlSchema = z
  .string()
  .trim()
  .superRefine((url, ctx) => {
    if (/^rediss?\+sentinel:/.test(url)) {
      const target = parseSentinelUrl(url);
      if (typeof target === 'string') ctx.addIssue({ code: 'custom', message: `${target} (a Sentinel URL such as ${SENTINEL_EXAMPLE})` });
      return;
    }
    const direct = DirectRedisUrlSchema.safeParse(url);
    if (!direct.success) {
      ctx.addIssue({ code: 'custom', message: `must be a redis:// or rediss:// URL such as ${DEFAULT_REDIS_URL}, or ${SENTINEL_EXAMPLE}` });
      return;
    }
    const u = new URL(url);
    const ca = u.searchParams.get('ca');
    if (ca !== null && u.protocol !== 'rediss:') ctx.addIssue({ code: 'custom', message: 'the ca parameter is for TLS: use a rediss:// URL (or drop ca=)' });
    else if (ca === '') ctx.addIssue({ code: 'custom', message: 'ca= needs the path of a PEM file, such as rediss://redis:6380?ca=/etc/harrow/ca.pem' });
  });
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

/** The passwords a Redis URL carries (data servers' and Sentinels'), decoded and as written. */
export function redisUrlSecrets(url: string): string[] {
  const secrets: string[] = [];
  const add = (s: string | undefined): void => {
    if (!s) return;
    secrets.push(s);
    try {
      secrets.push(decodeURIComponent(s));
    } catch {
      // Not percent-encoded: the raw form is enough.
    }
  };
  if (/^rediss?\+sentinel:/.test(url)) {
    const m = SENTINEL_URL.exec(url);
    const userinfo = m?.[2];
    if (userinfo?.includes(':')) add(userinfo.slice(userinfo.indexOf(':') + 1));
    // As written in the query (percent-encoded or not); add() also keeps the decoded form.
    add(/(?:^|&)sentinelPassword=([^&#]*)/.exec(m?.[6] ?? '')?.[1]);
    return [...new Set(secrets)];
  }
  if (URL.canParse(url)) add(new URL(url).password);
  return [...new Set(secrets)];
}

/** A URL with its password (and a user name that looks like a token) replaced by `***`. */
export function redactUrl(url: string): string {
  if (/^rediss?\+sentinel:/.test(url)) {
    // Not a WHATWG URL (several hosts): blank the password of the user info and the Sentinels'.
    return url
      .replace(/^([^:]+:\/\/[^:@/]*):[^@/]*@/, '$1:***@')
      .replace(/([?&]sentinelPassword=)[^&#]*/, '$1***');
  }
  if (!URL.canParse(url)) return '(unparseable URL)';
  const u = new URL(url);
  if (u.password) u.password = '***';
  else if (u.username && u.username.length >= 16) u.username = '***';
  return u.toString();
}

/** A request rate: how many per window. */
export interface RateLimit {
  max: number;
  windowMs: number;
}

const RATE_WINDOWS: Readonly<Record<string, number>> = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000 };

/** `600/min` (also `/s`, `/sec`, `/second`, `/minute`, `/h`, `/hour`), or `off`: null. */
export const RateLimitSchema = z
  .string()
  .trim()
  .transform((text, ctx): RateLimit | null => {
    if (text.toLowerCase() === 'off') return null;
    const m = /^(\d{1,9})\s*\/\s*([a-z]+)$/i.exec(text);
    const windowMs = m ? RATE_WINDOWS[m[2]!.toLowerCase()] : undefined;
    if (!m || windowMs === undefined || Number(m[1]) < 1) {
      ctx.addIssue({ code: 'custom', message: 'use a count per second, minute or hour such as 600/min or 20/s, or off' });
      return z.NEVER;
    }
    return { max: Number(m[1]), windowMs };
  });

/** Whole days, 1 to 100 years; unset keeps everything forever. */
export const RetentionDaysSchema = z
  .string()
  .trim()
  .regex(/^\d+$/, { message: 'must be a whole number of days such as 90 (unset keeps everything)' })
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1 day (unset it to keep everything)').max(36_500));
