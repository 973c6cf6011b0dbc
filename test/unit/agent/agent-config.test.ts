import { test } from 'node:test';
import { resolve } from 'node:path';
import assert from 'node:assert/strict';
import { loadAgentConfig, redactRedisUrl } from '../../../agent/agent-config.js';
import { HarrowError } from '../../../protocol/errors.js';
import { prettyLine } from '../../../agent/agent-logger.js';

void test('defaults: local Redis, prefix harrow, 5 s heartbeats, 1 s control polls, checkpoints under .harrow', () => {
  assert.deepEqual(loadAgentConfig({}), {
    redisUrl: 'redis://127.0.0.1:6379',
    prefix: 'harrow',
    heartbeatMs: 5000,
    controlPollMs: 1000,
    claimWaitMs: 300_000,
    logLevel: 'info',
    logFormat: 'auto',
    checkpointRoot: resolve('.harrow/checkpoints'),
    checkpointGraceMs: 30_000,
    agentsDir: `/tmp/harrow-agents-${process.getuid?.() ?? 'user'}`,
  });
});

void test('the agents directory of harrow agent --drain: HARROW_AGENTS_DIR, else per uid in /tmp whatever TMPDIR and XDG_RUNTIME_DIR say', () => {
  assert.equal(loadAgentConfig({ HARROW_AGENTS_DIR: '/srv/harrow/agents' }).agentsDir, '/srv/harrow/agents');
  assert.equal(loadAgentConfig({ TMPDIR: '/scratch/job-17', XDG_RUNTIME_DIR: '/run/user/1000' }).agentsDir, `/tmp/harrow-agents-${process.getuid?.() ?? 'user'}`);
});

void test('checkpoints: HARROW_CHECKPOINT_ROOT (made absolute), else under HARROW_DATA_DIR; the grace in ms', () => {
  assert.equal(loadAgentConfig({ HARROW_CHECKPOINT_ROOT: '/mnt/shared/ckpt' }).checkpointRoot, '/mnt/shared/ckpt');
  assert.equal(loadAgentConfig({ HARROW_DATA_DIR: '/var/lib/harrow' }).checkpointRoot, '/var/lib/harrow/checkpoints');
  assert.equal(loadAgentConfig({ HARROW_CHECKPOINT_GRACE_MS: '120000' }).checkpointGraceMs, 120_000);
  assert.throws(() => loadAgentConfig({ HARROW_CHECKPOINT_GRACE_MS: '2m' }), /HARROW_CHECKPOINT_GRACE_MS/);
});

void test('values from the environment; empty strings mean unset', () => {
  const config = loadAgentConfig({
    REDIS_URL: 'rediss://user:secret@redis.internal:6380/2',
    HARROW_PREFIX: 'team-a',
    HARROW_HEARTBEAT_MS: ' 2000 ',
    HARROW_CONTROL_POLL_MS: '',
    HARROW_CLAIM_WAIT_MS: '60000',
    HARROW_LOG_LEVEL: 'debug',
    UNRELATED: 'x',
  });
  assert.equal(config.redisUrl, 'rediss://user:secret@redis.internal:6380/2');
  assert.equal(config.prefix, 'team-a');
  assert.equal(config.heartbeatMs, 2000);
  assert.equal(config.controlPollMs, 1000);
  assert.equal(config.claimWaitMs, 60_000);
  assert.equal(config.logLevel, 'debug');
});

void test('bad values: an INVALID_CONFIG error naming each variable and what to do', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    // A Redis URL may hold a password: it is named, never echoed.
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ HARROW_HEARTBEAT_MS: '5s' }, /HARROW_HEARTBEAT_MS="5s": must be a whole number of milliseconds/],
    [{ HARROW_HEARTBEAT_MS: '10' }, /HARROW_HEARTBEAT_MS="10":.*100/],
    [{ HARROW_CONTROL_POLL_MS: '5000' }, /HARROW_CONTROL_POLL_MS="5000":.*1000/],
    [{ HARROW_PREFIX: 'my prefix' }, /HARROW_PREFIX="my prefix": use letters/],
    [{ HARROW_LOG_LEVEL: 'loud' }, /HARROW_LOG_LEVEL="loud"/],
  ];
  for (const [env, pattern] of cases) {
    assert.throws(
      () => loadAgentConfig(env),
      (err: unknown) => err instanceof HarrowError && err.code === 'INVALID_CONFIG' && pattern.test(err.message),
      JSON.stringify(env),
    );
  }
  // Every problem at once, not the first only.
  assert.throws(
    () => loadAgentConfig({ REDIS_URL: 'nope', HARROW_HEARTBEAT_MS: 'x' }),
    (err: unknown) => err instanceof HarrowError && /REDIS_URL/.test(err.message) && /HARROW_HEARTBEAT_MS/.test(err.message),
  );
});

void test('the Redis password never appears in logs', () => {
  assert.equal(redactRedisUrl('redis://:hunter2@host:6379/0'), 'redis://:***@host:6379/0');
  assert.equal(redactRedisUrl('redis://host:6379'), 'redis://host:6379');
});

void test('pretty log lines: time, level, message and the fields that matter', () => {
  const line = prettyLine(
    JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 1, 12, 0, 0), msg: 'run ended', agentId: 'a', runId: 'r1', reason: 'exit code 2' }),
  );
  assert.match(line, /^\d\d:\d\d:\d\d WARN {2}run ended {2}runId=r1 reason="exit code 2"\n$/);
  assert.equal(prettyLine('not json'), 'not json');
});
