import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { agentSecrets, loadAgentConfig } from '../../../agent/agent-config.js';
import { loadClientConfig } from '../../../cli/client.js';
import { configSecrets, describeConfig, loadControllerConfig } from '../../../controller/config.js';
import { createLogger } from '../../../controller/logger.js';
import { parseRedisTarget, redactUrl } from '../../../protocol/config-schema.js';
import { bullConnection } from '../../../protocol/redis-connection.js';
import { HarrowError } from '../../../protocol/errors.js';
import { attemptOfJobId, jobIdOf } from '../../../protocol/wire.js';

const quiet = (): void => undefined;
const controller = (env: Record<string, string>) => loadControllerConfig(env, quiet);
const agent = (env: Record<string, string>) => loadAgentConfig(env, quiet);

function configError(fn: () => unknown): HarrowError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HarrowError && err.code === 'INVALID_CONFIG') return err;
    throw err;
  }
  assert.fail('expected an INVALID_CONFIG error');
}

void test('controller and agent accept and refuse the same Redis prefixes and URLs', () => {
  const cases: Array<[Record<string, string>, boolean]> = [
    [{ HARROW_PREFIX: 'team-a.v2_x' }, true],
    // ':' separates Harrow's own key parts; the agent used to accept it while the controller refused it.
    [{ HARROW_PREFIX: 'team:a' }, false],
    [{ HARROW_PREFIX: 'my prefix' }, false],
    [{ HARROW_PREFIX: 'x'.repeat(65) }, false],
    [{ REDIS_URL: 'rediss://:pw@redis.internal:6380/2' }, true],
    // The controller used to accept any string here and fail later, at connection time.
    [{ REDIS_URL: 'localhost:6379' }, false],
    [{ REDIS_URL: 'http://redis:6379' }, false],
    [{ REDIS_URL: 'redis+sentinel://s1:26379,s2,[::1]:26380/mymaster' }, true],
    [{ REDIS_URL: 'rediss+sentinel://:pw@s1/mymaster/3?sentinelPassword=spw' }, true],
    [{ REDIS_URL: 'redis+sentinel://s1:26379' }, false],
    [{ REDIS_URL: 'redis+sentinel://s1:99999/m' }, false],
    [{ REDIS_URL: 'redis+sentinel://s1/m/x' }, false],
    [{ REDIS_URL: 'redis+sentinel://s1/m?sentinel_password=x' }, false],
    [{ HARROW_LOG_LEVEL: 'debug' }, true],
    [{ HARROW_LOG_LEVEL: 'loud' }, false],
    [{ HARROW_LOG_FORMAT: 'pretty' }, true],
    [{ HARROW_LOG_FORMAT: 'xml' }, false],
  ];
  for (const [env, ok] of cases) {
    for (const [who, load] of [['controller', controller], ['agent', agent]] as const) {
      if (ok) assert.doesNotThrow(() => load(env), `${who} ${JSON.stringify(env)}`);
      else assert.match(configError(() => load(env)).message, new RegExp(Object.keys(env)[0]!), `${who} ${JSON.stringify(env)}`);
    }
  }
  assert.match(configError(() => controller({ DATABASE_URL: 'mysql://db/harrow' })).message, /DATABASE_URL.*postgres:\/\//);
  assert.equal(controller({ DATABASE_URL: 'postgresql://u:p@db/harrow' }).DATABASE_URL, 'postgresql://u:p@db/harrow');
});

void test('LOG_LEVEL, the old name, still works in both with a deprecation warning; HARROW_LOG_LEVEL wins', () => {
  for (const load of [loadControllerConfig, loadAgentConfig]) {
    const warnings: string[] = [];
    const level = (c: ReturnType<typeof load>) => ('logLevel' in c ? c.logLevel : c.HARROW_LOG_LEVEL);
    assert.equal(level(load({ LOG_LEVEL: 'warn' }, (w) => warnings.push(w))), 'warn');
    assert.match(warnings.join('\n'), /LOG_LEVEL is deprecated; set HARROW_LOG_LEVEL/);
    warnings.length = 0;
    assert.equal(level(load({ LOG_LEVEL: 'warn', HARROW_LOG_LEVEL: 'error' }, (w) => warnings.push(w))), 'error');
    assert.match(warnings.join('\n'), /LOG_LEVEL is ignored because HARROW_LOG_LEVEL is set/);
    warnings.length = 0;
    load({ HARROW_LOG_LEVEL: 'error' }, (w) => warnings.push(w));
    assert.deepEqual(warnings, []);
  }
});

void test('one format for a bad environment in controller, agent and CLI; secrets named, never shown', () => {
  const messages = [
    configError(() => controller({ HARROW_PREFIX: 'a b' })).message,
    configError(() => agent({ HARROW_PREFIX: 'a b' })).message,
  ];
  for (const m of messages) assert.match(m, /^invalid (server configuration|agent environment): HARROW_PREFIX="a b": use letters/);
  assert.match(configError(() => loadClientConfig({ HARROW_TIMEOUT_MS: 'soon' })).message, /^invalid environment: HARROW_TIMEOUT_MS="soon": must be a whole number/);
  // Several problems: one line each, all at once.
  const several = configError(() => controller({ HARROW_PREFIX: 'a b', HARROW_PORT: 'eighty' })).message;
  assert.match(several, /^invalid server configuration:\n {2}HARROW_PREFIX="a b": .*\n {2}HARROW_PORT="eighty": /);
  // A malformed value of a secret variable is never echoed.
  const token = configError(() => controller({ HARROW_TOKEN: 'hunter2' }));
  assert.match(token.message, /HARROW_TOKEN: use at least 8 characters/);
  assert.ok(!token.message.includes('hunter2'));
  const url = configError(() => agent({ REDIS_URL: 'redis//:hunter22@host' }));
  assert.ok(!url.message.includes('hunter22'), url.message);
  assert.ok(!JSON.stringify(url.details).includes('hunter22'));
});

void test('URLs are redacted for logs; the logger scrubs the passwords and the token from every line', () => {
  assert.equal(redactUrl('redis://:hunter2@host:6379/0'), 'redis://:***@host:6379/0');
  assert.equal(redactUrl('postgres://u:p%40ss@db:5432/h'), 'postgres://u:***@db:5432/h');
  assert.equal(redactUrl('redis://host:6379'), 'redis://host:6379');
  const config = controller({
    REDIS_URL: 'redis://:redis-pw-1@r:6379',
    DATABASE_URL: 'postgres://u:db%2Fpw-2@db/h',
    HARROW_TOKEN: 'token-3-abcdefgh',
  });
  const described = JSON.stringify(describeConfig(config));
  for (const secret of ['redis-pw-1', 'db%2Fpw-2', 'db/pw-2', 'token-3-abcdefgh']) assert.ok(!described.includes(secret), described);

  let written = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      written += chunk.toString();
      cb();
    },
  });
  const log = createLogger('info', 'test', { stream: sink, secrets: configSecrets(config) });
  // As a library error or a careless line might: the whole URL, a decoded password, the header.
  log.info({ redis: config.REDIS_URL, db: config.DATABASE_URL, err: new Error('auth failed for db/pw-2') }, 'connecting');
  // fastify logs through a child of the controller's logger.
  log.child({ component: 'http' }).warn({ authorization: 'Bearer token-3-abcdefgh' }, 'refused');
  assert.match(written, /connecting/);
  assert.match(written, /"component":"http".*Bearer \*\*\*/);
  for (const secret of ['redis-pw-1', 'db%2Fpw-2', 'db/pw-2', 'token-3-abcdefgh']) assert.ok(!written.includes(secret), written);
});

