/**
 * `--gpus all` reads nvidia-smi. CI has no GPU: a fixture nvidia-smi (test/fixtures/nvidia-smi)
 * on PATH prints what a real one prints for the agent's query.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { discoverGpus, parseNvidiaSmi } from '../../../agent/gpu-discovery.js';
import { ROOT } from '../../helpers/processes.js';

const FIXTURES = join(ROOT, 'test/fixtures/nvidia-smi');
const fakeEnv = (output: string, exit = 0) => ({
  PATH: `${FIXTURES}:${dirname(process.execPath)}:/usr/bin:/bin`,
  FAKE_NVIDIA_SMI_OUTPUT: join(FIXTURES, output),
  FAKE_NVIDIA_SMI_EXIT: String(exit),
});

void test('parseNvidiaSmi reads the csv,noheader lines of a real nvidia-smi', () => {
  const gpus = parseNvidiaSmi(readFileSync(join(FIXTURES, 'four-a100.csv'), 'utf8'));
  assert.deepEqual(gpus.map((g) => g.index), ['0', '1', '2', '3']);
  assert.deepEqual(gpus[0], { index: '0', uuid: 'GPU-8c1f3a52-7d4e-2b9a-61f0-3e5d9c7a4b21', name: 'NVIDIA A100-SXM4-80GB', memory: '81920 MiB' });
  assert.throws(() => parseNvidiaSmi('garbage\n'), /cannot read this line of nvidia-smi's GPU list: 'garbage'/);
});

void test('discoverGpus: the GPUs of the fixture nvidia-smi on PATH', async () => {
  const gpus = await discoverGpus(fakeEnv('four-a100.csv'));
  assert.deepEqual(gpus.map((g) => `${g.index} ${g.name}`), ['0 NVIDIA A100-SXM4-80GB', '1 NVIDIA A100-SXM4-80GB', '2 NVIDIA A100-SXM4-80GB', '3 NVIDIA A100-SXM4-80GB']);
});

void test('discoverGpus says clearly when there is no GPU, no driver, or no nvidia-smi', async () => {
  // What a real nvidia-smi prints on a box without GPUs (exit code 6).
  await assert.rejects(discoverGpus(fakeEnv('no-devices.txt', 6)), /--gpus all: nvidia-smi found no GPU on this box; leave --gpus out/);
  await assert.rejects(discoverGpus(fakeEnv('no-driver.txt', 9)), /--gpus all: nvidia-smi failed \(NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/);
  await assert.rejects(discoverGpus({ PATH: dirname(process.execPath) }), /--gpus all: nvidia-smi is not on PATH/);
});
