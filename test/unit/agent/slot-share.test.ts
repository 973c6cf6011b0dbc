import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocate, SlotShare, type ShareInput } from '../../../agent/slot-share.js';

const m = (sweepId: string, o: Partial<ShareInput> = {}): ShareInput => ({ sweepId, cost: 1, running: 0, waiting: 10, priority: 0, maxSlots: null, lastGrant: 0, ...o });
const obj = (a: Map<string, number>) => Object.fromEntries(a);

void test('equal sweeps share the slots equally; an odd slot goes to the one granted longest ago', () => {
  assert.deepEqual(obj(allocate(4, [m('a'), m('b')])), { a: 2, b: 2 });
  assert.deepEqual(obj(allocate(3, [m('a', { lastGrant: 5 }), m('b', { lastGrant: 2 })])), { a: 1, b: 2 });
  // Slots already held count: b holds 2, so the free ones go to a.
  assert.deepEqual(obj(allocate(4, [m('a'), m('b', { running: 2 })])), { a: 2, b: 2 });
});

void test('a higher priority takes every free slot it has runs for; the rest go to the lower one', () => {
  assert.deepEqual(obj(allocate(4, [m('a'), m('b', { priority: 2 })])), { a: 0, b: 4 });
  assert.deepEqual(obj(allocate(4, [m('a'), m('b', { priority: 2, waiting: 1 })])), { a: 3, b: 1 });
  // Running runs are never taken back: priority decides only free slots.
  assert.deepEqual(obj(allocate(4, [m('a', { running: 3 }), m('b', { priority: 2 })])), { a: 3, b: 1 });
});

void test('max_slots caps a sweep; nothing is granted without a queued run', () => {
  assert.deepEqual(obj(allocate(3, [m('a', { maxSlots: 1 }), m('b')])), { a: 1, b: 2 });
  assert.deepEqual(obj(allocate(3, [m('a', { waiting: 0 }), m('b', { waiting: 1 })])), { a: 0, b: 1 });
});

void test('runs of different sizes pack: a free GPU goes to a queued run that fits', () => {
  // 4 GPUs: big runs take 2, small ones 1. Big holds 2, 2 are free.
  assert.deepEqual(obj(allocate(4, [m('big', { cost: 2, running: 1 }), m('small')])), { big: 1, small: 2 });
  // 3 free: one big run (2) and one small (1), none idle.
  assert.deepEqual(obj(allocate(3, [m('big', { cost: 2 }), m('small', { waiting: 5 })])), { big: 1, small: 1 });
  // 1 free and only a big run is queued: it waits, nothing else could use the GPU.
  assert.deepEqual(obj(allocate(3, [m('big', { cost: 2, running: 1 }), m('small', { waiting: 0 })])), { big: 1, small: 0 });
});

void test('SlotShare applies allowances, counts starts and ends, and takes turns', () => {
  const applied = new Map<string, number>();
  const share = new SlotShare(2);
  for (const id of ['a', 'b']) share.add({ sweepId: id, apply: (n) => applied.set(id, n) });
  share.update('a', { waiting: 5 });
  share.update('b', { waiting: 5 });
  share.rebalance();
  assert.deepEqual(obj(applied), { a: 1, b: 1 });
  assert.ok(share.mayStart('a'));
  share.started('a');
  assert.equal(share.mayStart('a'), false, 'a holds its one slot');
  share.update('b', { maxSlots: 1, priority: 1 });
  share.started('b');
  share.ended('a');
  assert.deepEqual(obj(applied), { a: 1, b: 1 }, 'b is capped at 1: the freed slot goes back to a');
  share.remove('b');
  share.rebalance();
  assert.equal(applied.get('a'), 2, 'alone, a may use both slots');
});