void test("the agent's attempt number is read from the job id the controller made", () => {
  for (const attempt of [0, 1, 2, 9, 12]) {
    const id = jobIdOf({ id: 'run7', attempt });
    assert.equal(attemptOfJobId(id, 'run7'), attempt + 1);
  }
  assert.equal(attemptOfJobId('run7.rx', 'run7'), undefined);
  assert.equal(attemptOfJobId('other', 'run7'), undefined);
  assert.equal(attemptOfJobId(undefined, 'run7'), undefined);
});

void test('a Sentinel URL names the Sentinels, the master, its database and both passwords; all parts reach ioredis', () => {
  assert.deepEqual(parseRedisTarget('redis://127.0.0.1:6379'), { kind: 'direct', url: 'redis://127.0.0.1:6379' });
  assert.deepEqual(parseRedisTarget('rediss+sentinel://app:p%40ss@s1:26379,s2,[fd00::1]:26380/my%20master/3?sentinelPassword=s%26pw'), {
    kind: 'sentinel',
    sentinels: [
      { host: 's1', port: 26379 },
      { host: 's2', port: 26379 },
      { host: 'fd00::1', port: 26380 },
    ],
    name: 'my master',
    db: 3,
    username: 'app',
    password: 'p@ss',
    sentinelPassword: 's&pw',
    tls: true,
  });
  const options: Record<string, unknown> = { ...bullConnection('redis+sentinel://:pw@s1:1,s2:2/m', { maxRetriesPerRequest: null }) };
  assert.deepEqual(
    { sentinels: options.sentinels, name: options.name, role: options.role, password: options.password, m: options.maxRetriesPerRequest },
    { sentinels: [{ host: 's1', port: 1 }, { host: 's2', port: 2 }], name: 'm', role: 'master', password: 'pw', m: null },
  );
  assert.equal(options.url, undefined);
  assert.deepEqual(bullConnection('redis://h:1', { maxRetriesPerRequest: null }), { url: 'redis://h:1', maxRetriesPerRequest: null });

  // Neither password is shown in logs or kept out of the logger's scrub list.
  const url = 'redis+sentinel://:data-pw-1@s1,s2/m?sentinelPassword=sent-pw-2';
  assert.equal(redactUrl(url), 'redis+sentinel://:***@s1,s2/m?sentinelPassword=***');
  const config = controller({ REDIS_URL: url });
  assert.ok(!JSON.stringify(describeConfig(config)).includes('pw-'));
  assert.deepEqual(configSecrets(config).sort(), ['data-pw-1', 'sent-pw-2']);
  assert.deepEqual(agentSecrets(agent({ REDIS_URL: url })).sort(), ['data-pw-1', 'sent-pw-2']);
  assert.match(configError(() => agent({ REDIS_URL: 'redis+sentinel://s1' })).message, /REDIS_URL: a Sentinel URL reads redis\+sentinel:\/\/host1:26379/);
});

