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
import { HeaderNameSchema, IssuerUrlSchema, RoleMapSchema, TrustedProxiesSchema } from './security/sso-config.js';

/** off: nobody is asked; token: bearer tokens; proxy: the team's single-sign-on proxy vouches for users (and bearer tokens still work). */
export const AUTH_MODES = ['off', 'token', 'proxy'] as const;

const ms = (fallback: number, description: string) => millisSchema(1, 24 * HOUR).default(fallback).describe(description);

/** The most queued runs HARROW_LOOKAHEAD may keep beyond the idle slots. */
export const MAX_LOOKAHEAD = 64;

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
    .enum(AUTH_MODES, { error: `use ${AUTH_MODES.join(', ')}` })
    .optional()
    .describe('off: no authentication; token: every /api route and /metrics needs a token; proxy: identity headers from HARROW_TRUSTED_PROXIES, or a token. Default: token whenever the server listens off loopback, HARROW_TOKEN is set or a named token exists'),
  HARROW_TRUSTED_PROXIES: TrustedProxiesSchema.optional().describe('proxy mode: the addresses (IPs or CIDR ranges, comma-separated) whose identity headers are believed, checked on the connection itself'),
  HARROW_PROXY_USER_HEADER: HeaderNameSchema.default('x-forwarded-user').describe('proxy mode: the header that names the signed-in user'),
  HARROW_PROXY_EMAIL_HEADER: HeaderNameSchema.default('x-forwarded-email').describe("proxy mode: the header with the user's email (optional in each request)"),
  HARROW_PROXY_GROUPS_HEADER: HeaderNameSchema.default('x-forwarded-groups').describe("proxy mode: the header with the user's groups, comma-separated"),
  HARROW_SSO_ROLES: RoleMapSchema.optional().describe('Groups to roles for proxy users and OIDC tokens: ml-admins=admin,ml-team=member,*=viewer (highest wins)'),
  HARROW_OIDC_ISSUER: IssuerUrlSchema('HARROW_OIDC_ISSUER').optional().describe('Accept OIDC bearer tokens (JWTs) from this issuer'),
  HARROW_OIDC_AUDIENCE: z.string().trim().min(1).optional().describe("The audience (aud) OIDC tokens must name: this server's client id"),
  HARROW_OIDC_JWKS_URL: IssuerUrlSchema('HARROW_OIDC_JWKS_URL').optional().describe("The issuer's signing keys; default: jwks_uri of <issuer>/.well-known/openid-configuration"),
  HARROW_OIDC_GROUPS_CLAIM: z.string().trim().min(1).default('groups').describe('The claim of an OIDC token that lists its groups'),
  HARROW_OIDC_JWKS_COOLDOWN_MS: millisSchema(0, HOUR).default(30 * SECOND).describe('Least time between two fetches of the JWKS for a token with an unknown key id'),
  HARROW_METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional().describe('A token that may read /metrics only (for a Prometheus scraper)'),
  HARROW_TLS_CERT: z.string().trim().min(1).optional().describe('PEM file of the HTTPS certificate (and its chain); with HARROW_TLS_KEY the API and dashboard are served over HTTPS only'),
  HARROW_TLS_KEY: z.string().trim().min(1).optional().describe('PEM file of the private key of HARROW_TLS_CERT'),
  HARROW_CRASH_TIMEOUT_MS: ms(30 * SECOND, 'A running run with no heartbeat for this long is marked crashed'),
  HARROW_KILL_GRACE_MS: ms(30 * SECOND, 'Time between SIGTERM and SIGKILL when a run is stopped'),
  HARROW_LOOKAHEAD: intSchema(0, MAX_LOOKAHEAD).default(1).describe('Queued runs kept beyond the idle agent slots'),
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
  checkSso(config);
  if ((config.HARROW_TLS_CERT === undefined) !== (config.HARROW_TLS_KEY === undefined)) {
    throw new HarrowError('INVALID_CONFIG', `invalid server configuration: HTTPS needs both HARROW_TLS_CERT and HARROW_TLS_KEY; ${config.HARROW_TLS_CERT === undefined ? 'HARROW_TLS_CERT' : 'HARROW_TLS_KEY'} is missing`);
  }
  return config;
}

/** The settings that only make sense together. */
function checkSso(c: ControllerConfig): void {
  const bad = (message: string): never => {
    throw new HarrowError('INVALID_CONFIG', `invalid server configuration: ${message}`);
  };
  if (c.HARROW_AUTH === 'proxy') {
    if (!c.HARROW_TRUSTED_PROXIES) bad("HARROW_AUTH=proxy needs HARROW_TRUSTED_PROXIES: the proxy's addresses (such as 127.0.0.1 or 10.0.0.0/8), the only peers whose identity headers are believed");
    if (!c.HARROW_SSO_ROLES) bad('HARROW_AUTH=proxy needs HARROW_SSO_ROLES, which maps groups to roles, such as ml-admins=admin,ml-team=member,*=viewer');
  } else if (c.HARROW_TRUSTED_PROXIES) {
    bad(`HARROW_TRUSTED_PROXIES is only read with HARROW_AUTH=proxy (it is ${c.HARROW_AUTH ?? 'unset'}); set HARROW_AUTH=proxy or remove it`);
  }
  if (c.HARROW_OIDC_ISSUER) {
    if (c.HARROW_AUTH === 'off') bad('HARROW_AUTH=off turns authentication off, so OIDC tokens (HARROW_OIDC_ISSUER) would not be checked; unset one of the two');
    if (!c.HARROW_OIDC_AUDIENCE) bad("HARROW_OIDC_ISSUER needs HARROW_OIDC_AUDIENCE, the client id the tokens are issued for: without it a token issued for any other application of the issuer would be accepted");
    if (!c.HARROW_SSO_ROLES) bad('HARROW_OIDC_ISSUER needs HARROW_SSO_ROLES, which maps groups to roles, such as ml-admins=admin,ml-team=member,*=viewer');
  } else if (c.HARROW_OIDC_AUDIENCE || c.HARROW_OIDC_JWKS_URL) {
    bad('HARROW_OIDC_AUDIENCE and HARROW_OIDC_JWKS_URL are only read with HARROW_OIDC_ISSUER; set the issuer');
  }
  if (c.HARROW_SSO_ROLES && c.HARROW_AUTH !== 'proxy' && !c.HARROW_OIDC_ISSUER) bad('HARROW_SSO_ROLES is only read with HARROW_AUTH=proxy or HARROW_OIDC_ISSUER; set one or remove it');
}

/** The configuration as it may be logged: URLs without their password, no token. */
export function describeConfig(c: ControllerConfig): Record<string, unknown> {
  return {
    ...c,
    DATABASE_URL: c.DATABASE_URL === undefined ? undefined : redactUrl(c.DATABASE_URL),
    REDIS_URL: redactUrl(c.REDIS_URL),
    HARROW_TOKEN: c.HARROW_TOKEN ? '***' : undefined,
    HARROW_METRICS_TOKEN: c.HARROW_METRICS_TOKEN ? '***' : undefined,
    HARROW_TRUSTED_PROXIES: c.HARROW_TRUSTED_PROXIES?.text,
    HARROW_SSO_ROLES: c.HARROW_SSO_ROLES?.text,
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
