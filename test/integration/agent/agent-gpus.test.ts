/**
 * Several GPUs per run, through the real CLI agent (`harrow agent SWEEP --gpus all`) in its own
 * process, over Redis and over HTTP (`--server`, against a controller in this process). CI has
 * no GPU: the agent finds "its" GPUs with the fixture nvidia-smi on PATH (real output format,
 * test/fixtures/nvidia-smi), and each run records the CUDA_VISIBLE_DEVICES it saw.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { ListRunsResponseSchema, SweepDetailSchema } from '../../../protocol/api.js';
import { AgentPresenceSchema } from '../../../protocol/wire.js';
import { needServices } from '../../helpers/services.js';
import { expectOk, http, postYaml, startTestController, type TestController } from '../controller/controller-harness.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClaimReport } from '../../../protocol/wire.js';
import { ROOT } from '../../helpers/processes.js';
import { AgentHarness, REDIS_URL, eventually, needRedis, nodeCommand, sleep } from './agent-harness.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/nvidia-smi');

/**
 * Appends `start <run> <CUDA_VISIBLE_DEVICES>` to the `log` param's file, waits for the file
 * `<log>.<run number>.go`, then appends `end ...` and exits 0.
 */
const GPU_RUN = `
const fs = require('fs');
const { log, n } = JSON.parse(fs.readFileSync(process.env.HARROW_PARAMS_FILE, 'utf8'));
const gpus = process.env.CUDA_VISIBLE_DEVICES === undefined ? '-' : process.env.CUDA_VISIBLE_DEVICES;
fs.appendFileSync(log, 'start ' + n + ' ' + gpus + '\\n');
const timer = setInterval(() => {
  if (fs.existsSync(log + '.' + n + '.go')) { clearInterval(timer); fs.appendFileSync(log, 'end ' + n + ' ' + gpus + '\\n'); }
}, 20);
`;

interface AgentProc {
  child: ChildProcess;
  exited: Promise<{ code: number | null; stderr: string }>;
}

function startCliAgent(h: AgentHarness, args: string[], nvidiaSmiOutput: string | null, nvidiaSmiExit = 0): AgentProc {
  return spawnAgent([h.sweepId, ...args], { REDIS_URL, HARROW_PREFIX: h.prefix }, nvidiaSmiOutput, nvidiaSmiExit);
}

/** `harrow agent SWEEP --server URL ...`: Redis is out of its reach (REDIS_URL points nowhere). */
function startHttpAgent(c: TestController, sweepId: string, args: string[], nvidiaSmiOutput: string | null): AgentProc {
  return spawnAgent([sweepId, '--server', c.url, ...args], { REDIS_URL: 'redis://127.0.0.1:1', HARROW_PREFIX: 'nothing-here', HARROW_CONTROL_POLL_MS: '200' }, nvidiaSmiOutput);
}

function spawnAgent(args: string[], env: Record<string, string>, nvidiaSmiOutput: string | null, nvidiaSmiExit = 0): AgentProc {
  const child = spawn(process.execPath, [CLI, 'agent', '--quiet', ...args], {
    env: {
      ...process.env,
      HARROW_HEARTBEAT_MS: '200',
      ...env,
      // Only the fixture nvidia-smi (or none) and node on PATH.
      PATH: [...(nvidiaSmiOutput !== null ? [FIXTURES] : []), dirname(process.execPath)].join(':'),
      FAKE_NVIDIA_SMI_OUTPUT: nvidiaSmiOutput === null ? '' : join(FIXTURES, nvidiaSmiOutput),
      FAKE_NVIDIA_SMI_EXIT: String(nvidiaSmiExit),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stderr })));
  return { child, exited };
}

/** Lines of the runs' log: which run started or ended with which GPUs, in order. */
async function events(log: string): Promise<Array<{ what: 'start' | 'end'; n: number; gpus: string[] }>> {
  if (!existsSync(log)) return [];
  return (await readFile(log, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [what, n, gpus] = l.split(' ');
      return { what: what as 'start' | 'end', n: Number(n), gpus: gpus === '-' ? [] : gpus!.split(',') };
    });
}

/** The GPUs held by live runs after each event; fails if one is ever held by two. */
function checkNoSharing(evs: Awaited<ReturnType<typeof events>>): Array<Set<string>> {
  const holder = new Map<string, number>();
  const after: Array<Set<string>> = [];
  for (const e of evs) {
    for (const g of e.gpus) {
      if (e.what === 'start') {
        assert.ok(!holder.has(g), `GPU ${g} given to run ${e.n} while run ${holder.get(g)} holds it`);
        holder.set(g, e.n);
      } else holder.delete(g);
    }
    after.push(new Set(holder.keys()));
  }
  return after;
}

