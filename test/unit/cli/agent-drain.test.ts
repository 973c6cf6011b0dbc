/**
 * `harrow agent --drain` through bin/harrow, against stand-in agents: small processes that
 * register in the registry as an agent does and record each SIGUSR2 they get. The real agents
 * and their runs are drained in test/e2e/checkpoints.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentRegistry } from '../../../agent/agent-registry.js';

const BIN = fileURLToPath(new URL('../../../../bin/harrow', import.meta.url));
const REGISTRY = fileURLToPath(new URL('../../../agent/agent-registry.js', import.meta.url));

function harrow(args: string[], agentsDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', HARROW_AGENTS_DIR: agentsDir } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * A stand-in agent: registers as `agentId`, appends a line to `log` on each SIGUSR2, marks itself
 * draining as the agent does, and exits `exitAfterMs` after the first (never when null).
 */
async function standIn(dir: string, agentId: string, log: string, exitAfterMs: number | null): Promise<ChildProcess> {
  const script = `
    const { appendFileSync } = await import('node:fs');
    const { AgentRegistry } = await import(${JSON.stringify(REGISTRY)});
    let reg;
    process.on('SIGUSR2', () => {
      appendFileSync(${JSON.stringify(log)}, 'USR2\\n');
      reg.markDraining();
      if (${exitAfterMs} !== null) setTimeout(() => { reg.remove(); process.exit(0); }, ${exitAfterMs ?? 0});
    });
    reg = new AgentRegistry(${JSON.stringify(dir)}).register({ agentId: ${JSON.stringify(agentId)}, sweeps: ['k3x9q2ab'], all: false, transport: 'http', host: 'box', startedAt: new Date().toISOString() });
    console.log('ready');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`stand-in agent exited (${code})`)));
  });
  return child;
}

function signals(log: string): number {
  try {
    return readFileSync(log, 'utf8').split('\n').filter((l) => l === 'USR2').length;
  } catch {
    return 0;
  }
}

function withDir(fn: (root: string, dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'harrow-drain-'));
    try {
      await fn(root, join(root, 'agents'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

void test('bad combinations are usage errors (exit 2) that say what to do', async () => {
  const dir = join(tmpdir(), 'harrow-drain-never-made');
  const cases: Array<[string[], RegExp]> = [
    [['--drain', 'k3x9q2ab'], /--drain drains the agents running on this box and takes no sweep \(got 'k3x9q2ab'\); pick one agent with --agent ID or --pid PID/],
    [['--drain', '--gpus', '0,1'], /--drain takes only --agent, --pid, --no-wait, --timeout and --json \(got --gpus\)/],
    [['--drain', '--all'], /\(got --all\)/],
    [['--drain', '--server', 'http://x:8080'], /\(got --server\)/],
    [['--drain', '--agent', 'a', '--pid', '12'], /give --agent ID or --pid PID, not both/],
    [['--drain', '--pid', 'x'], /--pid must be a whole number ≥ 1 \(got 'x'\)/],
    [['--drain', '--timeout', '30'], /--timeout takes a duration with its unit, such as 90s, 5m or 1h \(got '30'\)/],
    [['--drain', '--no-wait', '--timeout', '1m'], /leave out one of them/],
    [['k3x9q2ab', '--pid', '12'], /--pid goes with --drain/],
    [['--no-wait'], /--no-wait goes with --drain/],
  ];
  for (const [args, message] of cases) {
    const r = await harrow(['agent', ...args], dir);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

void test('no agent running: says so and where it looked, exit 1; --json prints an empty list', withDir(async (_root, dir) => {
  const r = await harrow(['agent', '--drain'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`no agent is running on this box to drain \\(none registered in ${dir};`));
  const j = await harrow(['agent', '--drain', '--json'], dir);
  assert.equal(j.code, 1);
  assert.deepEqual(JSON.parse(j.stdout), { agentsDir: dir, agents: [], waited: true, timedOut: false });
}));

void test('drains every agent here, waits for them to exit, and prints which; a stale file is not signalled', withDir(async (root, dir) => {
  const a = await standIn(dir, 'box-1-aa', join(root, 'a.log'), 300);
  const b = await standIn(dir, 'box-2-bb', join(root, 'b.log'), 600);
  // A crashed agent's file: its pid is gone.
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => dead.once('exit', resolve));
  new AgentRegistry(dir, { alive: () => true, startTime: () => null }).register({ agentId: 'box-dead', sweeps: [], all: true, transport: 'redis', host: 'box', startedAt: '2020-01-01T00:00:00.000Z' }, dead.pid);
  try {
    const r = await harrow(['agent', '--drain', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { agents: Array<{ agentId: string; pid: number; exited: boolean; alreadyDraining: boolean; transport: string }> };
    assert.deepEqual(out.agents.map((x) => [x.agentId, x.pid, x.exited, x.alreadyDraining, x.transport]), [
      ['box-1-aa', a.pid, true, false, 'http'],
      ['box-2-bb', b.pid, true, false, 'http'],
    ]);
    assert.equal(r.stderr, '', 'with --json, stderr only for what went wrong');
    assert.equal(a.exitCode, 0);
    assert.equal(b.exitCode, 0);
    assert.equal(signals(join(root, 'a.log')), 1);
    assert.deepEqual(new AgentRegistry(dir).list(), [], 'the stale file was cleaned, the agents removed theirs');
  } finally {
    a.kill('SIGKILL');
    b.kill('SIGKILL');
  }
}));

void test('--pid and --agent pick one; --no-wait returns at once; a draining agent is not signalled again; --timeout gives up with exit 1', withDir(async (root, dir) => {
  const a = await standIn(dir, 'box-1-aa', join(root, 'a.log'), null);
  const b = await standIn(dir, 'box-2-bb', join(root, 'b.log'), null);
  try {
    const one = await harrow(['agent', '--drain', '--pid', String(b.pid), '--no-wait'], dir);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stderr, new RegExp(`draining agent box-2-bb \\(pid ${b.pid}, sweep k3x9q2ab, over HTTP\\)`));
    assert.match(one.stderr, /asked 1 agent to drain; not waiting/);
    await sleep(300);
    assert.equal(signals(join(root, 'b.log')), 1);
    assert.equal(signals(join(root, 'a.log')), 0, 'the other agent is left alone');

    const again = await harrow(['agent', '--drain', '--agent', 'box-2-bb', '--timeout', '1s'], dir);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /agent box-2-bb .* is already draining/);
    assert.match(again.stderr, new RegExp(`still draining after the --timeout: box-2-bb \\(pid ${b.pid}\\)`));
    assert.equal(signals(join(root, 'b.log')), 1, 'a second drain does not signal it again');

    const none = await harrow(['agent', '--drain', '--agent', 'box-9'], dir);
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`no agent running here matches --agent box-9; the agents running here are box-1-aa \\(pid ${a.pid}\\), box-2-bb \\(pid ${b.pid}\\)`));
  } finally {
    a.kill('SIGKILL');
    b.kill('SIGKILL');
  }
}));
