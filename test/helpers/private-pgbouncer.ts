/**
 * A private PgBouncer in front of a private Postgres cluster, owned by one test, in the pool mode
 * the test asks for. PgBouncer refuses to run as root, so as root it runs as the `postgres` user,
 * like the cluster behind it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, waitFor } from './processes.js';

export const PGBOUNCER = '/usr/sbin/pgbouncer';
export type PoolMode = 'session' | 'transaction' | 'statement';

export function pgbouncerProblem(): string | null {
  return existsSync(PGBOUNCER) ? null : `no ${PGBOUNCER} (apt-get install pgbouncer)`;
}

export class PrivatePgBouncer {
  readonly dir = mkdtempSync(join(tmpdir(), 'harrow-pgbouncer-'));
  port = 0;
  private child: ChildProcess | null = null;

  /** Clients connect here; `postgres` is the database behind it. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /**
   * `poolSize` server connections at most, whatever the number of clients: with fewer servers
   * than clients, consecutive transactions of one client land on different server sessions.
   */
  static async start(postgresPort: number, mode: PoolMode, poolSize: number): Promise<PrivatePgBouncer> {
    const b = new PrivatePgBouncer();
    b.port = await freePort();
    const ini = join(b.dir, 'pgbouncer.ini');
    writeFileSync(join(b.dir, 'userlist.txt'), '"postgres" ""\n');
    writeFileSync(
      ini,
      [
        '[databases]',
        `postgres = host=127.0.0.1 port=${postgresPort} dbname=postgres user=postgres`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${b.port}`,
        'unix_socket_dir =',
        'auth_type = trust',
        `auth_file = ${join(b.dir, 'userlist.txt')}`,
        `pool_mode = ${mode}`,
        `default_pool_size = ${poolSize}`,
        'max_client_conn = 500',
        `logfile = ${join(b.dir, 'pgbouncer.log')}`,
        '',
      ].join('\n'),
    );
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      chmodSync(b.dir, 0o755);
      const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      for (const f of ['', 'pgbouncer.ini', 'userlist.txt']) chownSync(join(b.dir, f), uid, gid);
    }
    b.child = asRoot
      ? spawn('runuser', ['-u', 'postgres', '--', PGBOUNCER, ini], { stdio: 'ignore' })
      : spawn(PGBOUNCER, [ini], { stdio: 'ignore' });
    await waitFor('the private PgBouncer to answer', async () => {
      const c = new pg.Client({ connectionString: b.url });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => undefined);
      }
    }, 15_000, 100);
    return b;
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'pgbouncer.log'), 'utf8');
    } catch {
      return '';
    }
  }

  destroy(): void {
    // runuser forwards the signal to pgbouncer.
    this.child?.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
