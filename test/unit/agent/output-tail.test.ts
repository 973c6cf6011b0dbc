import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputTail } from '../../../agent/output-tail.js';
import { LineSplitter } from '../../../agent/line-splitter.js';
import { OUTPUT_TAIL_BYTES } from '../../../protocol/wire.js';

void test('output shorter than the bound is kept whole, in arrival order', () => {
  const tail = new OutputTail(100);
  tail.append(Buffer.from('out 1\n'));
  tail.append(Buffer.from('err 1\n'));
  tail.append(Buffer.from('out 2'));
  assert.equal(tail.text(), 'out 1\nerr 1\nout 2');
});

void test('the tail keeps the newest bytes, starting at a line, within the bound', () => {
  const tail = new OutputTail(64);
  for (let i = 0; i < 100; i++) tail.append(Buffer.from(`line ${i}\n`));
  const text = tail.text();
  assert.ok(Buffer.byteLength(text) <= 64);
  assert.ok(text.endsWith('line 99\n'));
  assert.match(text, /^line \d+\n/);
  // Exactly the last complete lines that fit: "line 9x\n" is 8 bytes, so 8 of them.
  assert.equal(text, Array.from({ length: 8 }, (_, k) => `line ${92 + k}\n`).join(''));
});

void test('one chunk larger than the bound keeps its end', () => {
  const tail = new OutputTail(10);
  tail.append(Buffer.from('0123456789abcdefghij'));
  assert.equal(tail.text(), 'abcdefghij');
});

void test('a cut never splits a UTF-8 character', () => {
  const tail = new OutputTail(7);
  // 'é' is 2 bytes: 'aé' * 4 = 12 bytes; the last 7 bytes begin inside an 'é'.
  tail.append(Buffer.from('aéaéaéaé'));
  const text = tail.text();
  assert.ok(!text.includes('\uFFFD'), JSON.stringify(text));
  assert.equal(text, 'aéaé');
});

void test('memory stays bounded under a flood of small chunks', () => {
  const tail = new OutputTail(OUTPUT_TAIL_BYTES);
  for (let i = 0; i < 100_000; i++) tail.append(Buffer.from(`${i}\n`));
  const text = tail.text();
  assert.ok(Buffer.byteLength(text) <= OUTPUT_TAIL_BYTES);
  assert.ok(Buffer.byteLength(text) > OUTPUT_TAIL_BYTES - 16);
  assert.ok(text.endsWith('99999\n'));
});

void test('line splitter: CRLF, partial lines, characters split across chunks', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push(Buffer.from('a=1\r\nb=')), ['a=1']);
  const euro = Buffer.from('€'); // 3 bytes
  assert.deepEqual(s.push(Buffer.concat([Buffer.from('2 '), euro.subarray(0, 1)])), []);
  assert.deepEqual(s.push(Buffer.concat([euro.subarray(1), Buffer.from('\n\nlast')])), ['b=2 €', '']);
  assert.deepEqual(s.end(), ['last']);
  assert.deepEqual(s.end(), []);
});

void test('line splitter: a line longer than the limit is cut into pieces', () => {
  const s = new LineSplitter(4);
  assert.deepEqual(s.push('abcdefghij'), ['abcd', 'efgh']);
  assert.deepEqual(s.push('\n'), ['ij']);
});
