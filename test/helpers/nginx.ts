/**
 * A private nginx for tests: its own nginx.conf, pid, logs and temp files in a temp directory, on a
 * free loopback port, started in the foreground as a child of the test and stopped by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../cli/net.js';
import { waitFor } from './processes.js';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'];

export function nginxBin(): string | null {
  for (const path of CANDIDATES) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Next.
    }
  }
  return null;
}

/** `{}` with nginx; without it, fails in CI (CI=true) and skips with a printed reason elsewhere. */
export function needNginx(what: string): { skip?: string } {
  if (nginxBin()) return {};
  const problem = `no nginx in ${CANDIDATES.join(', ')}. Install it with: apt-get update && apt-get install -y nginx`;
  if (process.env.CI) throw new Error(`${what} needs nginx in CI: ${problem}`);
  const message = `SKIPPED ${what}: ${problem}`;
  console.error(`\n*** ${message}\n`);
  return { skip: message };
}

export interface TestNginx {
  url: string;
  dir: string;
  /** The error log so far (for failure messages). */
  errors(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts nginx with `serverBody` inside `server { listen 127.0.0.1:<free port>; ... }`, and waits
 * until it answers HTTP.
 */
export async function startNginx(serverBody: string): Promise<TestNginx> {
  const bin = nginxBin();
  if (!bin) throw new Error('nginx is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'harrow-nginx-'));
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub));
  const port = await freePort();
  // As root, nginx would hand its workers to `nobody`, who cannot write the temp directory; as
  // anyone else the `user` directive is ignored with a warning, so it is only written for root.
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : '';
  const conf = `${user}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 128; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
${serverBody}
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  await writeFile(confPath, conf);
  const errors = () => readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
  let output = '';
  const child: ChildProcess = spawn(bin, ['-e', join(dir, 'error.log'), '-p', dir, '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (exited === undefined && child.pid !== undefined) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (exited === undefined) child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'nginx to answer',
      async () => {
        if (exited !== undefined) throw new Error(`nginx exited with ${exited}: ${output}\n${await errors()}`);
        return fetch(`${url}/`).then(
          async (r) => {
            await r.body?.cancel();
            return true;
          },
          () => false,
        );
      },
      15_000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, dir, errors, stop };
}
