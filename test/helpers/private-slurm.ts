/**
 * A private single-node Slurm cluster for one test: slurm.conf in a temporary directory, slurmctld
 * and slurmd run in the foreground (-D) as children of the test, on free ports, found by every
 * Slurm command through SLURM_CONF. Authentication is `auth/none` where Slurm still ships the
 * plugin (Debian 12's 22.05 does), so no munged and no key are needed; elsewhere (or with
 * HARROW_TEST_SLURM_AUTH=munge) the test runs its own munged in the foreground with a fresh key
 * and its own socket. The node runs jobs as the test's user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './processes.js';

const PLUGIN_DIRS = ['/usr/lib/x86_64-linux-gnu/slurm-wlm', '/usr/lib/aarch64-linux-gnu/slurm-wlm', '/usr/lib/slurm-wlm', '/usr/lib64/slurm', '/usr/lib/slurm'];

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function pluginDir(): string | null {
  return PLUGIN_DIRS.find((d) => existsSync(join(d, 'auth_none.so'))) ?? null;
}

/** Why a private Slurm cannot be started here, or null. */
export function slurmProblem(): string | null {
  for (const cmd of ['slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel']) {
    if (!onPath(cmd)) return `no ${cmd} on PATH (apt-get install slurm-wlm)`;
  }
  if (!anyPluginDir()) return `no Slurm plugin directory among ${PLUGIN_DIRS.join(', ')}`;
  if (authMode() === 'munge' && !onPath('munged')) return 'this Slurm has no auth/none plugin and munged is not on PATH (apt-get install munge)';
  return null;
}

function anyPluginDir(): string | null {
  return pluginDir() ?? PLUGIN_DIRS.find((d) => existsSync(join(d, 'auth_munge.so'))) ?? null;
}

function authMode(): 'none' | 'munge' {
  const forced = process.env.HARROW_TEST_SLURM_AUTH;
  if (forced === 'munge' || forced === 'none') return forced;
  return pluginDir() ? 'none' : 'munge';
}

export class PrivateSlurm {
  readonly dir: string;
  readonly conf: string;
  private readonly children: ChildProcess[] = [];
  private readonly logs: string[] = [];

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'harrow-slurm-'));
    // slurmd and the jobs read the batch script and write output as the job's user.
    chmodSync(this.dir, 0o755);
    this.conf = join(this.dir, 'slurm.conf');
  }

  /** Environment for Slurm commands (and for an agent that submits to this cluster). */
  get env(): Record<string, string> {
    return { SLURM_CONF: this.conf };
  }

  static async start(cpus = 2): Promise<PrivateSlurm> {
    const s = new PrivateSlurm();
    const user = userInfo().username;
    for (const d of ['state', 'spool']) mkdirSync(join(s.dir, d));
    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    const auth = authMode();
    let authLines = ['AuthType=auth/none', 'CredType=cred/none'];
    if (auth === 'munge') {
      const keyDir = join(s.dir, 'munge');
      const sockDir = join(s.dir, 'munge-socket');
      mkdirSync(keyDir, { mode: 0o700 });
      mkdirSync(sockDir, { mode: 0o755 });
      writeFileSync(join(keyDir, 'munge.key'), randomBytes(1024), { mode: 0o400 });
      const socket = join(sockDir, 'munge.sock');
      s.daemon('munged', [
        '--foreground', '--force', `--key-file=${join(keyDir, 'munge.key')}`, `--socket=${socket}`,
        `--pid-file=${join(keyDir, 'munged.pid')}`, `--seed-file=${join(keyDir, 'munged.seed')}`, `--log-file=${join(keyDir, 'munged.log')}`,
      ]);
      await waitFor('munged', () => Promise.resolve(existsSync(socket)), 10_000, 100);
      authLines = ['AuthType=auth/munge', 'CredType=cred/munge', `AuthInfo=socket=${socket}`];
    }
    writeFileSync(
      s.conf,
      [
        'ClusterName=harrowtest',
        'SlurmctldHost=localhost',
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        `SlurmUser=${user}`,
        `SlurmdUser=${user}`,
        `PluginDir=${anyPluginDir()}`,
        ...authLines,
        'MpiDefault=none',
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core',
        `StateSaveLocation=${join(s.dir, 'state')}`,
        `SlurmdSpoolDir=${join(s.dir, 'spool')}`,
        `SlurmctldPidFile=${join(s.dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${join(s.dir, 'slurmd.pid')}`,
        'ReturnToService=2',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'JobCompType=jobcomp/none',
        // Ended jobs stay visible to `scontrol show job` long enough for the agent to read their end.
        'MinJobAge=600',
        // scancel: SIGTERM, then SIGKILL after this many seconds.
        'KillWait=2',
        'SchedulerParameters=sched_interval=1',
        `NodeName=localhost CPUs=${cpus} State=UNKNOWN`,
        'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    try {
      s.daemon('slurmctld', ['-D', '-i', '-f', s.conf]);
      s.daemon('slurmd', ['-D', '-f', s.conf]);
      await waitFor(
        'the private Slurm node to be idle',
        () => {
          const r = spawnSync('sinfo', ['--noheader', '--format=%t'], { env: { ...process.env, ...s.env }, encoding: 'utf8' });
          return Promise.resolve(r.status === 0 && /^idle/m.test(r.stdout));
        },
        30_000,
        250,
      );
    } catch (err) {
      await s.destroy();
      throw new Error(`${(err as Error).message}\n${s.log()}`, { cause: err });
    }
    return s;
  }

  /** Runs a Slurm command against this cluster; throws with its stderr when it fails. */
  cmd(command: string, args: string[]): string {
    const r = spawnSync(command, args, { env: { ...process.env, ...this.env }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }

  /** The daemons' output, for a failing test's message. */
  log(): string {
    return this.logs.join('').slice(-4000);
  }

  /** Cancels every job, stops the daemons, removes the directory. */
  async destroy(): Promise<void> {
    spawnSync('scancel', ['--user', userInfo().username], { env: { ...process.env, ...this.env } });
    await new Promise((r) => setTimeout(r, 500));
    await Promise.all(
      this.children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        const killer = setTimeout(() => c.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  private daemon(name: string, args: string[]): void {
    const child = spawn(name, args, { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => {
      this.logs.push(`[${name}] ${d.toString()}`);
      if (this.logs.length > 200) this.logs.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => this.logs.push(`[${name}] ${err.message}\n`));
    this.children.push(child);
  }
}
