/**
 * The `harrow` entry point as a user meets it, through bin/harrow: every verb takes --json, typos
 * get a "did you mean", and a reader that leaves early (`| head`) causes no stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { verbs } from '../../../cli/commands/index.js';

const BIN = fileURLToPath(new URL('../../../../bin/harrow', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../../examples/sweep.yaml', import.meta.url));

function harrow(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', HARROW_URL: 'http://127.0.0.1:9' } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

void test('every verb accepts --json and documents it', async () => {
  assert.ok(verbs.length >= 16);
  for (const verb of verbs) {
    // Strict parsing reports the first unknown option: --json must not be it. The unknown one
    // stops every verb before it does anything (no server is started, no request is sent).
    const r = await harrow([verb.name, '--json', '--no-such-option']);
    assert.equal(r.code, 2, `${verb.name}: ${r.stderr}`);
    assert.match(r.stderr, /Unknown option '--no-such-option'/, verb.name);
    assert.doesNotMatch(r.stderr, /Unknown option '--json'/, verb.name);
    assert.match((await verb.load()).usage, /--json/, `${verb.name}'s usage mentions --json`);
  }
});

void test('did you mean: a mistyped verb or option names the closest one', async () => {
  const verb = await harrow(['stauts']);
  assert.equal(verb.code, 2);
  assert.match(verb.stderr, /^harrow: unknown command 'stauts'\. Did you mean 'status'\?/);
  const far = await harrow(['frobnicate']);
  assert.doesNotMatch(far.stderr, /Did you mean/);
  const option = await harrow(['runs', 'k3x9q2ab', '--sotr', 'metric']);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /^harrow runs: Unknown option '--sotr'; did you mean --sort\?/);
  const agent = await harrow(['agent', 'k3x9q2ab', '--concurency', '2']);
  assert.match(agent.stderr, /did you mean --concurrency\?/);
});

void test('piped into a reader that leaves early (`| head -1`): exit 0, no EPIPE stack trace', async () => {
  // Enough output to outlast the pipe's buffer, from a verb that needs no server.
  const child = spawn(process.execPath, [BIN, 'preview', EXAMPLE, '-n', '5000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});
