/**
 * A private Postgres cluster and a private Redis server, owned by one test, so that the test may
 * stop, restart and flush them: the shared servers are never touched. Postgres is a fresh cluster
 * (initdb in a temporary directory, on a free port); as root, initdb refuses to run, so the
 * cluster is made and run by the `postgres` user (runuser).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis } from '../../protocol/redis-connection.js';
import pg from 'pg';
import { openPostgres, type Database } from '../../db/database.js';
import { freePort, waitFor } from './processes.js';

/** The newest installed Postgres binaries (Debian layout), or null. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

export function redisServerBin(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

/** Why the private services cannot be made here, or null. */
export function privateServicesProblem(): string | null {
  if (!postgresBin()) return 'no Postgres binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)';
  if (!redisServerBin()) return 'no redis-server on PATH (apt-get install redis-server)';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    return 'running as root and there is no postgres user to run initdb as';
  }
  return null;
}

export interface PrivatePostgresOptions {
  /** Serve TLS (`ssl=on`) with this certificate and key (copied into the cluster, mode 0600). */
  ssl?: { cert: string; key: string };
}

export class PrivatePostgres {
  readonly dir: string;
  port = 0;
  private readonly bin: string;
  private readonly asRoot = process.getuid?.() === 0;
  private sslArgs = '';

  private constructor() {
    this.bin = postgresBin()!;
    this.dir = mkdtempSync(join(tmpdir(), 'harrow-pg-'));
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const p = new PrivatePostgres();
    const owner = p.asRoot
      ? { uid: Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()), gid: Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()) }
      : null;
    if (owner) {
      chmodSync(p.dir, 0o755);
      chownSync(p.dir, owner.uid, owner.gid);
    }
    if (options.ssl) {
      // Postgres refuses a key file others can read, and must own it.
      const cert = join(p.dir, 'server.crt');
      const key = join(p.dir, 'server.key');
      copyFileSync(options.ssl.cert, cert);
      copyFileSync(options.ssl.key, key);
      chmodSync(key, 0o600);
      if (owner) for (const f of [cert, key]) chownSync(f, owner.uid, owner.gid);
      p.sslArgs = ` -c ssl=on -c ssl_cert_file=${cert} -c ssl_key_file=${key}`;
    }
    p.run('initdb', ['-D', join(p.dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    p.port = await freePort();
    await p.resume();
    return p;
  }

  /** Starts the server (after start() or stop()), and waits until it answers. */
  async resume(): Promise<void> {
    this.run('pg_ctl', [
      '-D', join(this.dir, 'data'),
      '-l', join(this.dir, 'log'),
      '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off${this.sslArgs}`,
      '-w', 'start',
    ]);
    await waitFor('the private Postgres to answer', async () => {
      const c = new pg.Client({ connectionString: this.url });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    }, 30_000, 100);
  }

  /** Stops the server now (fast mode: connections are cut, as in an outage). */
  stop(): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  /** Stops the server and removes the cluster. */
  destroy(): void {
    try {
      this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Already stopped.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(tool: string, args: string[]): void {
    const file = join(this.bin, tool);
    const r = this.asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', file, ...args], { encoding: 'utf8' })
      : spawnSync(file, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stderr || r.stdout}`);
  }
}

export interface PrivateRedisOptions {
  /** Serve TLS only (`--tls-port`, `--port 0`) with this certificate; clients need no certificate. */
  tls?: { cert: string; key: string; ca: string };
  /** The default user's password (`--requirepass`). */
  password?: string;
}

export class PrivateRedis {
  port = 0;
  private child: ChildProcess | null = null;

  private constructor(private readonly options: PrivateRedisOptions = {}) {}

  /** The admin URL (the default user); with TLS, `rediss://` and the CA as `?ca=`. */
  get url(): string {
    const auth = this.options.password ? `:${encodeURIComponent(this.options.password)}@` : '';
    const tls = this.options.tls;
    return tls ? `rediss://${auth}127.0.0.1:${this.port}?ca=${encodeURIComponent(tls.ca)}` : `redis://${auth}127.0.0.1:${this.port}`;
  }

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const r = new PrivateRedis(options);
    r.port = await freePort();
    await r.resume();
    return r;
  }

  /** Starts redis-server without persistence: a restart loses everything, like FLUSHALL. */
  async resume(): Promise<void> {
    const { tls, password } = this.options;
    const listen = tls
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no']
      : ['--port', String(this.port)];
    const child = spawn(redisServerBin()!, [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(password ? ['--requirepass', password] : [])], {
      stdio: 'ignore',
    });
    this.child = child;
    await waitFor('the private Redis to answer', async () => {
      const c = connectRedis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } finally {
        c.disconnect();
      }
    }, 15_000, 50);
  }

  /** Kills the server (SIGKILL: no chance to save anything). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async flushall(): Promise<void> {
    const c = connectRedis(this.url);
    try {
      await c.flushall();
    } finally {
      c.disconnect();
    }
  }
}

export interface PrivateServices {
  pg: PrivatePostgres;
  /** Null when the test brings its own (Sentinel) or needs none. */
  redis: PrivateRedis | null;
  /** A small pool on the private Postgres, for the test's own reads. */
  db: Database;
  /** Closes the pool and removes both servers. */
  close(): Promise<void>;
}

/** A private Postgres cluster with a pool on it and, unless `redis` is false, a private Redis. */
export async function startPrivateServices(opts: { redis?: boolean } = {}): Promise<PrivateServices> {
  const postgres = await PrivatePostgres.start();
  const redis = opts.redis === false ? null : await PrivateRedis.start();
  const db = await openPostgres({ connectionString: postgres.url, max: 2, onError: () => undefined });
  return {
    pg: postgres,
    redis,
    db,
    close: async () => {
      await db.close();
      await redis?.kill();
      postgres.destroy();
    },
  };
}