void describe('agent with several GPUs per run', await needRedis(), () => {
  void test('--gpus all, gpus_per_run 2 on 4 GPUs: two runs at once, each on its own 2 GPUs; freed GPUs go to the next queued run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harrow-agent-gpus-'));
    const h = await AgentHarness.create();
    let agent: AgentProc | null = null;
    try {
      const log = join(dir, 'runs.log');
      const jobs = [];
      for (let n = 1; n <= 5; n++) jobs.push(await h.enqueue(nodeCommand(GPU_RUN), { params: { log, n }, gpusPerRun: 2 }));
      agent = startCliAgent(h, ['--gpus', 'all'], 'four-a100.csv');
      const go = (n: number) => writeFile(`${log}.${n}.go`, '');
      const live = async (count: number) =>
        eventually(`${count} runs live`, async () => {
          const evs = await events(log);
          const started = evs.filter((e) => e.what === 'start').length;
          const ended = evs.filter((e) => e.what === 'end').length;
          return started - ended === count ? evs : undefined;
        });

      let evs = await live(2);
      // Give the agent time to (wrongly) take a third run: it must not, all 4 GPUs are held.
      await sleep(500);
      evs = await events(log);
      assert.equal(evs.length, 2, 'only two runs of 2 GPUs fit on 4 GPUs');
      assert.deepEqual(new Set(evs.flatMap((e) => e.gpus)), new Set(['0', '1', '2', '3']), 'all 4 GPUs busy while runs are queued');
      for (const e of evs) assert.equal(e.gpus.length, 2, `run ${e.n} sees 2 GPUs (${e.gpus.join(',')})`);
      assert.equal(await h.queue.getWaitingCount(), 3, 'the other runs stay queued, unclaimed, for other agents');

      // Each time a run ends, the next queued run gets exactly the freed GPUs: none idles.
      const order = evs.map((e) => e.n);
      for (let i = 0; i < 3; i++) {
        const finishing = order.shift()!;
        const freed = (await events(log)).find((e) => e.what === 'start' && e.n === finishing)!.gpus;
        await go(finishing);
        evs = await eventually('the next run to start', async () => {
          const all = await events(log);
          return all.filter((e) => e.what === 'start').length === 3 + i ? all : undefined;
        });
        const next = evs.filter((e) => e.what === 'start').at(-1)!;
        assert.deepEqual(new Set(next.gpus), new Set(freed), `run ${next.n} took the GPUs run ${finishing} freed`);
        const held = checkNoSharing(evs).at(-1)!;
        assert.equal(held.size, 4, 'all 4 GPUs busy again');
        order.push(next.n);
      }
      for (const n of order) await go(n);
      await eventually('every run to end', async () => ((await events(log)).filter((e) => e.what === 'end').length === 5 ? true : undefined));
      checkNoSharing(await events(log));
      const claims = (await h.reports()).filter((r): r is ClaimReport => r.type === 'claim');
      assert.equal(claims.length, 5);
      for (const c of claims) assert.match(c.gpu ?? '', /^\d,\d$/, 'the claim names both GPUs the run holds');
      const presence = (await h.presence())[0];
      assert.equal(presence?.slots, 2, 'presence counts runs at once (2 of 2 GPUs), not GPUs');
    } finally {
      agent?.child.kill('SIGKILL');
      await agent?.exited;
      await h.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('a run needing more GPUs than the agent has is left queued, with a clear message', async () => {
    const h = await AgentHarness.create();
    try {
      const job = await h.enqueue(nodeCommand('0'), { gpusPerRun: 8 });
      const agent = startCliAgent(h, ['--gpus', '0,1'], null);
      const { code, stderr } = await agent.exited;
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`sweep ${h.sweepId} needs 8 GPUs per run \\(harrow.gpus_per_run: 8\\) and this agent has 2 \\(--gpus 0,1\\); start an agent with at least 8 GPUs`));
      assert.equal((await h.reportsOf(job.runId)).length, 0, 'not claimed');
      assert.equal(await h.queue.getWaitingCount(), 1, 'still queued for an agent with the GPUs');
    } finally {
      await h.close();
    }
  });

  void test('--gpus all without GPUs or without nvidia-smi: a clear error, exit 1', async () => {
    const h = await AgentHarness.create();
    try {
      const none = await startCliAgent(h, ['--gpus', 'all'], 'no-devices.txt', 6).exited;
      assert.equal(none.code, 1);
      assert.match(none.stderr, /--gpus all: nvidia-smi found no GPU on this box/);
      const missing = await startCliAgent(h, ['--gpus', 'all'], null).exited;
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /--gpus all: nvidia-smi is not on PATH/);
    } finally {
      await h.close();
    }
  });
});

/** A sweep of `runs` grid cells (`n` = 1, 2, ...) running GPU_RUN with `gpus_per_run`. */
async function createGpuSweep(c: TestController, dir: string, log: string, runs: number, gpusPerRun: number): Promise<string> {
  const program = join(dir, 'gpu-run.js');
  await writeFile(program, GPU_RUN);
  const yaml = [
    'method: grid',
    'metric: {name: loss, goal: minimize}',
    `program: ${JSON.stringify(program)}`,
    `command: [${JSON.stringify(process.execPath)}, "\${program}"]`,
    'parameters:',
    `  log: {value: ${JSON.stringify(log)}}`,
    `  n: {values: [${Array.from({ length: runs }, (_, i) => i + 1).join(', ')}]}`,
    'harrow:',
    `  gpus_per_run: ${gpusPerRun}`,
    '',
  ].join('\n');
  return (await expectOk(SweepDetailSchema, postYaml(c.url, '/api/sweeps', yaml), 201)).id;
}