test('HARROW_RATE_LIMIT: N per second, minute or hour, or off; a generous default', () => {
  assert.deepEqual(controller({}).HARROW_RATE_LIMIT, { max: 1200, windowMs: 60_000 });
  assert.deepEqual(controller({ HARROW_RATE_LIMIT: '600/min' }).HARROW_RATE_LIMIT, { max: 600, windowMs: 60_000 });
  assert.deepEqual(controller({ HARROW_RATE_LIMIT: '20/s' }).HARROW_RATE_LIMIT, { max: 20, windowMs: 1000 });
  assert.deepEqual(controller({ HARROW_RATE_LIMIT: '10000 / hour' }).HARROW_RATE_LIMIT, { max: 10_000, windowMs: 3_600_000 });
  assert.equal(controller({ HARROW_RATE_LIMIT: 'off' }).HARROW_RATE_LIMIT, null);
  for (const bad of ['600', '0/min', '5/day', 'fast']) {
    assert.match(configError(() => controller({ HARROW_RATE_LIMIT: bad })).message, /HARROW_RATE_LIMIT=.*600\/min or 20\/s, or off/, bad);
  }
});

test('HARROW_RETENTION_DAYS: unset keeps everything; whole days from 1', () => {
  assert.equal(controller({}).HARROW_RETENTION_DAYS, undefined);
  assert.equal(controller({ HARROW_RETENTION_DAYS: '90' }).HARROW_RETENTION_DAYS, 90);
  assert.match(configError(() => controller({ HARROW_RETENTION_DAYS: '0' })).message, /at least 1 day/);
  assert.match(configError(() => controller({ HARROW_RETENTION_DAYS: '30d' })).message, /whole number of days/);
});
