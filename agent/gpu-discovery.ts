/**
 * `harrow agent --gpus all`: the box's GPUs as `nvidia-smi` lists them. The query is the one
 * NVIDIA documents for scripts (`--query-gpu=... --format=csv,noheader`); each line reads
 * `0, GPU-6ea5...-..., NVIDIA A100-SXM4-80GB, 81920 MiB`. The GPU ids handed to runs in
 * CUDA_VISIBLE_DEVICES are the indexes, as with `--gpus 0,1`.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { HarrowError } from '../protocol/errors.js';
import { SECOND } from '../protocol/time.js';

export interface GpuInfo {
  index: string;
  uuid: string;
  name: string;
  memory: string;
}

export const NVIDIA_SMI_ARGS = ['--query-gpu=index,uuid,name,memory.total', '--format=csv,noheader'] as const;
/** nvidia-smi answers in well under a second; a hung driver must not hang the agent's start. */
const NVIDIA_SMI_TIMEOUT_MS = 30 * SECOND;

/** The GPUs in `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader` output. */
export function parseNvidiaSmi(stdout: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const fields = line.split(',').map((f) => f.trim());
    // A name never holds a comma in NVIDIA's list, but take everything between uuid and memory as the name anyway.
    const [index, uuid] = fields;
    const memory = fields.at(-1);
    if (fields.length < 4 || index === undefined || !/^\d+$/.test(index) || uuid === undefined || memory === undefined) {
      throw new HarrowError('INVALID_CONFIG', `--gpus all: cannot read this line of nvidia-smi's GPU list: '${line.slice(0, 200)}'; list the GPUs with --gpus 0,1,... instead`);
    }
    gpus.push({ index, uuid, name: fields.slice(2, -1).join(', '), memory });
  }
  return gpus;
}

/**
 * Runs nvidia-smi (found on PATH of `env`) and returns the box's GPUs. Throws a HarrowError saying
 * what to do when nvidia-smi is missing, fails (no driver), or finds no GPU.
 */
export async function discoverGpus(env: Record<string, string | undefined> = process.env): Promise<GpuInfo[]> {
  const { stdout, stderr, error } = await new Promise<{ stdout: string; stderr: string; error: ExecFileException | null }>((resolve) => {
    execFile('nvidia-smi', [...NVIDIA_SMI_ARGS], { env, timeout: NVIDIA_SMI_TIMEOUT_MS, encoding: 'utf8' }, (err, out, errOut) =>
      resolve({ stdout: out, stderr: errOut, error: err }),
    );
  });
  if (error?.code === 'ENOENT') {
    throw new HarrowError(
      'INVALID_CONFIG',
      '--gpus all: nvidia-smi is not on PATH, so this box has no NVIDIA driver (or PATH lacks it): install the driver, or list the GPUs with --gpus 0,1,... , or leave --gpus out to run without GPUs',
    );
  }
  // nvidia-smi prints "No devices were found" (exit 6) on a box with a driver and no GPU.
  const said = `${stdout}\n${stderr}`.trim();
  if (/no devices were found/i.test(said)) {
    throw new HarrowError('INVALID_CONFIG', '--gpus all: nvidia-smi found no GPU on this box; leave --gpus out to run without GPUs');
  }
  if (error) {
    const why = said.split('\n')[0]?.slice(0, 300) || error.message;
    throw new HarrowError('INVALID_CONFIG', `--gpus all: nvidia-smi failed (${why}); check the NVIDIA driver, or list the GPUs with --gpus 0,1,...`);
  }
  const gpus = parseNvidiaSmi(stdout);
  if (gpus.length === 0) {
    throw new HarrowError('INVALID_CONFIG', '--gpus all: nvidia-smi found no GPU on this box; leave --gpus out to run without GPUs');
  }
  return gpus;
}