async function runStates(c: TestController, sweepId: string): Promise<Array<{ number: number; state: string; gpu: string | null }>> {
  return (await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${sweepId}/runs?limit=100`))).runs;
}

void describe('HTTP agent with several GPUs per run', { ...(await needServices()), timeout: 120_000 }, () => {
  void test('--server --gpus all, gpus_per_run 2 on 4 GPUs: two runs at once, each on its own 2 GPUs; a claim takes only a run the free GPUs hold', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harrow-http-gpus-'));
    // Three runs queued beyond the idle slots: while the 4 GPUs are busy, runs wait to be taken.
    const c = await startTestController({ env: { HARROW_LOOKAHEAD: '3' } });
    let agent: AgentProc | null = null;
    try {
      const log = join(dir, 'runs.log');
      const sweepId = await createGpuSweep(c, dir, log, 5, 2);
      agent = startHttpAgent(c, sweepId, ['--gpus', 'all'], 'four-a100.csv');
      const go = (n: number) => writeFile(`${log}.${n}.go`, '');
      let evs = await eventually('two runs live', async () => {
        const all = await events(log);
        return all.filter((e) => e.what === 'start').length === 2 ? all : undefined;
      });
      await eventually('runs queued beside the two running', async () => ((await runStates(c, sweepId)).filter((r) => r.state === 'queued').length >= 1 ? true : undefined));
      // Give the agent time to (wrongly) take a third run: it must not, all 4 GPUs are held.
      await sleep(800);
      evs = await events(log);
      assert.equal(evs.length, 2, 'only two runs of 2 GPUs fit on 4 GPUs');
      assert.deepEqual(new Set(evs.flatMap((e) => e.gpus)), new Set(['0', '1', '2', '3']), 'all 4 GPUs busy while runs are queued');
      for (const e of evs) assert.equal(e.gpus.length, 2, `run ${e.n} sees 2 GPUs (${e.gpus.join(',')})`);
      const runs = await runStates(c, sweepId);
      assert.equal(runs.filter((r) => r.state === 'running').length, 2);
      assert.ok(runs.filter((r) => r.state === 'queued').length >= 1, 'the other runs stay queued, unclaimed, for other agents');
      const presence = Object.values(await c.redis.hgetall(c.keys.agents(sweepId))).map((v) => AgentPresenceSchema.parse(JSON.parse(v)));
      assert.equal(presence[0]?.slots, 2, 'presence counts runs at once (2 of 2 GPUs), not GPUs');

      // Each time a run ends, the next queued run gets exactly the freed GPUs: none idles.
      const order = evs.map((e) => e.n);
      for (let i = 0; i < 3; i++) {
        const finishing = order.shift()!;
        const freed = (await events(log)).find((e) => e.what === 'start' && e.n === finishing)!.gpus;
        await go(finishing);
        evs = await eventually('the next run to start', async () => {
          const all = await events(log);
          return all.filter((e) => e.what === 'start').length === 3 + i ? all : undefined;
        });
        const next = evs.filter((e) => e.what === 'start').at(-1)!;
        assert.deepEqual(new Set(next.gpus), new Set(freed), `run ${next.n} took the GPUs run ${finishing} freed`);
        assert.equal(checkNoSharing(evs).at(-1)!.size, 4, 'all 4 GPUs busy again');
        order.push(next.n);
      }
      for (const n of order) await go(n);
      await eventually('every run to end', async () => ((await events(log)).filter((e) => e.what === 'end').length === 5 ? true : undefined));
      checkNoSharing(await events(log));
      const done = await eventually('every run finished', async () => {
        const all = await runStates(c, sweepId);
        return all.length === 5 && all.every((r) => r.state === 'finished') ? all : undefined;
      });
      for (const r of done) assert.match(r.gpu ?? '', /^\d,\d$/, `run ${r.number}: the claim names both GPUs the run held`);
      const { code, stderr } = await agent.exited;
      assert.equal(code, 0, stderr);
    } finally {
      agent?.child.kill('SIGKILL');
      await agent?.exited;
      await c.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('--server: a run needing more GPUs than the agent has is left queued, with the Redis agent\'s message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harrow-http-gpus-'));
    const c = await startTestController();
    try {
      const sweepId = await createGpuSweep(c, dir, join(dir, 'runs.log'), 1, 8);
      const { code, stderr } = await startHttpAgent(c, sweepId, ['--gpus', '0,1'], null).exited;
      assert.equal(code, 1, stderr);
      assert.match(stderr, new RegExp(`sweep ${sweepId} needs 8 GPUs per run \\(harrow.gpus_per_run: 8\\) and this agent has 2 \\(--gpus 0,1\\); start an agent with at least 8 GPUs`));
      const runs = await runStates(c, sweepId);
      assert.deepEqual(runs.map((r) => r.state), ['queued'], 'not claimed: still queued for an agent with the GPUs');
      assert.equal(existsSync(join(dir, 'runs.log')), false, 'nothing ran');
    } finally {
      await c.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
