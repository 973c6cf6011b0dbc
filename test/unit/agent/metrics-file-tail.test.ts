import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsFileTail } from '../../../agent/metrics-file-tail.js';

async function withFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'harrow-tail-test-'));
  try {
    const path = join(dir, 'metrics.jsonl');
    await writeFile(path, '');
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void test('complete lines are handed over as they are appended; a partial line waits for its newline', async () => {
  await withFile(async (path) => {
    const lines: string[] = [];
    const tail = new MetricsFileTail(path, (l) => lines.push(l));
    await tail.poll();
    assert.deepEqual(lines, []);

    await appendFile(path, '{"a": 1');
    await tail.poll();
    assert.deepEqual(lines, [], 'a line without its newline is not handed over');

    await appendFile(path, '}\n{"b": 2}\n{"c"');
    await tail.poll();
    assert.deepEqual(lines, ['{"a": 1}', '{"b": 2}']);

    await appendFile(path, ': 3}\r\n');
    await tail.poll();
    assert.deepEqual(lines, ['{"a": 1}', '{"b": 2}', '{"c": 3}']);

    await tail.poll();
    assert.equal(lines.length, 3, 'nothing is handed over twice');
    await tail.close();
  });
});

void test('close() reads the rest and hands over an unterminated last line', async () => {
  await withFile(async (path) => {
    const lines: string[] = [];
    const tail = new MetricsFileTail(path, (l) => lines.push(l));
    await appendFile(path, '{"x": 1}\n{"y": 2}');
    await tail.close();
    assert.deepEqual(lines, ['{"x": 1}', '{"y": 2}']);
    await appendFile(path, '\n{"z": 3}\n');
    await tail.poll();
    await tail.close();
    assert.equal(lines.length, 2, 'a closed tail reads nothing more');
  });
});

void test('concurrent polls are serialized: every line exactly once, in order', async () => {
  await withFile(async (path) => {
    const lines: string[] = [];
    const tail = new MetricsFileTail(path, (l) => lines.push(l));
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      const line = `{"i": ${i}}`;
      expected.push(line);
      await appendFile(path, `${line}\n`);
      if (i % 7 === 0) void tail.poll();
    }
    await Promise.all([tail.poll(), tail.poll(), tail.poll()]);
    await tail.close();
    assert.deepEqual(lines, expected);
  });
});

void test('a file bigger than one read chunk is read whole', async () => {
  await withFile(async (path) => {
    const lines: string[] = [];
    const tail = new MetricsFileTail(path, (l) => lines.push(l));
    const big = Array.from({ length: 5000 }, (_, i) => `{"loss": ${i}, "pad": "${'p'.repeat(20)}"}`);
    await appendFile(path, `${big.join('\n')}\n`);
    await tail.close();
    assert.equal(lines.length, 5000);
    assert.equal(lines[4999], big[4999]);
  });
});

void test('a truncated file is read again from the start; a missing file is not an error', async () => {
  await withFile(async (path) => {
    const lines: string[] = [];
    const errors: unknown[] = [];
    const tail = new MetricsFileTail(path, (l) => lines.push(l), (e) => errors.push(e));
    await appendFile(path, '{"a": 1}\n{"b": 2}\n');
    await tail.poll();
    await truncate(path, 0);
    await appendFile(path, '{"c": 3}\n');
    await tail.poll();
    assert.deepEqual(lines, ['{"a": 1}', '{"b": 2}', '{"c": 3}']);
    await tail.close();

    const gone = new MetricsFileTail(join(path, '..', 'never-created.jsonl'), (l) => lines.push(l), (e) => errors.push(e));
    await gone.poll();
    await gone.close();
    assert.deepEqual(errors, []);
  });
});
