/**
 * A private Sentinel-managed Redis owned by one test: a master, one replica and three Sentinels
 * (quorum 2), each on its own free port on 127.0.0.1, with their files in a temporary directory.
 * The shared Redis is never touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './processes.js';

export const MASTER_NAME = 'harrow-test';

export function sentinelProblem(): string | null {
  for (const tool of ['redis-server', 'redis-sentinel']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `no ${tool} on PATH (apt-get install redis-server redis-sentinel)`;
  }
  return null;
}

async function answers(port: number): Promise<boolean> {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

export class SentinelRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'harrow-sentinel-'));
  readonly dataPorts: number[] = [];
  readonly sentinelPorts: number[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly dataServers = new Map<number, ChildProcess>();

  /** The REDIS_URL every Harrow process is given. */
  get url(): string {
    return `redis+sentinel://${this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER_NAME}`;
  }

  static async start(): Promise<SentinelRedis> {
    const s = new SentinelRedis();
    try {
      for (let i = 0; i < 2; i++) s.dataPorts.push(await freePort());
      for (let i = 0; i < 3; i++) s.sentinelPorts.push(await freePort());
      const [master, replica] = s.dataPorts as [number, number];
      s.spawnData(master, []);
      s.spawnData(replica, ['--replicaof', '127.0.0.1', String(master)]);
      for (const port of s.sentinelPorts) {
        // Sentinel rewrites its configuration file, so each gets its own, writable.
        const conf = join(s.dir, `sentinel-${port}.conf`);
        writeFileSync(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${s.dir}`,
            `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master} 2`,
            `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
            `sentinel failover-timeout ${MASTER_NAME} 5000`,
            `sentinel parallel-syncs ${MASTER_NAME} 1`,
            '',
          ].join('\n'),
        );
        s.children.push(spawn('redis-sentinel', [conf], { stdio: 'ignore' }));
      }
      await waitFor('the Sentinels to know the replica and each other', async () => {
        for (const port of s.sentinelPorts) {
          if (!(await answers(port))) return false;
          const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
          try {
            const replicas = (await c.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
            const peers = (await c.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
            if (replicas.length < 1 || peers.length < 2) return false;
          } finally {
            c.disconnect();
          }
        }
        const r = new Redis({ port: replica, host: '127.0.0.1', maxRetriesPerRequest: 1 });
        try {
          return /master_link_status:up/.test(await r.info('replication'));
        } finally {
          r.disconnect();
        }
      }, 60_000, 250);
      return s;
    } catch (err) {
      s.destroy();
      throw err;
    }
  }

  private spawnData(port: number, extra: string[]): void {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...extra];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.children.push(child);
    this.dataServers.set(port, child);
  }

  /**
   * SIGKILLs the master: the Sentinels see it down after 1 s and promote the replica. Resolves
   * once the new master accepts writes. The old master stays dead.
   */
  async killMaster(): Promise<{ from: number; to: number }> {
    const from = await this.masterPort();
    const child = this.dataServers.get(from)!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    return { from, to: await this.newMaster(from) };
  }

  private newMaster(from: number): Promise<number> {
    return waitFor('the new master', async () => {
      const port = await this.masterPort();
      if (port === from) return false;
      const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      try {
        return /role:master/.test(await c.info('replication')) ? port : false;
      } finally {
        c.disconnect();
      }
    }, 30_000, 100);
  }

  /** The port of the master, as the first Sentinel sees it. */
  async masterPort(): Promise<number> {
    const c = new Redis({ port: this.sentinelPorts[0]!, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    try {
      const addr = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
      return Number(addr[1]);
    } finally {
      c.disconnect();
    }
  }

  /**
   * `SENTINEL FAILOVER`: the replica becomes master, the old master its replica. Resolves once
   * the Sentinels name the new master and it accepts writes.
   */
  async failover(): Promise<{ from: number; to: number }> {
    const from = await this.masterPort();
    await waitFor('a failover to be accepted', async () => {
      const c = new Redis({ port: this.sentinelPorts[0]!, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      try {
        // Refused while a previous failover's replica is still syncing: try again.
        return (await c.call('SENTINEL', 'FAILOVER', MASTER_NAME)) === 'OK';
      } catch {
        return false;
      } finally {
        c.disconnect();
      }
    }, 30_000, 500);
    return { from, to: await this.newMaster(from) };
  }

  /** A direct connection to the current master (for the test's own reads). */
  async master(): Promise<Redis> {
    return new Redis({ port: await this.masterPort(), host: '127.0.0.1', maxRetriesPerRequest: 1 });
  }

  destroy(): void {
    for (const c of this.children) c.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
