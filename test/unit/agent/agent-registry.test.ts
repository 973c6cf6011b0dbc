import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRegistry, defaultAgentsDir, realProcessProbe, selectAgents, type AgentRecord, type ProcessProbe } from '../../../agent/agent-registry.js';
import { HarrowError } from '../../../protocol/errors.js';

const entry = (agentId: string, sweeps = ['k3x9q2ab']) => ({ agentId, sweeps, all: false, transport: 'redis' as const, host: 'box', startedAt: new Date().toISOString() });

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'harrow-registry-'));
    try {
      await fn(join(root, 'agents'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

/** The pid of a process that has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/** Processes by pid, with the start time each one reports. */
function fakeProbe(procs: Map<number, string | null>): ProcessProbe {
  return { alive: (pid) => procs.has(pid), startTime: (pid) => procs.get(pid) ?? null };
}

void test('an agent registers as <pid>.json in a private directory and removes its file when it exits', withDir((dir) => {
  const registry = new AgentRegistry(dir);
  const reg = registry.register(entry('box-1-a'));
  assert.equal(reg.file, join(dir, `${process.pid}.json`));
  assert.equal(readdirSync(dir).length, 1, 'no temporary file left behind');
  const [record] = registry.list();
  assert.equal(record?.pid, process.pid);
  assert.equal(record?.agentId, 'box-1-a');
  assert.deepEqual(record?.sweeps, ['k3x9q2ab']);
  assert.equal(record?.draining, false);
  if (existsSync('/proc/self/stat')) assert.match(record?.procStart ?? '', /^\d+$/, 'the start time of the process, to tell a reused pid');
  reg.markDraining();
  assert.equal(registry.list()[0]?.draining, true);
  reg.remove();
  reg.remove();
  assert.deepEqual(registry.list(), []);
  assert.deepEqual(readdirSync(dir), []);
}));

void test('a missing directory means no agents; the directory is made private (0700)', withDir((dir) => {
  const registry = new AgentRegistry(dir);
  assert.deepEqual(registry.list(), []);
  const reg = registry.register(entry('a'));
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(reg.file).mode & 0o777, 0o600);
  reg.remove();
}));

void test('a directory others can write is refused with what to do (another user could plant a pid for the drain to signal)', withDir((dir) => {
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o777);
  assert.throws(
    () => new AgentRegistry(dir).register(entry('a')),
    (err: unknown) => err instanceof HarrowError && err.code === 'INVALID_CONFIG' && /no one else can write .*mode 777.*HARROW_AGENTS_DIR/.test(err.message),
  );
}));

void test('stale files are ignored and removed: a dead pid, a pid reused by another process, and garbage', withDir(async (dir) => {
  const registry = new AgentRegistry(dir);
  const live = registry.register(entry('live'));
  const dead = await deadPid();
  const deadRecord: AgentRecord = { v: 1, pid: dead, procStart: null, draining: false, ...entry('dead') };
  writeFileSync(join(dir, `${dead}.json`), JSON.stringify(deadRecord));
  // The parent's pid, recorded with another start time: the agent died and the pid came back.
  const reusedPid = process.ppid;
  const reused: AgentRecord = { v: 1, pid: reusedPid, procStart: '1', draining: false, ...entry('reused') };
  writeFileSync(join(dir, `${reusedPid}.json`), JSON.stringify(reused));
  writeFileSync(join(dir, '4242.json'), '{not json');
  writeFileSync(join(dir, 'notes.txt'), 'not an agent file: left alone');
  const records = registry.list();
  assert.deepEqual(records.map((r) => r.agentId), ['live']);
  const left = readdirSync(dir).sort();
  const expected = [`${process.pid}.json`, 'notes.txt'];
  // Where /proc gives no start time the reused pid cannot be told from its agent: it stays listed.
  if (realProcessProbe.startTime(reusedPid) === null) expected.push(`${reusedPid}.json`);
  assert.deepEqual(left, expected.sort());
  live.remove();
}));

void test('registering cleans the files of agents killed without cleaning up', withDir(async (dir) => {
  mkdirSync(dir, { mode: 0o700 });
  const dead = await deadPid();
  writeFileSync(join(dir, `${dead}.json`), JSON.stringify({ v: 1, pid: dead, procStart: null, draining: false, ...entry('dead') }));
  const reg = new AgentRegistry(dir).register(entry('live'));
  assert.deepEqual(readdirSync(dir), [`${process.pid}.json`]);
  reg.remove();
}));

void test('a record whose pid is alive with the same start time is live; a different start time is not', () => {
  const registry = new AgentRegistry('/nonexistent', fakeProbe(new Map([[10, '500'], [11, null]])));
  const record = (pid: number, procStart: string | null): AgentRecord => ({ v: 1, pid, procStart, draining: false, ...entry(`a${pid}`) });
  assert.equal(registry.isLive(record(10, '500')), true);
  assert.equal(registry.isLive(record(10, '499')), false);
  assert.equal(registry.isLive(record(10, null)), true);
  assert.equal(registry.isLive(record(11, '7')), true, 'no start time to compare: alive is live');
  assert.equal(registry.isLive(record(12, '500')), false);
});

void test('selection by --agent and --pid; none given: all; a selection naming no agent lists the agents running', () => {
  const records: AgentRecord[] = [
    { v: 1, pid: 100, procStart: null, draining: false, ...entry('box-100-aa') },
    { v: 1, pid: 200, procStart: null, draining: false, ...entry('several-200', []), all: true },
  ];
  assert.deepEqual(selectAgents(records, {}).map((r) => r.pid), [100, 200]);
  assert.deepEqual(selectAgents(records, { agentId: 'several-200' }).map((r) => r.pid), [200]);
  assert.deepEqual(selectAgents(records, { pid: 100 }).map((r) => r.pid), [100]);
  assert.throws(
    () => selectAgents(records, { pid: 300 }),
    (err: unknown) => err instanceof HarrowError && err.message === 'no agent running here matches --pid 300; the agents running here are box-100-aa (pid 100), several-200 (pid 200)',
  );
  assert.throws(() => selectAgents(records, { agentId: 'box-100' }), /matches --agent box-100;/);
  assert.deepEqual(selectAgents([], { pid: 300 }), [], 'no agent at all: the caller says so');
});

void test('the default directory: per uid in /tmp (as tmux does), not under TMPDIR', () => {
  assert.equal(defaultAgentsDir(1000, '/tmp'), '/tmp/harrow-agents-1000');
  if (process.platform !== 'win32') assert.equal(defaultAgentsDir(1000), '/tmp/harrow-agents-1000');
});
