/**
 * Random mutations of the repo's sweep files (examples/ and test/fixtures/sweeps/), posted to a
 * real controller as `harrow create` posts them. For every file: no 5xx, no request over 2 s, and
 * the API's verdict is the one `harrow validate` (the same parser, run locally on the bytes)
 * gives: created when valid, with the same normalized spec; 400 INVALID_SWEEP_CONFIG when not.
 *
 * Seeded: the seed is printed, and HARROW_FUZZ_SEED=N replays a run (HARROW_FUZZ_COUNT=N runs
 * more or fewer files; at least 500 by default).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Rng } from '../../../strategies/space/rng.js';
import { validateSweepConfig } from '../../../strategies/index.js';
import { needServices } from '../../helpers/services.js';
import { ROOT } from '../../helpers/processes.js';
import { http, startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();

const SEED = Number(process.env.HARROW_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(process.env.HARROW_FUZZ_COUNT ?? 500);
const SLOW_MS = 2000;

function corpus(): Array<{ name: string; bytes: Buffer }> {
  const files: Array<{ name: string; bytes: Buffer }> = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ya?ml|json|bin)$/.test(entry)) files.push({ name: path.slice(ROOT.length), bytes: readFileSync(path) });
    }
  };
  walk(join(ROOT, 'examples'));
  walk(join(ROOT, 'test/fixtures/sweeps'));
  return files;
}

/** Fragments that have broken parsers and storage before: escapes, huge numbers, YAML syntax. */
const TOKENS = [
  '"\\0"', '"\\ud800"', '"\\udfff"', '\u0000', '\ufeff', '😀', '2147483648', '9007199254740993', '-1', '0', '1e309', '-.inf', '.nan',
  '~', 'null', '&a', '*a', '<<: *a', '{', '}', '[', ']', ':', '- ', '? ', '!!binary', '!!float', '!!int', '!!str', '|', '>', '#', "'", '"',
  '${args}', '${env}', '${program}', '${args_json_file}', '${nope}', 'distribution: ', 'values: ', 'min: ', 'max: ', 'q: ', 'parameters:',
  'method: grid', 'method: bayes', 'run_cap: ', 'early_terminate: {type: hyperband, min_iter: 1}', '__proto__', 'constructor', '\t', '\r\n',
];

function mutate(rng: Rng, files: Array<{ bytes: Buffer }>, source: Buffer): Buffer {
  let b = Buffer.from(source);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length === 0 ? 0 : rng.int(b.length + 1);
    switch (rng.int(8)) {
      case 0: // flip one byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] = rng.int(256);
        break;
      case 1: // insert a few random bytes
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + rng.int(4) }, () => rng.int(256))), b.subarray(at)]);
        break;
      case 2: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(40)))]);
        break;
      case 3: // duplicate a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + rng.int(80)), b.subarray(at)]);
        break;
      case 4: {
        // splice in a piece of another file
        const other = files[rng.int(files.length)]!.bytes;
        const from = rng.int(Math.max(1, other.length));
        b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + rng.int(200)), b.subarray(at)]);
        break;
      }
      case 5: // insert a token
        b = Buffer.concat([b.subarray(0, at), Buffer.from(TOKENS[rng.int(TOKENS.length)]!), b.subarray(at)]);
        break;
      case 6: {
        // replace a word (scalar) by a token
        const text = b.toString('latin1');
        const words = [...text.matchAll(/[A-Za-z0-9_.-]+/g)];
        const w = words[rng.int(Math.max(1, words.length))];
        if (w) b = Buffer.concat([b.subarray(0, w.index), Buffer.from(TOKENS[rng.int(TOKENS.length)]!), b.subarray(w.index + w[0].length)]);
        break;
      }
      default: {
        // swap two lines
        const lines = b.toString('latin1').split('\n');
        if (lines.length > 1) {
          const i = rng.int(lines.length);
          const j = rng.int(lines.length);
          [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        }
        b = Buffer.from(lines.join('\n'), 'latin1');
      }
    }
  }
  return b;
}

describe(`sweep files fuzzed against the API (seed ${SEED}, ${COUNT} files)`, { ...opts, timeout: 600_000 }, () => {
  let c: TestController;
  before(async () => {
    c = await startTestController();
  });
  after(async () => {
    await c?.close();
  });

  test('no 5xx, no request over 2 s, and the same verdict as harrow validate', async () => {
    console.log(`sweep fuzz: seed ${SEED} (replay with HARROW_FUZZ_SEED=${SEED}), ${COUNT} files`);
    const files = corpus();
    assert.ok(files.length >= 50, `corpus has only ${files.length} files`);
    const rng = Rng.from(SEED);
    const failures: string[] = [];
    let valid = 0;
    let slowest = 0;
    for (let i = 0; i < COUNT; i++) {
      const source = files[rng.int(files.length)]!;
      const bytes = mutate(rng, files, source.bytes);
      // `harrow validate` reads bytes; `harrow create` reads the file as UTF-8 text and posts it as JSON.
      const local = validateSweepConfig(new Uint8Array(bytes));
      const asYaml = rng.int(2) === 0;
      const started = performance.now();
      const res = asYaml
        ? await http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: bytes })
        : await http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ config: bytes.toString('utf8') }) });
      const ms = performance.now() - started;
      slowest = Math.max(slowest, ms);
      const what = `#${i} (mutated ${source.name}, posted as ${asYaml ? 'YAML' : 'JSON'}): ${JSON.stringify(bytes.toString('utf8').slice(0, 300))}`;
      const body = res.body as { code?: string; spec?: unknown; message?: string };
      if (res.status >= 500) failures.push(`${what}\n  answered ${res.status}: ${res.text.slice(0, 300)}`);
      else if (ms > SLOW_MS) failures.push(`${what}\n  took ${ms.toFixed(0)} ms`);
      else if (local.valid) {
        valid++;
        if (res.status !== 201) failures.push(`${what}\n  harrow validate: valid; API: ${res.status} ${res.text.slice(0, 300)}`);
        // Key order aside (jsonb sorts keys), the stored spec is the one validate computed.
        else if (!isDeepStrictEqual(body.spec, JSON.parse(JSON.stringify(local.spec)))) failures.push(`${what}\n  the API normalized it differently from harrow validate`);
      } else if (res.status !== 400 || body.code !== 'INVALID_SWEEP_CONFIG') {
        failures.push(`${what}\n  harrow validate: ${local.errors.map((e) => `${e.path}: ${e.message}`).join('; ').slice(0, 300)}; API: ${res.status} ${res.text.slice(0, 300)}`);
      }
    }
    console.log(`sweep fuzz: ${COUNT} files, ${valid} valid, slowest request ${slowest.toFixed(0)} ms, ${failures.length} failures`);
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${COUNT} files failed (seed ${SEED})`);
  });
});
