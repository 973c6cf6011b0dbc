import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GpuPool } from '../../../agent/gpu-pool.js';

void test('GpuPool: runs take disjoint GPUs, lowest listed first; a run that does not fit gets null', () => {
  const pool = new GpuPool(['0', '1', '2', '3']);
  const a = pool.take(2);
  const b = pool.take(1);
  assert.deepEqual(a, ['0', '1']);
  assert.deepEqual(b, ['2']);
  assert.equal(pool.take(2), null, 'one GPU left');
  assert.equal(pool.freeCount, 1);
  pool.release(a);
  // Freed GPUs come back in listed order, wherever they were released.
  assert.deepEqual(pool.take(3), ['0', '1', '3']);
  assert.equal(pool.freeCount, 0);
  assert.throws(() => pool.release(['7']), /GPU 7 released but not held/);
  assert.throws(() => pool.take(0), /whole number of GPUs/);
});

void test('GpuPool: whatever the order of takes and releases, no GPU is held twice', () => {
  const pool = new GpuPool(['a', 'b', 'c', 'd', 'e']);
  const held: string[][] = [];
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let i = 0; i < 2000; i++) {
    if (held.length > 0 && rand(2) === 0) pool.release(held.splice(rand(held.length), 1)[0]!);
    else {
      const got = pool.take(1 + rand(3));
      if (got) held.push(got);
    }
    const all = held.flat();
    assert.equal(new Set(all).size, all.length);
    assert.equal(all.length + pool.freeCount, 5);
  }
});
